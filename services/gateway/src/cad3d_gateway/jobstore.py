"""Job state in a JetStream KV bucket: survives any gateway or dispatcher process.

Updates use optimistic concurrency (the KV revision), so the API (e.g. cancel) and a dispatcher
never overwrite each other's changes.

Keys in the bucket (KV keys are NATS subject tokens, so tenants and API keys are hex-encoded):

- ``<job id>``: the JobRecord. Job ids are time-ordered, so sorting them sorts by creation.
- ``idx.<tenant hex>.<job id>``: the tenant's job index, so a listing reads only its own keys
  (a subject-filtered key listing) rather than every job in the bucket. Written before the job.
- ``active.<key hex>.<job id>``: a job of this API key that is not finished yet; counting them
  enforces the per-key concurrent-job limit across all gateway replicas. Written only for jobs
  created while that limit is configured (``JobRecord.counted``): without a limit nothing reads
  them, and the write and the delete were two of the few JetStream round trips of a job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from cad3d_gateway.models import JobRecord, JobStatus

JOBS_BUCKET = "cad3d_jobs"

# A job record with the KV revision it was read or written at.
Revision = tuple[JobRecord, int]


class JobNotFound(KeyError):
    pass


def token(text: str) -> str:
    """Any tenant or key name as a safe KV key token."""
    return text.encode().hex() or "00"


def index_key(tenant: str, job_id: str) -> str:
    return f"idx.{token(tenant)}.{job_id}"


def active_key(key_id: str, job_id: str) -> str:
    return f"active.{token(key_id)}.{job_id}"


class JobStore:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def create(self, job: JobRecord) -> None:
        # The index entries first: a job is never listed-less or uncounted, only briefly listed-early
        # (a listing skips ids whose record is not there yet).
        index = [self.kv.put(index_key(job.tenant, job.id), b"")]
        if job.counted and not job.status.terminal:
            index.append(self.kv.put(active_key(job.key_id, job.id), b""))
        await asyncio.gather(*index)
        await self.kv.create(job.id, job.model_dump_json().encode())

    async def get(self, job_id: str) -> JobRecord | None:
        try:
            entry = await self.kv.get(job_id)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return JobRecord.model_validate_json(entry.value)

    async def _keys(self, pattern: str) -> list[str]:
        """Keys matching a subject pattern, filtered by the server (nats-py's keys() filters client-side)."""
        watcher = await self.kv.watch(pattern, meta_only=True, ignore_deletes=True)
        keys = []
        try:
            async for entry in watcher:
                if entry is None:  # the end of the current values
                    break
                keys.append(entry.key)
        finally:
            await watcher.stop()
        return keys

    async def job_ids(self, tenant: str) -> list[str]:
        """The tenant's job ids, newest first."""
        prefix = f"idx.{token(tenant)}."
        return sorted((k[len(prefix) :] for k in await self._keys(prefix + "*")), reverse=True)

    async def active_count(self, key_id: str) -> int:
        return len(await self._keys(f"active.{token(key_id)}.*"))

    async def release(self, job: JobRecord) -> None:
        """The job no longer counts against its key's concurrent-job limit."""
        if not job.counted:
            return
        with contextlib.suppress(Exception):
            await self.kv.delete(active_key(job.key_id, job.id))

    async def list(
        self, tenant: str, *, after: str | None, limit: int, status: JobStatus | None
    ) -> tuple[list[JobRecord], str | None]:
        """A page of the tenant's jobs, newest first, starting after the cursor ``after``.

        Returns the page and the cursor of the next page (None on the last page).
        """
        ids = [i for i in await self.job_ids(tenant) if after is None or i < after]
        page: list[JobRecord] = []
        for position, job_id in enumerate(ids):
            job = await self.get(job_id)
            if job is None or (status is not None and job.status != status):
                continue
            page.append(job)
            if len(page) == limit:
                more = position + 1 < len(ids)
                return page, (job_id if more else None)
        return page, None

    async def update(
        self, job_id: str, change: Callable[[JobRecord], JobRecord | None], known: Revision | None = None
    ) -> JobRecord:
        """Apply ``change`` atomically; returning None from it means "leave as is".

        ``known`` is the record and KV revision this caller wrote last (see ``update_revision``): the
        change is then tried on it without reading the record first, and only a conflict (someone
        else wrote since) costs the read.
        """
        return (await self.update_revision(job_id, change, known))[0]

    async def update_revision(
        self, job_id: str, change: Callable[[JobRecord], JobRecord | None], known: Revision | None = None
    ) -> Revision:
        """``update``, also returning the KV revision of the record as left (for a later ``known``)."""
        for _ in range(50):
            guessed = known is not None
            if known is not None:
                (current, revision), known = known, None
                draft = current.model_copy(deep=True)  # ``change`` mutates its argument
            else:
                try:
                    entry = await self.kv.get(job_id)
                except KeyNotFoundError:
                    raise JobNotFound(job_id) from None
                if entry.value is None or entry.revision is None:
                    raise JobNotFound(job_id)
                current, revision = JobRecord.model_validate_json(entry.value), entry.revision
                # A second parse of the stored bytes is a much cheaper copy than a deep copy.
                draft = JobRecord.model_validate_json(entry.value)
            updated = change(draft)
            if updated is None:
                if guessed:  # "leave as is" judged on what may be stale: judge the stored record
                    continue
                return current, revision
            try:
                revision = await self.kv.update(job_id, updated.model_dump_json().encode(), last=revision)
            except KeyWrongLastSequenceError:
                if not guessed:
                    await asyncio.sleep(0.01)
                continue
            if updated.status.terminal and not current.status.terminal:
                await self.release(updated)
            return updated, revision
        raise RuntimeError(f"job {job_id} is updated too often to change")
