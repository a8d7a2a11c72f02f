"""Whether the artifact store takes writes: a small write and delete, at most every few seconds.

Listing a bucket or checking a folder's mode says nothing about a full disk, a read-only mount or
revoked write permission, all of which fail every upload; only a write does.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from cad3d_kit.storage import ArtifactStore

PROBE_PREFIX = "_probes"


def probe_write(store: ArtifactStore, replica: str) -> None:
    """Write and delete one small object (blocking); raises what the store raised."""
    prefix = f"{PROBE_PREFIX}/{replica}"
    try:
        store.put(f"{prefix}/{secrets.token_hex(4)}", b"probe", "text/plain")
    finally:
        store.delete_prefix(prefix)


class StorageProbe:
    """The last probe's verdict, refreshed at most every ``interval`` seconds (probes are not free)."""

    def __init__(self, store: ArtifactStore, interval: float) -> None:
        self.store, self.interval = store, interval
        self.replica = secrets.token_hex(6)
        self._checked = -float("inf")
        self._verdict = "ok"
        self._lock = asyncio.Lock()

    async def check(self) -> str:
        """ "ok", or the error of the last write probe."""
        async with self._lock:
            if time.monotonic() - self._checked >= self.interval:
                try:
                    await asyncio.wait_for(asyncio.to_thread(self.store.check), 5.0)
                    await asyncio.wait_for(asyncio.to_thread(probe_write, self.store, self.replica), 5.0)
                    self._verdict = "ok"
                except Exception as exc:
                    self._verdict = f"error: {type(exc).__name__}: {exc}"
                self._checked = time.monotonic()
            return self._verdict
