"""Public conversion API under /v1."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from cad3d_gateway.auth import Principal, require
from cad3d_gateway.dispatcher import publish_job_event
from cad3d_gateway.metrics import JOBS_FINISHED
from cad3d_gateway.models import JobPage, JobRecord, JobStatus, JobView, utcnow
from cad3d_gateway.problems import Problem, ProblemError
from cad3d_gateway.submission import (
    Submission,
    check_admission,
    no_cache,
    submit,
)
from cad3d_gateway.waiting import TERMINAL_EVENTS, event_name, wait_until_finished
from cad3d_kit.messaging import decode_event
from cad3d_kit.storage import ObjectNotFound

log = logging.getLogger("cad3d.gateway.api")

router = APIRouter(prefix="/v1", tags=["conversions"])

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in {
        400: "The multipart body could not be read (boundary, a file name or form field past its limits)",
        401: "Missing or invalid API key",
        403: "The key lacks the scope",
        404: "No such job or artifact for this key",
        413: "Upload too large",
        415: "Unsupported input type",
        422: "Invalid options or request (or an Idempotency-Key reused for other content)",
        429: "Rate limit of this API key reached (see Retry-After and RateLimit headers)",
        503: "Not ready, over capacity, or the job queue or artifact store unavailable (see Retry-After)",
        507: "Storage quota of this API key used up, or the artifact store full",
    }.items()
}


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


def job_response(request: Request, job: JobRecord, status_code: int, headers: dict[str, str]) -> Response:
    view = JobView.of(job, base_url(request))
    # Serialised by pydantic in one step (the same compact JSON as JSONResponse of model_dump).
    return Response(
        view.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"Location": view.links.self, **headers},
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
    callback_url: Annotated[
        str | None, Form(description="Webhook: this URL gets the finished job as a signed POST.")
    ] = None,
) -> Response:
    state = request.app.state
    await check_admission(state, principal)
    submission = Submission(
        file.file, file.filename, options, use_cache=not no_cache(cache_control), callback_url=callback_url
    )
    outcome = await submit(state, principal, submission, idempotency_key)
    job = outcome.job
    if outcome.replayed:
        return job_response(request, job, 200 if job.status.terminal else 202, {"Idempotent-Replayed": "true"})
    if outcome.cached:
        return job_response(request, job, 200, {"X-Cache": "hit"})
    status_code = 202
    headers: dict[str, str] = {}
    wait = parse_prefer_wait(prefer, state.settings.max_wait_seconds)
    if wait > 0:
        job = await wait_until_finished(state.job_events, state.jobs, job.id, wait) or job
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
        307: {"description": "Redirect to a short-lived presigned URL (when CAD3D_GATEWAY_S3_PUBLIC_URL is set)"},
        200: {"description": "The artifact, streamed by the gateway"},
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
    store, settings = request.app.state.store, request.app.state.settings
    # Only with a public address: the store's own endpoint is usually in-cluster, unreachable for clients.
    url = None
    if settings.s3_public_url:
        expires = timedelta(seconds=settings.presign_seconds)
        url = await asyncio.to_thread(store.presigned_url, artifact.key, expires, settings.s3_public_url)
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
        if job.callback_url:
            await state.webhooks.enqueue(job)
    if await asyncio.to_thread(state.store.exists, job.input.key):
        await state.stored_bytes.add(job.key_id, -job.input.size)
    await asyncio.to_thread(state.store.delete_prefix, job.prefix)
    return JobView.of(job, base_url(request))


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
    # Follow before reading the state, so nothing happens in between unseen; the one read both
    # checks the id and access and opens the stream (a rejected id closes its queue again).
    events = state.job_events
    queue = events.open(job_id)
    try:
        job = await load_job(request, job_id, principal)
    except BaseException:
        events.close(job_id, queue)
        raise
    base = base_url(request)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield sse("status", JobView.of(job, base).model_dump(mode="json"))
            if job.status.terminal:
                return
            while True:
                try:
                    msg = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    current = await state.jobs.get(job_id)
                    if current is None or current.status.terminal:  # its final event was missed
                        if current is not None:
                            yield sse(current.status.value, JobView.of(current, base).model_dump(mode="json"))
                        return
                    yield b": keep-alive\n\n"
                    continue
                event = decode_event(msg.data)
                name = event_name(msg)
                yield sse(name, event.get("data", {}), str(event.get("id", "")) or None)
                if name in TERMINAL_EVENTS:
                    return
        finally:
            events.close(job_id, queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        # Also after a stream that never started (the client left first); closing twice is harmless.
        background=BackgroundTask(events.close, job_id, queue),
    )
