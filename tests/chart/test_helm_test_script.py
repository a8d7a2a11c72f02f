"""The `helm test` script (charts/cad3d/files/smoke_test.py) passes against a real local stack and
fails, naming the step, when a component is not healthy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chart.chart_support import CHART_DIR
from tests.support.servers import free_port, nats_server, start_gateway, start_service, storage_env

pytestmark = pytest.mark.e2e

SCRIPT = CHART_DIR / "files" / "smoke_test.py"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("helm-test-stack")
    storage = storage_env(None, workdir / "artifacts", "cad3d")
    with nats_server(workdir) as nats_url:
        dxf, dxf_address = start_service("dxf", workdir, storage)
        try:
            gateway, gateway_url = start_gateway(workdir, storage, nats_url, {"dxf": dxf_address})
            try:
                yield {"gateway": gateway_url, "dxf": dxf_address}
            finally:
                gateway.stop()
        finally:
            dxf.stop()


def run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=120
    )


def test_smoke_script_passes_against_a_healthy_stack(stack: dict[str, str]) -> None:
    result = run_script(
        {
            "GATEWAY_URL": stack["gateway"],
            "GRPC_TARGETS": f"{stack['dxf']}=cad3d.dxf.v1.DxfService",
            "TIMEOUT_SECONDS": "60",
        }
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok conversion" in result.stdout and result.stdout.rstrip().endswith("PASS")


def test_smoke_script_names_the_failing_step(stack: dict[str, str]) -> None:
    dead = f"127.0.0.1:{free_port()}"
    result = run_script(
        {"GATEWAY_URL": stack["gateway"], "GRPC_TARGETS": f"{dead}=cad3d.pdf.v1.PdfService", "TIMEOUT_SECONDS": "5"}
    )
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL grpc-health") and "cad3d.pdf.v1.PdfService" in result.stdout


def test_smoke_script_fails_when_the_gateway_is_down(tmp_path: Path) -> None:
    result = run_script({"GATEWAY_URL": f"http://127.0.0.1:{free_port()}", "TIMEOUT_SECONDS": "5"})
    assert result.returncode != 0
