"""Both artifact stores behind one contract: the local folder and S3 (moto's server, minio client)."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cad3d_kit.storage import ArtifactStore, LocalArtifactStore, ObjectNotFound, S3ArtifactStore, measure_stream
from tests.support.servers import S3Server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    if request.param == "local":
        yield LocalArtifactStore(tmp_path)
    else:
        s3: S3Server = request.getfixturevalue("s3")
        yield S3ArtifactStore(
            s3.endpoint, s3.access_key, s3.secret_key, f"t-{uuid.uuid4().hex[:12]}", secure=False, create_bucket=True
        )


def test_put_get_roundtrip_with_hash(store: ArtifactStore) -> None:
    data = b"solid cube\n" * 1000
    stored = store.put("tenants/a/jobs/1/outputs/model.stl", data, "model/stl")
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get("tenants/a/jobs/1/outputs/model.stl") == data
    assert b"".join(store.open_chunks(stored.key)) == data
    assert store.exists(stored.key)
    store.check()


def test_streamed_put_of_a_large_object(store: ArtifactStore) -> None:
    payload = bytes(range(256)) * (12 * 1024 * 4)  # 12 MiB: bigger than the in-memory spool
    stored = store.put_stream("big/blob.bin", io.BytesIO(payload), "application/octet-stream")
    assert stored.size == len(payload)
    assert hashlib.sha256(store.get("big/blob.bin")).hexdigest() == stored.sha256


def test_missing_object_raises_not_found(store: ArtifactStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("no/such/key")
    assert not store.exists("no/such/key")


def test_delete_prefix_removes_only_that_job(store: ArtifactStore) -> None:
    store.put("tenants/a/jobs/1/x", b"1", "text/plain")
    store.put("tenants/a/jobs/1/y/z", b"2", "text/plain")
    store.put("tenants/a/jobs/10/x", b"3", "text/plain")
    assert store.delete_prefix("tenants/a/jobs/1") == 2
    assert not store.exists("tenants/a/jobs/1/x")
    assert store.get("tenants/a/jobs/10/x") == b"3"


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "a//b", "a\\b", "a/./b", "", "a/\x00"])
def test_hostile_keys_are_refused(store: ArtifactStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put(key, b"x", "text/plain")


def test_presigned_urls_only_for_s3(store: ArtifactStore) -> None:
    store.put("p/q.txt", b"hello", "text/plain")
    url = store.presigned_url("p/q.txt", timedelta(minutes=1))
    if isinstance(store, LocalArtifactStore):
        assert url is None
    else:
        assert url is not None
        assert httpx.get(url).content == b"hello"


def test_copy_is_independent_of_its_source(store: ArtifactStore) -> None:
    store.put("tenants/a/jobs/1/outputs/model.stl", b"solid a\n", "model/stl")
    store.copy("tenants/a/jobs/1/outputs/model.stl", "tenants/a/jobs/2/outputs/model.stl")
    assert store.get("tenants/a/jobs/2/outputs/model.stl") == b"solid a\n"
    # Replacing or deleting the source leaves the copy as it was.
    store.put("tenants/a/jobs/1/outputs/model.stl", b"solid b\n", "model/stl")
    assert store.get("tenants/a/jobs/2/outputs/model.stl") == b"solid a\n"
    store.delete_prefix("tenants/a/jobs/1")
    assert store.get("tenants/a/jobs/2/outputs/model.stl") == b"solid a\n"
    with pytest.raises(ObjectNotFound):
        store.copy("tenants/a/jobs/1/outputs/model.stl", "tenants/a/jobs/3/outputs/model.stl")
    with pytest.raises(ValueError, match="invalid object key"):
        store.copy("tenants/a/jobs/2/outputs/model.stl", "../escape")


def test_measure_stream_hashes_and_rewinds() -> None:
    stream = io.BytesIO(b"x" * 3_000_000)
    stream.read(10)
    assert measure_stream(stream) == (3_000_000, hashlib.sha256(b"x" * 3_000_000).hexdigest())
    assert stream.tell() == 0


def test_presigned_url_for_a_public_address(s3: S3Server, tmp_path: Path) -> None:
    assert LocalArtifactStore(tmp_path).presigned_url("p/x", timedelta(minutes=1), "https://files.example.com") is None
    store = S3ArtifactStore(
        s3.endpoint, s3.access_key, s3.secret_key, f"t-{uuid.uuid4().hex[:12]}", secure=False, create_bucket=True
    )
    store.put("p/public.txt", b"outside", "text/plain")
    port = s3.endpoint.rsplit(":", 1)[1]
    # The same server under another name: the signature must be for the name the client uses.
    url = store.presigned_url("p/public.txt", timedelta(minutes=1), f"http://localhost:{port}")
    assert url is not None and url.startswith(f"http://localhost:{port}/")
    assert httpx.get(url).content == b"outside"
