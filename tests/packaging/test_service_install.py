"""Each service installs alone into a fresh virtual environment and starts until its health check
reports SERVING: the contract its container image relies on. Reports the installed size.

Size targets (issue 7): gateway, dxf, pdf at most 300 MB; depth (CPU) at most 500 MB. The size is
that of the virtual environment without compiled bytecode (the image compiles it at build time,
which adds roughly a tenth); the python:3.11-slim base image adds its own ~125 MB.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.packaging.dockerfile_support import REPO_ROOT, SERVICES
from tests.packaging.service_env import (
    clean_environment,
    install_service,
    installed_bytes,
    installed_distributions,
    largest_entries,
    system_libraries,
    uv_binary,
)
from tests.support.servers import free_port, grpc_serving, http_ok, nats_server, wait_until

SIZE_LIMITS_MB = {"gateway": 300, "dxf": 300, "pdf": 300, "depth": 500}
GRPC_SERVICE_NAMES = {
    "dxf": "cad3d.dxf.v1.DxfService",
    "pdf": "cad3d.pdf.v1.PdfService",
    "depth": "cad3d.depth.v1.DepthService",
}
OTHER_MEMBERS = {"cad3d-gateway", "cad3d-dxf", "cad3d-pdf", "cad3d-depth", "cad3d-cli"}
DEV_TOOLS = {"pytest", "ruff", "mypy", "moto", "hypothesis", "helm-python-sdk", "grpcio-tools"}
STANDIN_MODEL = REPO_ROOT / "models" / "midas_standin_256" / "1" / "model.onnx"
START_TIMEOUT_S = 90
# What python:3.11-slim-bookworm ships: glibc, libgcc, libstdc++ and zlib (all of Debian's
# "required" set). Anything else would need an apt-get line in the runtime stage.
BASE_IMAGE_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libz.so.1",
}
# Measured overruns the owning service has to resolve; the test turns back into a hard check as
# soon as the size is within target (the entry can then be deleted).
KNOWN_OVER_TARGET = {
    "pdf": (
        "pdf installs ~396 MB (target 300): opencv-python-headless is ~153 MB of it (cv2 + its bundled "
        "libs; LSD line detection for scans needs it), pymupdf 1.28 60 MB, numpy 59 MB. pymupdf is pinned "
        "below 2.0, which would add onnxruntime, networkx and pymupdf-layout (~140 MB)."
    ),
}

# One environment per service, shared by its tests; the xdist group keeps them on one worker.
_environments: dict[str, Path] = {}


SERVICE_PARAMS = [pytest.param(s, marks=pytest.mark.xdist_group(f"packaging-{s}"), id=s) for s in SERVICES]


def per_service(test: object) -> object:
    for mark in (pytest.mark.slow, pytest.mark.parametrize("service", SERVICE_PARAMS)):
        test = mark(test)
    return test


@pytest.fixture
def service_venv(service: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if service not in _environments:
        uv = uv_binary()
        if uv is None:
            pytest.skip("uv is not installed (make install puts it in .tools/bin)")
        target, result = install_service(uv, service, tmp_path_factory.mktemp(f"image-{service}"))
        assert result.returncode == 0, f"{' '.join(result.args)}\n{result.stderr[-3000:]}"
        _environments[service] = target
    return _environments[service]


def require_entry_module(service: str) -> None:
    module = REPO_ROOT / "services" / service / "src" / f"cad3d_{service}" / "__main__.py"
    if not module.is_file():
        pytest.skip(f"console script cad3d-{service} points at cad3d_{service}.__main__, which does not exist yet")


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=clean_environment(env), cwd=log.parent)


def stop(proc: subprocess.Popen[bytes], log: Path) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            pytest.fail(f"did not stop within 30 s of SIGTERM:\n{log.read_text(errors='replace')[-3000:]}")
    return int(proc.returncode)


def wait_or_fail(check: object, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_until(check, START_TIMEOUT_S, what, proc)  # type: ignore[arg-type]
    except (TimeoutError, RuntimeError) as error:
        stop(proc, log)
        pytest.fail(f"{error}\n{log.read_text(errors='replace')[-3000:]}")


def grpc_service_env(service: str, port: int, workdir: Path) -> dict[str, str]:
    prefix = f"CAD3D_{service.upper()}_"
    env = {
        prefix + "GRPC_PORT": str(port),
        prefix + "METRICS_PORT": "0",
        prefix + "STORAGE_BACKEND": "local",
        prefix + "STORAGE_DIR": str(workdir / "artifacts"),
        prefix + "LOG_LEVEL": "INFO",
    }
    if service == "depth":
        if not STANDIN_MODEL.is_file():
            pytest.skip("the stand-in depth model is missing: run `make models`")
        env |= {
            prefix + "BACKEND": "onnxruntime",
            prefix + "MODEL_NAME": "midas_standin_256",
            prefix + "MODEL_PATH": str(STANDIN_MODEL),
        }
    return env


@per_service
def test_installs_alone_within_its_size_target(service: str, service_venv: Path) -> None:
    names = installed_distributions(service_venv / "bin" / "python")
    assert {f"cad3d-{service}", "cad3d-kit"} <= names
    assert not names & (OTHER_MEMBERS - {f"cad3d-{service}"}), "another member leaked in"
    assert not names & DEV_TOOLS, f"dev tools leaked in: {names & DEV_TOOLS}"
    assert (service_venv / "bin" / f"cad3d-{service}").is_file(), "console script missing"
    size_mb = installed_bytes(service_venv) / 1e6
    print(f"\ncad3d-{service}: installed size {size_mb:.0f} MB (target <= {SIZE_LIMITS_MB[service]} MB)")
    if service in KNOWN_OVER_TARGET and size_mb > SIZE_LIMITS_MB[service]:
        pytest.xfail(KNOWN_OVER_TARGET[service])
    assert size_mb <= SIZE_LIMITS_MB[service], f"largest parts (MB): {largest_entries(service_venv)}"


@per_service
def test_native_code_needs_only_what_the_slim_base_image_has(service: str, service_venv: Path) -> None:
    try:
        needed = system_libraries(service_venv)
    except FileNotFoundError:
        pytest.skip("ldd is not available on this machine")
    extra = {name: sorted(users)[:3] for name, users in needed.items() if name not in BASE_IMAGE_LIBRARIES}
    assert extra == {}, "libraries the runtime image would lack"


@per_service
def test_starts_alone_until_healthy(service: str, service_venv: Path, tmp_path: Path) -> None:
    require_entry_module(service)
    port = free_port()
    log = tmp_path / f"{service}.log"
    script = str(service_venv / "bin" / f"cad3d-{service}")
    if service != "gateway":
        proc = start([script], grpc_service_env(service, port, tmp_path), log)
        wait_or_fail(lambda: grpc_serving(f"127.0.0.1:{port}", GRPC_SERVICE_NAMES[service]), "SERVING", proc, log)
        assert stop(proc, log) == 0, log.read_text(errors="replace")[-3000:]
        return
    with nats_server(tmp_path) as nats_url:
        env = {
            "CAD3D_GATEWAY_HTTP_HOST": "127.0.0.1",
            "CAD3D_GATEWAY_HTTP_PORT": str(port),
            "CAD3D_GATEWAY_NATS_URL": nats_url,
            "CAD3D_GATEWAY_STORAGE_BACKEND": "local",
            "CAD3D_GATEWAY_STORAGE_DIR": str(tmp_path / "artifacts"),
        }
        proc = start([script], env, log)
        wait_or_fail(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), "/healthz", proc, log)
        code = stop(proc, log)
    # uvicorn re-raises SIGTERM once its graceful shutdown is complete.
    assert code in (0, -signal.SIGTERM), log.read_text(errors="replace")[-3000:]
    assert "Application shutdown complete" in log.read_text(errors="replace")
