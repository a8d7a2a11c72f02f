"""`helm test` smoke check, run inside the gateway image (Python stdlib plus grpcio from cad3d-kit).

1. Every gRPC service answers grpc.health.v1 with SERVING for its full service name.
2. Triton (when enabled) answers /v2/health/ready.
3. The gateway answers /healthz and /readyz with 200.
4. A tiny DXF (a closed 10 x 10 square) converts to GLB through the public API.

Configured by environment: GATEWAY_URL, GRPC_TARGETS ("host:port=service,..."), TRITON_URL, API_KEY,
TIMEOUT_SECONDS. Exits non-zero with a message naming the failed step.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import NoReturn

TIMEOUT = float(os.environ.get("TIMEOUT_SECONDS", "120"))

# A minimal R12 DXF: one closed polyline, enough for an extrusion to a solid.
TINY_DXF = "\n".join(
    [
        "0", "SECTION", "2", "ENTITIES",
        "0", "POLYLINE", "8", "0", "66", "1", "70", "1",
        "0", "VERTEX", "8", "0", "10", "0.0", "20", "0.0", "30", "0.0",
        "0", "VERTEX", "8", "0", "10", "10.0", "20", "0.0", "30", "0.0",
        "0", "VERTEX", "8", "0", "10", "10.0", "20", "10.0", "30", "0.0",
        "0", "VERTEX", "8", "0", "10", "0.0", "20", "10.0", "30", "0.0",
        "0", "SEQEND",
        "0", "ENDSEC", "0", "EOF", "",
    ]
).encode()  # fmt: skip


def fail(step: str, detail: str) -> NoReturn:
    print(f"FAIL {step}: {detail}", flush=True)
    sys.exit(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand: a presigned S3 URL must not get the API key header."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    authorize: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    all_headers = dict(headers or {})
    api_key = os.environ.get("API_KEY", "")
    if api_key and authorize:
        all_headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(url, data=body, method=method, headers=all_headers)  # noqa: S310
    try:
        with _OPENER.open(req, timeout=TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        if error.code in (301, 302, 303, 307, 308) and error.headers.get("Location"):
            location = urllib.parse.urljoin(url, error.headers["Location"])
            return request(location, authorize=False)
        return error.code, dict(error.headers), error.read()


def check_grpc_health() -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    for entry in filter(None, os.environ.get("GRPC_TARGETS", "").split(",")):
        target, _, service = entry.partition("=")
        with grpc.insecure_channel(target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            except grpc.RpcError as error:
                fail("grpc-health", f"{target} {service}: {error}")
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                fail("grpc-health", f"{target} {service}: status {reply.status}")
        print(f"ok grpc health {target} {service}", flush=True)


def check_http_health() -> None:
    triton = os.environ.get("TRITON_URL", "")
    if triton:
        status, _, _ = request(f"{triton}/v2/health/ready")
        if status != 200:
            fail("triton-ready", f"status {status}")
        print("ok triton ready", flush=True)
    gateway = os.environ["GATEWAY_URL"]
    for path in ("/healthz", "/readyz"):
        status, _, body = request(gateway + path)
        if status != 200:
            fail(f"gateway{path}", f"status {status}: {body[:300]!r}")
        print(f"ok gateway {path}", flush=True)


def multipart(fields: dict[str, tuple[str | None, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, (filename, media_type, data) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        header = f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {media_type}\r\n\r\n"
        parts.append(header.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def check_conversion() -> None:
    gateway = os.environ["GATEWAY_URL"]
    body, content_type = multipart(
        {
            "file": ("square.dxf", "application/dxf", TINY_DXF),
            "options": (None, "application/json", json.dumps({"format": "glb"}).encode()),
        }
    )
    headers = {"Content-Type": content_type, "Prefer": f"wait={int(TIMEOUT / 2)}"}
    status, _, raw = request(f"{gateway}/v1/conversions", method="POST", body=body, headers=headers)
    if status not in (200, 201, 202):
        fail("convert-submit", f"status {status}: {raw[:300]!r}")
    job = json.loads(raw)
    deadline = time.monotonic() + TIMEOUT
    while job.get("status") not in ("succeeded", "failed", "canceled"):
        if time.monotonic() > deadline:
            fail("convert-wait", f"job {job.get('id')} still {job.get('status')}")
        time.sleep(1)
        status, _, raw = request(f"{gateway}/v1/conversions/{job['id']}")
        if status != 200:
            fail("convert-status", f"status {status}: {raw[:300]!r}")
        job = json.loads(raw)
    if job["status"] != "succeeded":
        fail("convert-result", json.dumps(job)[:500])
    artifacts = job.get("artifacts") or []
    glb = next((a for a in artifacts if str(a.get("name", "")).endswith(".glb")), None)
    if glb is None:
        fail("convert-artifacts", f"no GLB among {[a.get('name') for a in artifacts]}")
    href = glb.get("href") or f"{gateway}/v1/conversions/{job['id']}/artifacts/{glb['name']}"
    status, _, data = request(urllib.parse.urljoin(gateway + "/", href))
    if status != 200 or data[:4] != b"glTF":
        fail("convert-download", f"status {status}, first bytes {data[:4]!r}")
    print(f"ok conversion {job['id']}: {glb['name']} {len(data)} bytes", flush=True)


def main() -> None:
    check_grpc_health()
    check_http_health()
    check_conversion()
    print("PASS", flush=True)


if __name__ == "__main__":
    main()
