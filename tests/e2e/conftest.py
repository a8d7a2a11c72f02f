"""Fixtures of the job API tests: one dxf service for all their modules, and API key files."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from minio import Minio

from cad3d_gateway.auth import hash_key
from tests.support.servers import Process, S3Server, nats_server, start_gateway, start_service, storage_env

JOBS_BUCKET = "cad3d-jobs-api"
# Every gateway on JOBS_BUCKET agrees on retention, as replicas of one deployment do: each sets the
# bucket's lifecycle rule at start-up, so a different value would depend on start-up order.
JOBS_GATEWAY_ENV = {"CAD3D_GATEWAY_S3_LIFECYCLE_DAYS": "3"}


@dataclass(frozen=True)
class Keys:
    file: Path
    plain: dict[str, str]  # key name -> the secret a client sends

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plain[name]}"}


def write_keys(workdir: Path, names: dict[str, tuple[str, list[str]]]) -> Keys:
    """names: key id -> (tenant, scopes)."""
    plain = {name: f"key-{name}" for name in names}
    entries = [
        {"id": name, "tenant": tenant, "sha256": hash_key(plain[name]), "scopes": scopes}
        for name, (tenant, scopes) in names.items()
    ]
    path = workdir / "keys.json"
    path.write_text(json.dumps({"keys": entries}))
    return Keys(path, plain)


@pytest.fixture(scope="session")
def jobs_minio(s3: S3Server) -> Minio:
    client = Minio(s3.endpoint, access_key=s3.access_key, secret_key=s3.secret_key, secure=False)
    if not client.bucket_exists(JOBS_BUCKET):
        client.make_bucket(JOBS_BUCKET)
    return client


@pytest.fixture(scope="session")
def jobs_storage(s3: S3Server, jobs_minio: Minio) -> dict[str, str]:
    return storage_env(s3, None, JOBS_BUCKET)


@dataclass(frozen=True)
class Service:
    process: Process
    address: str


@pytest.fixture(scope="session")
def dxf_service(tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str]) -> Iterator[Service]:
    process, address = start_service("dxf", tmp_path_factory.mktemp("jobs-dxf"), jobs_storage)
    yield Service(process, address)
    process.stop()


class Api:
    def __init__(self, url: str, keys: Keys, process: Process) -> None:
        self.url, self.keys, self.process = url, keys, process
        self.client = httpx.Client(base_url=url, timeout=60)

    def post(self, name: str, data: bytes, options: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        return self.client.post(
            "/v1/conversions",
            files={"file": ("drawing.dxf", data)},
            data={"options": json.dumps(options or {"format": "stl", "height": 5})},
            headers={**self.keys.auth(name), **{k.replace("_", "-"): v for k, v in headers.items()}},
        )

    def get(self, name: str, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, headers=self.keys.auth(name), params=params)

    def wait_for(self, name: str, job_id: str, statuses: set[str], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job: dict[str, Any] = self.get(name, f"/v1/conversions/{job_id}").json()
            if job["status"] in statuses:
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} not {statuses} within {timeout} s: {job}")


WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], dxf_service: Service) -> Iterator[Api]:
    """The job API gateway, on a nats-server of its own: a gateway sharing one would dispatch its jobs."""
    workdir = tmp_path_factory.mktemp("jobs-api")
    keys = write_keys(
        workdir,
        {
            "alice": ("alice", ["read", "write"]),
            "reader": ("alice", ["read"]),
            "bob": ("bob", ["read", "write"]),
            "carol": ("carol", ["read", "write"]),
        },
    )
    with nats_server(workdir) as nats_url:
        yield from _serve_api(workdir, jobs_storage, nats_url, dxf_service, keys)


def _serve_api(workdir: Path, jobs_storage: dict[str, str], nats_url: str, dxf: Service, keys: Keys) -> Iterator[Api]:
    process, url = start_gateway(
        workdir,
        jobs_storage,
        nats_url,
        {"dxf": dxf.address},
        {
            **JOBS_GATEWAY_ENV,
            "CAD3D_GATEWAY_API_KEYS_FILE": str(keys.file),
            "CAD3D_GATEWAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "CAD3D_GATEWAY_WEBHOOK_ALLOW_HOSTS": '["127.0.0.1"]',
            "CAD3D_GATEWAY_WEBHOOK_RETRY_BASE_SECONDS": "0.3",
            "CAD3D_GATEWAY_WEBHOOK_MAX_ATTEMPTS": "3",
            "CAD3D_GATEWAY_MAX_BATCH_FILES": "5",
            "CAD3D_GATEWAY_MAX_BATCH_UNPACKED_BYTES": str(4 << 20),
        },
    )
    api = Api(url, keys, process)
    yield api
    api.client.close()
    process.stop()
