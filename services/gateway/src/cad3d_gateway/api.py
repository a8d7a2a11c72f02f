"""Public conversion API under /v1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse

from cad3d_gateway import idempotency
from cad3d_gateway.auth import Principal, require
from cad3d_gateway.cache import acopy_artifacts, reusable
from cad3d_gateway.dispatcher import job_subject, publish_job_event
from cad3d_gateway.metrics import CACHE_LOOKUPS, JOBS_CREATED, JOBS_FINISHED, REJECTED
from cad3d_gateway.models import InputInfo, JobPage, JobRecord, JobStatus, JobView, utcnow
from cad3d_gateway.options import parse_options
from cad3d_gateway.problems import Problem, ProblemError
from cad3d_kit.detect import detect
from cad3d_kit.messaging import EVENTS_SUBJECT_PREFIX, decode_event
from cad3d_kit.storage import ObjectNotFound

log = logging.getLogger("cad3d.gateway.api")

router = APIRouter(prefix="/v1", tags=["conversions"])

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in {
        401: "Missing or invalid API key",
        403: "The key lacks the scope",
        404: "No such job or artifact for this key",
        413: "Upload too large",
        415: "Unsupported input type",
        422: "Invalid options or request (or an Idempotency-Key reused for other content)",
        429: "Rate limit of this API key reached (see Retry-After and RateLimit headers)",
        503: "Not ready or over capacity (see Retry-After)",
        507: "Storage quota of this API key used up",
    }.items()
}


def new_job_id() -> str:
    # Time-ordered, so job listings sort by creation without another index.
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def safe_filename(name: str | None) -> str:
    """The client's file name reduced to a harmless label; never used as a path."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = re.sub(r"\s+", " ", base).strip(" .")
    return base[:200] or "upload"


def base_url(request: Request) -> str:
    configured = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def parse_prefer_wait(prefer: str | None, ceiling: float) -> float:
    """RFC 7240 ``Prefer: wait=N`` (also inside a list with other preferences)."""
    if not prefer:
        return 0.0
    match = re.search(r"(?:^|[,;\s])wait\s*=\s*\"?(\d+(?:\.\d+)?)", prefer, re.I)
    return min(float(match.group(1)), ceiling) if match else 0.0


async def load_job(request: Request, job_id: str, principal: Principal) -> JobRecord:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise ProblemError(404, "job_not_found", "No such conversion")
    job = await request.app.state.jobs.get(job_id)
    # Another tenant's job is indistinguishable from a missing one.
    if job is None or job.tenant != principal.tenant:
        raise ProblemError(404, "job_not_found", "No such conversion")
    return job


def no_cache(cache_control: str | None) -> bool:
    return bool(cache_control) and any(
        part.strip().lower() in ("no-cache", "no-store") for part in (cache_control or "").split(",")
    )


async def check_admission(request: Request, principal: Principal) -> None:
    """Refuse work that cannot be done now (queue) or that this key may not add (its limits)."""
    state = request.app.state
    state.queue_depth.check()
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


async def replay(request: Request, job_id: str) -> JobRecord:
    """The job an earlier request with the same Idempotency-Key made (its record may be seconds behind)."""
    for _ in range(40):
        job: JobRecord | None = await request.app.state.jobs.get(job_id)
        if job is not None:
            return job
        await asyncio.sleep(0.05)
    raise ProblemError(409, "idempotent_request_in_progress", "The earlier request with this key is still running")


async def from_cache(request: Request, job: JobRecord) -> JobRecord | None:
    """The job finished from the result cache, or None on a miss."""
    state = request.app.state
    key = await state.cache.lookup_key(job.tenant, job.kind, job.input.sha256, job.options)
    source_id = await state.cache.source_job_id(key) if key else None
    source = await state.jobs.get(source_id) if source_id else None
    if not reusable(source, job.tenant):
        CACHE_LOOKUPS.labels("miss").inc()
        return None
    assert source is not None
    try:
        artifacts = await acopy_artifacts(state.store, source, job)
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


def job_response(request: Request, job: JobRecord, status_code: int, headers: dict[str, str]) -> JSONResponse:
    view = JobView.of(job, base_url(request))
    return JSONResponse(
        view.model_dump(mode="json"), status_code=status_code, headers={"Location": view.links.self, **headers}
    )


@router.post(
    "/conversions",
    status_code=202,
    response_model=JobView,
    responses={
        200: {"model": JobView, "description": "Finished within Prefer: wait, or from the cache"},
        **PROBLEM_RESPONSES,
    },
    summary="Start a conversion",
)
async def create_conversion(
    request: Request,
    file: Annotated[UploadFile, File(description="DXF/DWG drawing, PDF, or photo (JPEG/PNG/WebP/TIFF).")],
    principal: Annotated[Principal, Depends(require("write"))],
    options: Annotated[str | None, Form(description="Conversion options as a JSON object.")] = None,
    prefer: Annotated[str | None, Header(description="RFC 7240, e.g. wait=30")] = None,
    idempotency_key: Annotated[
        str | None, Header(description="Retries with the same key and content return the same job.")
    ] = None,
    cache_control: Annotated[
        str | None, Header(description="no-cache: convert again, ignoring the result cache")
    ] = None,
) -> JSONResponse:
    state = request.app.state
    await check_admission(request, principal)
    head = await file.read(4096)
    await file.seek(0)
    detected = detect(head)
    if detected is None:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported input",
            "send a DXF or DWG drawing, a PDF, or a JPEG/PNG/WebP/TIFF photo",
        )
    if not state.backends.supports(detected.kind):
        raise ProblemError(415, "kind_not_enabled", f"{detected.kind} input is not enabled on this server")
    job_options = parse_options(detected.kind, options)
    if idempotency_key is not None:
        idempotency.validate(idempotency_key)
    job_id = new_job_id()
    key = f"tenants/{principal.tenant}/jobs/{job_id}/input/source.{detected.extension}"
    stored = await asyncio.to_thread(state.store.put_stream, key, file.file, detected.media_type)
    if stored.size == 0:
        await asyncio.to_thread(state.store.delete_prefix, f"tenants/{principal.tenant}/jobs/{job_id}")
        raise ProblemError(422, "empty_upload", "The uploaded file is empty")
    if idempotency_key is not None:
        fingerprint = idempotency.fingerprint(stored.sha256, job_options)
        try:
            earlier = await idempotency.claim(state.jobs.kv, principal.tenant, idempotency_key, fingerprint, job_id)
        except ProblemError:
            await asyncio.to_thread(state.store.delete_prefix, f"tenants/{principal.tenant}/jobs/{job_id}")
            raise
        if earlier is not None:
            await asyncio.to_thread(state.store.delete_prefix, f"tenants/{principal.tenant}/jobs/{job_id}")
            job = await replay(request, earlier)
            return job_response(request, job, 200 if job.status.terminal else 202, {"Idempotent-Replayed": "true"})
    job = JobRecord(
        id=job_id,
        tenant=principal.tenant,
        key_id=principal.key_id,
        kind=detected.kind,
        input=InputInfo(
            filename=safe_filename(file.filename),
            media_type=detected.media_type,
            size=stored.size,
            sha256=stored.sha256,
            key=key,
        ),
        options=job_options,
        use_cache=not no_cache(cache_control),
    )
    await state.stored_bytes.add(principal.key_id, stored.size)
    cached = await from_cache(request, job) if job.use_cache else None
    if not job.use_cache:
        CACHE_LOOKUPS.labels("bypass").inc()
    if cached is not None:
        await state.jobs.create(cached)
        JOBS_CREATED.labels(job.kind).inc()
        JOBS_FINISHED.labels(job.kind, "succeeded").inc()
        await publish_job_event(state.js, cached, "succeeded", {"cached": True})
        return job_response(request, cached, 200, {"X-Cache": "hit"})
    await state.jobs.create(job)
    await state.js.publish(job_subject(job.kind), job.id.encode(), msg_id=job.id)
    JOBS_CREATED.labels(job.kind).inc()
    await publish_job_event(state.js, job, "created")
    status_code = 202
    headers: dict[str, str] = {}
    wait = parse_prefer_wait(prefer, state.settings.max_wait_seconds)
    if wait > 0:
        job = await state.jobs.wait_terminal(job.id, wait) or job
        if job.status.terminal:
            status_code = 200
        headers["Preference-Applied"] = f"wait={wait:g}"
    return job_response(request, job, status_code, headers)


@router.get("/conversions", response_model=JobPage, responses=PROBLEM_RESPONSES, summary="The caller's conversions")
async def list_conversions(
    request: Request,
    principal: Annotated[Principal, Depends(require("read"))],
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page.", pattern=r"^[0-9a-f]{32}$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page.")] = 20,
) -> JobPage:
    """Newest first. The cursor is the last job id of the previous page (job ids are time-ordered)."""
    jobs, next_cursor = await request.app.state.jobs.list(principal.tenant, after=cursor, limit=limit, status=status)
    base = base_url(request)
    next_url = None
    if next_cursor:
        query = f"cursor={next_cursor}&limit={limit}" + (f"&status={status.value}" if status else "")
        next_url = f"{base}/v1/conversions?{query}"
    return JobPage(items=[JobView.of(j, base) for j in jobs], next_cursor=next_cursor, next=next_url)


@router.get("/conversions/{job_id}", response_model=JobView, responses=PROBLEM_RESPONSES, summary="A conversion")
async def get_conversion(
    request: Request, job_id: str, principal: Annotated[Principal, Depends(require("read"))]
) -> JobView:
    return JobView.of(await load_job(request, job_id, principal), base_url(request))


@router.get(
    "/conversions/{job_id}/artifacts/{name}",
    responses={
        307: {"description": "Redirect to a short-lived presigned URL"},
        200: {"description": "The artifact (local store)"},
        **PROBLEM_RESPONSES,
    },
    summary="Download an artifact",
    response_model=None,
)
async def get_artifact(
    request: Request, job_id: str, name: str, principal: Annotated[Principal, Depends(require("read"))]
) -> StreamingResponse | RedirectResponse:
    from datetime import timedelta

    job = await load_job(request, job_id, principal)
    artifact = next((a for a in job.artifacts if a.name == name), None)
    if artifact is None:
        raise ProblemError(404, "artifact_not_found", "No such artifact", f"this job has no artifact {name!r}")
    store = request.app.state.store
    url = await asyncio.to_thread(
        store.presigned_url, artifact.key, timedelta(seconds=request.app.state.settings.presign_seconds)
    )
    if url:
        return RedirectResponse(url, status_code=307)
    try:
        chunks = await asyncio.to_thread(store.open_chunks, artifact.key)
    except ObjectNotFound:
        raise ProblemError(404, "artifact_not_found", "The artifact is no longer stored") from None
    return StreamingResponse(
        chunks,
        media_type=artifact.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{artifact.name}"',
            "Content-Length": str(artifact.size),
            "ETag": f'"{artifact.sha256}"',
        },
    )


@router.delete(
    "/conversions/{job_id}",
    response_model=JobView,
    responses=PROBLEM_RESPONSES,
    summary="Cancel a conversion and delete its files",
)
async def delete_conversion(
    request: Request, job_id: str, principal: Annotated[Principal, Depends(require("write"))]
) -> JobView:
    """A queued or running job is canceled (its running service call is stopped). The input and all
    artifacts are deleted in every case; the job record stays, without artifacts, until it expires."""
    state = request.app.state
    job = await load_job(request, job_id, principal)
    was_terminal = job.status.terminal

    def cancel(j: JobRecord) -> JobRecord:
        if not j.status.terminal:
            j.status, j.stage, j.finished_at = JobStatus.canceled, "canceled", utcnow()
        j.artifacts = []
        return j

    job = await state.jobs.update(job_id, cancel)
    if not was_terminal and job.status == JobStatus.canceled:
        JOBS_FINISHED.labels(job.kind, "canceled").inc()
        await publish_job_event(state.js, job, "canceled")
    if await asyncio.to_thread(state.store.exists, job.input.key):
        await state.stored_bytes.add(job.key_id, -job.input.size)
    await asyncio.to_thread(state.store.delete_prefix, job.prefix)
    return JobView.of(job, base_url(request))


TERMINAL_EVENTS = ("succeeded", "failed", "canceled")
KEEPALIVE_SECONDS = 15.0


def sse(event: str, data: object, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id:
        lines.append(f"id: {event_id}")
    lines.append(f"data: {json.dumps(data, separators=(',', ':'), default=str)}")
    return ("\n".join(lines) + "\n\n").encode()


@router.get(
    "/conversions/{job_id}/events",
    responses={
        200: {
            "description": "Server-sent events: `status` (the job now), then `progress`, `started`, and one "
            "of `succeeded`, `failed`, `canceled`, after which the stream ends.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **PROBLEM_RESPONSES,
    },
    response_class=StreamingResponse,
    summary="Follow a conversion's progress",
)
async def conversion_events(
    request: Request, job_id: str, principal: Annotated[Principal, Depends(require("read"))]
) -> StreamingResponse:
    state = request.app.state
    await load_job(request, job_id, principal)
    # Subscribe before reading the state, so nothing happens in between unseen.
    subscription = await state.js.nc.subscribe(f"{EVENTS_SUBJECT_PREFIX}.jobs.{job_id}.>")
    base = base_url(request)

    async def stream() -> AsyncIterator[bytes]:
        try:
            job = await state.jobs.get(job_id)
            if job is None:
                return
            yield sse("status", JobView.of(job, base).model_dump(mode="json"))
            if job.status.terminal:
                return
            while True:
                try:
                    msg = await subscription.next_msg(timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    current = await state.jobs.get(job_id)
                    if current is None or current.status.terminal:  # its final event was missed
                        if current is not None:
                            yield sse(current.status.value, JobView.of(current, base).model_dump(mode="json"))
                        return
                    yield b": keep-alive\n\n"
                    continue
                event = decode_event(msg.data)
                name = msg.subject.rsplit(".", 1)[-1]
                yield sse(name, event.get("data", {}), str(event.get("id", "")) or None)
                if name in TERMINAL_EVENTS:
                    return
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
