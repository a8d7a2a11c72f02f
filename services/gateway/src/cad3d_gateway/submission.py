"""Accepting one upload as a job: validation, storage, idempotency, result cache, queueing.

Shared by ``POST /v1/conversions`` (one file) and ``POST /v1/batches`` (many).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from nats.errors import Error as NatsError

from cad3d_gateway import idempotency
from cad3d_gateway.auth import Principal
from cad3d_gateway.cache import acopy_result, reusable
from cad3d_gateway.dispatcher import publish_job_event
from cad3d_gateway.images import check_pixels
from cad3d_gateway.jobqueue import job_subject
from cad3d_gateway.metrics import CACHE_LOOKUPS, JOBS_CREATED, JOBS_FINISHED, REJECTED
from cad3d_gateway.models import InputInfo, JobRecord, JobStatus, utcnow
from cad3d_gateway.options import parse_options
from cad3d_gateway.problems import ProblemError, is_storage_error, queue_problem, storage_problem
from cad3d_gateway.webhooks import check_callback_url
from cad3d_kit.detect import detect
from cad3d_kit.storage import ObjectNotFound, ameasure_stream, aput_stream

log = logging.getLogger("cad3d.gateway.submission")


def new_job_id() -> str:
    # Time-ordered, so job listings sort by creation without another index.
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def safe_filename(name: str | None) -> str:
    """The client's file name reduced to a harmless label; never used as a path."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip(" .")
    return base[:200] or "upload"


def no_cache(cache_control: str | None) -> bool:
    return bool(cache_control) and any(
        part.strip().lower() in ("no-cache", "no-store") for part in (cache_control or "").split(",")
    )


async def check_admission(state: Any, principal: Principal) -> None:
    """Refuse work this key may not add now (its limits); the queue is checked per kind in submit."""
    limit = state.settings.max_active_jobs_per_key
    if limit and await state.jobs.active_count(principal.key_id) >= limit:
        REJECTED.labels("active_jobs").inc()
        raise ProblemError(
            429,
            "too_many_active_jobs",
            "This API key has too many unfinished conversions",
            f"at most {limit} at once; wait for one to finish or cancel one",
            {"Retry-After": "5"},
        )
    await state.stored_bytes.check(principal.key_id)


async def replay(state: Any, job_id: str) -> JobRecord:
    """The job an earlier request with the same Idempotency-Key made (its record may be seconds behind)."""
    for _ in range(40):
        job: JobRecord | None = await state.jobs.get(job_id)
        if job is not None:
            return job
        await asyncio.sleep(0.05)
    raise ProblemError(409, "idempotent_request_in_progress", "The earlier request with this key is still running")


async def from_cache(state: Any, job: JobRecord) -> JobRecord | None:
    """The job finished from the result cache, or None on a miss."""
    key = await state.cache.lookup_key(job.tenant, job.kind, job.input.sha256, job.options)
    source_id = await state.cache.source_job_id(key) if key else None
    source = await state.jobs.get(source_id) if source_id else None
    if not reusable(source, job.tenant):
        CACHE_LOOKUPS.labels("miss").inc()
        return None
    assert source is not None
    try:
        artifacts = await acopy_result(state.store, source, job)
    except ObjectNotFound:  # the source's artifacts expired or were deleted: convert again
        CACHE_LOOKUPS.labels("miss").inc()
        return None
    CACHE_LOOKUPS.labels("hit").inc()
    now = utcnow()
    return job.model_copy(
        update={
            "status": JobStatus.succeeded,
            "stage": "done",
            "progress": 100.0,
            "started_at": now,
            "finished_at": now,
            "artifacts": artifacts,
            "report": source.report,
            "warnings": source.warnings,
            "converter_version": source.converter_version,
            "cached_from": source.id,
        }
    )


@dataclass
class Submission:
    stream: BinaryIO
    filename: str | None
    options: str | None
    use_cache: bool = True
    callback_url: str | None = None
    batch_id: str | None = None


@dataclass(frozen=True)
class Submitted:
    job: JobRecord
    replayed: bool = False
    cached: bool = False


def unsupported() -> ProblemError:
    return ProblemError(
        415,
        "unsupported_media_type",
        "Unsupported input",
        "send a DXF or DWG drawing, a PDF, or a JPEG/PNG/WebP/TIFF photo",
    )


async def submit(
    state: Any, principal: Principal, submission: Submission, idempotency_key: str | None = None
) -> Submitted:
    """Store the upload and queue its job (or finish it from the cache); ProblemError when refused."""
    head = submission.stream.read(4096)
    submission.stream.seek(0)
    detected = detect(head)
    if detected is None:
        raise unsupported()
    if not state.backends.supports(detected.kind):
        raise ProblemError(415, "kind_not_enabled", f"{detected.kind} input is not enabled on this server")
    state.queue_depth.check(detected.kind)
    if not state.js.nc.is_connected:  # refuse at once, before anything is stored
        raise queue_problem()
    if detected.kind == "image":
        await asyncio.to_thread(check_pixels, submission.stream, state.settings.max_image_pixels)
    job_options = read_options(detected.kind, submission.options)
    if idempotency_key is not None:
        idempotency.validate(idempotency_key)
    if submission.callback_url:
        await check_callback_url(submission.callback_url, state.settings)
    job_id = new_job_id()
    key = f"tenants/{principal.tenant}/jobs/{job_id}/input/source.{detected.extension}"
    # Hash before storing anything: a cache hit or an idempotent replay then writes no input, and a
    # hit copies the earlier job's input server-side instead (the upload is already spooled locally).
    size, sha256 = await ameasure_stream(submission.stream)
    if idempotency_key is not None:
        fingerprint = idempotency.fingerprint(sha256, job_options)
        earlier = await idempotency.claim(state.jobs.kv, principal.tenant, idempotency_key, fingerprint, job_id)
        if earlier is not None:
            return Submitted(await replay(state, earlier), replayed=True)
    job = JobRecord(
        id=job_id,
        tenant=principal.tenant,
        key_id=principal.key_id,
        kind=detected.kind,
        input=InputInfo(
            filename=safe_filename(submission.filename),
            media_type=detected.media_type,
            size=size,
            sha256=sha256,
            key=key,
        ),
        options=job_options,
        use_cache=submission.use_cache,
        callback_url=submission.callback_url,
        batch_id=submission.batch_id,
        counted=state.settings.max_active_jobs_per_key > 0,
    )
    cached = await from_cache(state, job) if job.use_cache else None
    if not job.use_cache:
        CACHE_LOOKUPS.labels("bypass").inc()
    await state.stored_bytes.add(principal.key_id, size)
    if cached is not None:
        await state.jobs.create(cached)
        JOBS_CREATED.labels(job.kind).inc()
        JOBS_FINISHED.labels(job.kind, "succeeded").inc()
        await publish_job_event(state.js, cached, "succeeded", {"cached": True})
        if cached.callback_url:
            await state.webhooks.enqueue(cached)
        return Submitted(cached, cached=True)
    try:
        # Never empty here: detection needed the first bytes.
        await aput_stream(state.store, key, submission.stream, detected.media_type, size)
    except Exception as exc:
        await _undo(state, job, idempotency_key, stored=False)
        if is_storage_error(exc):
            raise storage_problem(exc) from exc
        raise
    try:
        # The message first: a record without one would stay queued for ever, while a message
        # without a record (NATS failed in between) is dropped by the dispatcher after a grace.
        await state.js.publish(job_subject(job.kind), job.id.encode(), msg_id=job.id)
        await state.jobs.create(job)
    except (NatsError, TimeoutError) as exc:
        # Nothing would ever run the job: leave no record, no input and no claim behind.
        await _undo(state, job, idempotency_key, stored=True)
        raise queue_problem(exc) from exc
    await publish_job_event(state.js, job, "created")
    JOBS_CREATED.labels(job.kind).inc()
    return Submitted(job)


def read_options(kind: str, options: str | None) -> dict[str, Any]:
    try:
        return parse_options(kind, options)
    except RecursionError:  # JSON nested past the parser's recursion limit
        raise ProblemError(422, "invalid_options", "Invalid options", "the options nest too deeply") from None


async def _undo(state: Any, job: JobRecord, idempotency_key: str | None, *, stored: bool) -> None:
    """Best effort (NATS or the store may still be down): what an accepted-then-refused job left."""
    steps: list[Awaitable[Any]] = [state.stored_bytes.add(job.key_id, -job.input.size), state.jobs.kv.delete(job.id)]
    if stored:
        steps.append(asyncio.to_thread(state.store.delete_prefix, job.prefix))
    if idempotency_key is not None:
        steps.append(idempotency.release(state.jobs.kv, job.tenant, idempotency_key))
    for outcome in await asyncio.gather(*(asyncio.wait_for(step, 5.0) for step in steps), return_exceptions=True):
        if isinstance(outcome, Exception):
            log.warning("could not undo part of refused job %s: %r", job.id, outcome)
