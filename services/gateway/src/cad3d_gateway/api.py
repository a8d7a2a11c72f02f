"""Public conversion API under /v1."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
import unicodedata
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse

from cad3d_gateway.auth import Principal, require
from cad3d_gateway.dispatcher import job_subject, publish_job_event
from cad3d_gateway.metrics import JOBS_CREATED
from cad3d_gateway.models import InputInfo, JobRecord, JobView
from cad3d_gateway.options import parse_options
from cad3d_gateway.problems import Problem, ProblemError
from cad3d_kit.detect import detect
from cad3d_kit.storage import ObjectNotFound

router = APIRouter(prefix="/v1", tags=["conversions"])

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in {
        401: "Missing or invalid API key",
        403: "The key lacks the scope",
        404: "No such job or artifact for this key",
        413: "Upload too large",
        415: "Unsupported input type",
        422: "Invalid options or request",
        503: "Not ready or over capacity",
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


@router.post(
    "/conversions",
    status_code=202,
    response_model=JobView,
    responses={200: {"model": JobView, "description": "Finished within Prefer: wait"}, **PROBLEM_RESPONSES},
    summary="Start a conversion",
)
async def create_conversion(
    request: Request,
    file: Annotated[UploadFile, File(description="DXF/DWG drawing, PDF, or photo (JPEG/PNG/WebP/TIFF).")],
    principal: Annotated[Principal, Depends(require("write"))],
    options: Annotated[str | None, Form(description="Conversion options as a JSON object.")] = None,
    prefer: Annotated[str | None, Header(description="RFC 7240, e.g. wait=30")] = None,
) -> JSONResponse:
    state = request.app.state
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
    job_id = new_job_id()
    key = f"tenants/{principal.tenant}/jobs/{job_id}/input/source.{detected.extension}"
    stored = await asyncio.to_thread(state.store.put_stream, key, file.file, detected.media_type)
    if stored.size == 0:
        raise ProblemError(422, "empty_upload", "The uploaded file is empty")
    job = JobRecord(
        id=job_id,
        tenant=principal.tenant,
        kind=detected.kind,
        input=InputInfo(
            filename=safe_filename(file.filename),
            media_type=detected.media_type,
            size=stored.size,
            sha256=stored.sha256,
            key=key,
        ),
        options=job_options,
    )
    await state.jobs.create(job)
    await state.js.publish(job_subject(job.kind), job.id.encode(), msg_id=job.id)
    JOBS_CREATED.labels(job.kind).inc()
    await publish_job_event(state.js, job, "created")
    status_code = 202
    wait = parse_prefer_wait(prefer, state.settings.max_wait_seconds)
    if wait > 0:
        job = await state.jobs.wait_terminal(job.id, wait) or job
        if job.status.terminal:
            status_code = 200
    view = JobView.of(job, base_url(request))
    headers = {"Location": view.links.self}
    if wait > 0:
        headers["Preference-Applied"] = f"wait={wait:g}"
    return JSONResponse(view.model_dump(mode="json"), status_code=status_code, headers=headers)


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
