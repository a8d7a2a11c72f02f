"""Fixtures of the job API tests: one dxf service for all their modules, and API key files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio import Minio

from cad3d_gateway.auth import hash_key
from tests.support.servers import Process, S3Server, start_service, storage_env

JOBS_BUCKET = "cad3d-jobs-api"


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
