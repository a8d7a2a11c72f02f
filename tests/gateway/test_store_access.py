"""The async store helpers the gateway and services use: small local objects are handled in place,
large ones and object storage in a worker thread; the bytes and hashes are the same either way."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from cad3d_kit import storage
from cad3d_kit.storage import INLINE_MAX_BYTES, LocalArtifactStore, ObjectNotFound


class Recording(LocalArtifactStore):
    """A local store that notes which thread each write ran on."""

    threads: list[str]

    def put_stream(self, key: str, stream: io.BufferedIOBase, media_type: str) -> storage.StoredObject:  # type: ignore[override]
        self.threads.append(threading.current_thread().name)
        return super().put_stream(key, stream, media_type)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [10, INLINE_MAX_BYTES + 1])
async def test_put_and_get_round_trip_on_the_right_thread(tmp_path: Path, size: int) -> None:
    store = Recording(tmp_path)
    store.threads = []
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    stored = await storage.aput(store, "jobs/a/model.stl", data, "model/stl")
    assert stored.size == size and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert await storage.aget(store, "jobs/a/model.stl") == data
    on_loop = store.threads == [threading.current_thread().name]
    assert on_loop == (size <= INLINE_MAX_BYTES)


async def test_measure_then_store_a_stream(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    stream = io.BytesIO(b"0\nSECTION\n")
    size, sha = await storage.ameasure_stream(stream)
    assert (size, sha) == (10, hashlib.sha256(b"0\nSECTION\n").hexdigest())
    stored = await storage.aput_stream(store, "jobs/b/input/source.dxf", stream, "image/vnd.dxf", size)
    assert (stored.size, stored.sha256) == (size, sha)


async def test_missing_and_escaping_keys(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(ObjectNotFound):
        await storage.aget(store, "jobs/none/source.dxf")
    for key in ("../outside", "/etc/passwd", "a//b", "a/./b"):
        with pytest.raises(ValueError):
            await storage.aget(store, key)
