"""Helpers for `make run`: prepare local state (folders, dev API key, env file) and announce readiness.

`prepare` writes var/local/stack.env, read by honcho for every process of the Procfile. `announce`
is itself a Procfile process: it waits for /readyz and prints where to open cad3d.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "var" / "local"
PORTS = {
    "gateway HTTP": int(os.environ.get("CAD3D_LOCAL_HTTP_PORT", "8080")),
    "NATS": 4222,
    "dxf gRPC": 50051,
    "pdf gRPC": 50052,
    "depth gRPC": 50053,
}


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def dev_key() -> str:
    key_file, keyring = LOCAL / "dev-api-key", LOCAL / "api-keys.json"
    if key_file.exists() and keyring.exists():
        return key_file.read_text().strip()
    key = "c3d_dev_" + secrets.token_urlsafe(24)
    digest = hashlib.sha256(key.encode()).hexdigest()
    keyring.write_text(
        json.dumps(
            {"keys": [{"id": "dev", "tenant": "dev", "sha256": digest, "scopes": ["read", "write", "admin"]}]}, indent=2
        )
    )
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def stack_env(model: Path) -> dict[str, str]:
    """Environment of every process of the local stack: everything binds to loopback only."""
    env = {
        "CAD3D_LOCAL_HTTP_PORT": str(PORTS["gateway HTTP"]),
        "CAD3D_GATEWAY_HTTP_PORT": str(PORTS["gateway HTTP"]),
        "CAD3D_GATEWAY_HTTP_HOST": "127.0.0.1",
        "CAD3D_GATEWAY_STORAGE_DIR": str(LOCAL / "artifacts"),
        "CAD3D_GATEWAY_API_KEYS_FILE": str(LOCAL / "api-keys.json"),
        "CAD3D_GATEWAY_NATS_URL": "nats://127.0.0.1:4222",
        "CAD3D_GATEWAY_DXF_ADDRESS": "127.0.0.1:50051",
        "CAD3D_GATEWAY_PDF_ADDRESS": "127.0.0.1:50052",
        "CAD3D_GATEWAY_DEPTH_ADDRESS": "127.0.0.1:50053",
        "CAD3D_GATEWAY_LOG_JSON": "false",
    }
    for name, port, metrics in (("DXF", 50051, 9101), ("PDF", 50052, 9102), ("DEPTH", 50053, 9103)):
        env |= {
            f"CAD3D_{name}_GRPC_HOST": "127.0.0.1",
            f"CAD3D_{name}_GRPC_PORT": str(port),
            f"CAD3D_{name}_METRICS_PORT": str(metrics),
            f"CAD3D_{name}_METRICS_HOST": "127.0.0.1",
            f"CAD3D_{name}_STORAGE_DIR": str(LOCAL / "artifacts"),
            f"CAD3D_{name}_LOG_JSON": "false",
            f"CAD3D_{name}_SHUTDOWN_GRACE_SECONDS": "10",
        }
    env["CAD3D_DEPTH_BACKEND"] = "onnxruntime"
    env["CAD3D_DEPTH_MODEL_PATH"] = str(model)
    return env


def prepare() -> None:
    busy = [f"{name} ({port})" for name, port in PORTS.items() if not port_free(port)]
    if busy:
        sys.exit(f"cannot start: ports in use: {', '.join(busy)}. Is another `make run` running?")
    for folder in ("artifacts", "nats"):
        (LOCAL / folder).mkdir(parents=True, exist_ok=True)
    dev_key()
    model = next((ROOT / "models").glob("*standin*/1/model.onnx"), None)
    if model is None:  # the depth service would refuse to start and take the stack down with it
        sys.exit("no depth model under models/: run `make models` (make run does it for you)")
    env = stack_env(model)
    (LOCAL / "stack.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))


def announce(timeout: float = 120.0) -> None:
    port = int(os.environ.get("CAD3D_LOCAL_HTTP_PORT", "8080"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    break
        except urllib.error.HTTPError as exc:
            last = exc.read().decode(errors="replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    else:
        print(f"cad3d did not become ready within {timeout:.0f} s; last answer: {last}", flush=True)
    key = (LOCAL / "dev-api-key").read_text().strip()
    print(
        "\n"
        f"  cad3d is ready:  {url}\n"
        f"  API docs:        {url}/docs\n"
        f"  dev API key:     {key}\n"
        f"  try:  curl -H 'Authorization: Bearer {key}' -H 'Prefer: wait=30' \\\n"
        f'          -F file=@plan.dxf -F \'options={{"format":"glb"}}\' {url}/v1/conversions\n'
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    while True:  # honcho stops the whole stack when any process exits
        time.sleep(3600)


if __name__ == "__main__":
    {"prepare": prepare, "announce": announce}[sys.argv[1]]()
