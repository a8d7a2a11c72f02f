"""A dxf service outage against real processes (reliability finding 3): jobs queued while the
service is down wait (status ``queued``, the stage saying so, no attempt used) and all succeed
within seconds of its start, however many tries the outage cost; and a 5xx from the real HTTP
server closes its connection."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import JOBS_GATEWAY_ENV
from tests.support.fixtures import plate_with_hole
from tests.support.servers import (
    BIN,
    Process,
    await_service,
    free_port,
    http_ok,
    launch_service,
    nats_server,
    start_process,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

OUTAGE_SECONDS = 8.0


def start_gateway_unready(
    workdir: Path, storage: dict[str, str], nats_url: str, dxf: str, env: dict[str, str]
) -> tuple[Process, str]:
    """A gateway whose service is down: it is live (/healthz) but not ready, which start_gateway waits for."""
    port = free_port()
    full_env = {
        "CAD3D_GATEWAY_HTTP_HOST": "127.0.0.1",
        "CAD3D_GATEWAY_HTTP_PORT": str(port),
        "CAD3D_GATEWAY_NATS_URL": nats_url,
        "CAD3D_GATEWAY_DXF_ADDRESS": dxf,
        **{k.replace("PREFIX_", "CAD3D_GATEWAY_"): v for k, v in storage.items()},
        **env,
    }
    process = start_process("gateway", [str(BIN / "cad3d-gateway")], workdir, full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/healthz"), 60, "cad3d-gateway", process.proc)
    except Exception:
        process.stop()
        raise
    return process, url


def test_jobs_queued_during_a_service_outage_all_succeed(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str]
) -> None:
    workdir = tmp_path_factory.mktemp("outage")
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = {
        **JOBS_GATEWAY_ENV,
        "CAD3D_GATEWAY_JOB_MAX_ATTEMPTS": "2",
        "CAD3D_GATEWAY_RETRY_BASE_SECONDS": "0.5",
        "CAD3D_GATEWAY_RETRY_MAX_DELAY_SECONDS": "1",
    }
    with nats_server(workdir) as nats_url:
        gateway, url = start_gateway_unready(workdir, jobs_storage, nats_url, address, env)
        service = None
        try:
            client = httpx.Client(base_url=url, timeout=30)
            jobs = []
            for width in (11, 12, 13):
                created = client.post(
                    "/v1/conversions",
                    files={"file": ("p.dxf", plate_with_hole(width, 7, 2))},
                    data={"options": '{"format": "stl", "height": 1}'},
                )
                assert created.status_code == 202, created.text
                jobs.append(created.json()["id"])
            time.sleep(OUTAGE_SECONDS)  # many more tries than job_max_attempts
            for job_id in jobs:
                job = client.get(f"/v1/conversions/{job_id}").json()
                assert job["status"] == "queued" and job["attempts"] == 0, job
                assert job["stage"].startswith("waiting for the dxf service"), job

            ready = client.get("/readyz")  # the dxf backend is down: a 503 that closes its connection
            assert ready.status_code == 503 and ready.headers["connection"] == "close"

            service, _ = launch_service("dxf", Path(workdir), jobs_storage, {"CAD3D_DXF_GRPC_PORT": str(port)})
            await_service(service, address)
            back = time.monotonic()
            deadline = back + 30
            for job_id in jobs:
                while (job := client.get(f"/v1/conversions/{job_id}").json())["status"] in ("queued", "running"):
                    assert time.monotonic() < deadline, f"not finished 30 s after the service came back: {job}"
                    time.sleep(0.1)
                assert job["status"] == "succeeded" and job["attempts"] == 1, job
            assert time.monotonic() - back < 15
        finally:
            if service is not None:
                service.stop()
            gateway.stop()
