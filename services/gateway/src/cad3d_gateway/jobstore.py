"""Job state in a JetStream KV bucket: survives any gateway or dispatcher process.

Updates use optimistic concurrency (the KV revision), so the API (e.g. cancel) and a dispatcher
never overwrite each other's changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from cad3d_gateway.models import JobRecord

JOBS_BUCKET = "cad3d_jobs"


class JobNotFound(KeyError):
    pass


class JobStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def create(self, job: JobRecord) -> None:
        await self.kv.create(job.id, job.model_dump_json().encode())

    async def get(self, job_id: str) -> JobRecord | None:
        try:
            entry = await self.kv.get(job_id)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return JobRecord.model_validate_json(entry.value)

    async def update(self, job_id: str, change: Callable[[JobRecord], JobRecord | None]) -> JobRecord:
        """Apply ``change`` atomically; returning None from it means "leave as is"."""
        for _ in range(20):
            try:
                entry = await self.kv.get(job_id)
            except KeyNotFoundError:
                raise JobNotFound(job_id) from None
            if entry.value is None:
                raise JobNotFound(job_id)
            current = JobRecord.model_validate_json(entry.value)
            updated = change(current.model_copy(deep=True))
            if updated is None:
                return current
            try:
                await self.kv.update(job_id, updated.model_dump_json().encode(), last=entry.revision)
                return updated
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0.01)
        raise RuntimeError(f"job {job_id} is updated too often to change")

    async def wait_terminal(self, job_id: str, timeout: float) -> JobRecord | None:
        """The job once it is finished, or its latest state when ``timeout`` runs out."""
        job = await self.get(job_id)
        if job is None or job.status.terminal or timeout <= 0:
            return job
        watcher = await self.kv.watch(job_id, include_history=False)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (left := deadline - loop.time()) > 0:
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    entry = await watcher.updates(timeout=left)
                    if entry is not None and entry.value:
                        job = JobRecord.model_validate_json(entry.value)
                        if job.status.terminal:
                            return job
            return await self.get(job_id)
        finally:
            await watcher.stop()
