"""Batches: many files (or one zip of them) in one request, one job each, and a batch report.

The batch record (its files, their job ids, and files refused on their own) lives in the jobs KV
bucket as ``batch.<id>``; the report is built from the jobs' current state on each GET and served
as JSON, CSV or HTML by the ``Accept`` header.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import IO, Annotated, BinaryIO, Literal, cast

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from nats.js.errors import KeyNotFoundError
from pydantic import BaseModel, Field

from cad3d_gateway.api import PROBLEM_RESPONSES, base_url
from cad3d_gateway.archives import is_zip, open_zip
from cad3d_gateway.auth import Principal, require
from cad3d_gateway.models import JobRecord, utcnow
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.submission import Submission, check_admission, new_job_id, no_cache, safe_filename, submit

router = APIRouter(prefix="/v1", tags=["batches"])


class BatchEntry(BaseModel):
    filename: str
    job_id: str | None = None
    code: str | None = None  # why the file was refused on its own
    message: str | None = None


class BatchRecord(BaseModel):
    id: str
    tenant: str
    created_at: datetime = Field(default_factory=utcnow)
    entries: list[BatchEntry]


class BatchFile(BaseModel):
    filename: str
    job_id: str | None
    status: str = Field(description="The job's status, or 'rejected' when the file was refused.")
    warnings: int
    error_code: str | None
    error_message: str | None
    href: str | None


class BatchTotals(BaseModel):
    files: int
    converted: int
    failed: int
    rejected: int
    canceled: int
    pending: int = Field(description="Queued or running.")
    warnings: int


class BatchReport(BaseModel):
    id: str
    created_at: datetime
    finished: bool
    totals: BatchTotals
    files: list[BatchFile]
    self: str


async def save(request: Request, record: BatchRecord) -> None:
    await request.app.state.jobs.kv.put(f"batch.{record.id}", record.model_dump_json().encode())


async def load(request: Request, batch_id: str, principal: Principal) -> BatchRecord:
    missing = ProblemError(404, "batch_not_found", "No such batch")
    if len(batch_id) != 32 or any(c not in "0123456789abcdef" for c in batch_id):
        raise missing
    try:
        entry = await request.app.state.jobs.kv.get(f"batch.{batch_id}")
    except KeyNotFoundError:
        raise missing from None
    record = BatchRecord.model_validate_json(entry.value or b"{}")
    if record.tenant != principal.tenant:
        raise missing
    return record


async def report(request: Request, record: BatchRecord) -> BatchReport:
    jobs: dict[str, JobRecord | None] = {}
    ids = [e.job_id for e in record.entries if e.job_id]
    for job_id, job in zip(ids, await asyncio.gather(*(request.app.state.jobs.get(i) for i in ids)), strict=True):
        jobs[job_id] = job
    base = base_url(request)
    files = []
    for entry in record.entries:
        job = jobs.get(entry.job_id) if entry.job_id else None
        if job is None:
            status = "rejected" if entry.job_id is None else "expired"
            files.append(
                BatchFile(
                    filename=entry.filename,
                    job_id=entry.job_id,
                    status=status,
                    warnings=0,
                    error_code=entry.code,
                    error_message=entry.message,
                    href=None,
                )
            )
            continue
        files.append(
            BatchFile(
                filename=entry.filename,
                job_id=job.id,
                status=job.status.value,
                warnings=len(job.warnings),
                error_code=job.error.code if job.error else None,
                error_message=job.error.message if job.error else None,
                href=f"{base}/v1/conversions/{job.id}",
            )
        )
    count = lambda *statuses: sum(1 for f in files if f.status in statuses)  # noqa: E731
    totals = BatchTotals(
        files=len(files),
        converted=count("succeeded"),
        failed=count("failed", "expired"),
        rejected=count("rejected"),
        canceled=count("canceled"),
        pending=count("queued", "running"),
        warnings=sum(f.warnings for f in files),
    )
    return BatchReport(
        id=record.id,
        created_at=record.created_at,
        finished=totals.pending == 0,
        totals=totals,
        files=files,
        self=f"{base}/v1/batches/{record.id}",
    )


Representation = Literal["json", "csv", "html"]
_BY_MEDIA_TYPE: dict[str, Representation] = {
    "application/json": "json",
    "text/csv": "csv",
    "text/html": "html",
    "application/*": "json",
    "text/*": "csv",
    "*/*": "json",
}


def negotiate(accept: str | None) -> Representation:
    """The representation the Accept header prefers (q-values honoured); 406 when none fits."""
    if not accept:
        return "json"
    ranked: list[tuple[float, int, Representation]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        choice = _BY_MEDIA_TYPE.get(media.lower())
        if choice and quality > 0:
            ranked.append((-quality, position, choice))
    if not ranked:
        raise ProblemError(406, "not_acceptable", "No acceptable representation", "JSON, CSV or HTML")
    return min(ranked)[2]


CSV_COLUMNS = ("filename", "job_id", "status", "warnings", "error_code", "error_message")


def as_csv(batch: BatchReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in batch.files:
        # A leading = + - @ would make a spreadsheet run the cell as a formula: quote it away.
        cells = [getattr(f, c) for c in CSV_COLUMNS]
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in cells])
    return out.getvalue()


def as_html(batch: BatchReport) -> str:
    e = html.escape
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{e(str(getattr(f, c) if getattr(f, c) is not None else ''))}</td>" for c in CSV_COLUMNS)
        + "</tr>"
        for f in batch.files
    )
    t = batch.totals
    summary = (
        f"{t.files} files: {t.converted} converted, {t.failed} failed, {t.rejected} rejected, "
        f"{t.canceled} canceled, {t.pending} pending; {t.warnings} warnings"
    )
    head = "".join(f"<th>{c}</th>" for c in CSV_COLUMNS)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Batch {e(batch.id)}</title></head><body>"
        f"<h1>Batch {e(batch.id)}</h1><p>{e(summary)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


def represent(batch: BatchReport, choice: Representation, status_code: int = 200) -> Response:
    if choice == "csv":
        return Response(as_csv(batch), status_code, media_type="text/csv; charset=utf-8")
    if choice == "html":
        return HTMLResponse(as_html(batch), status_code)
    return JSONResponse(batch.model_dump(mode="json"), status_code)


REPORT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "model": BatchReport,
        "content": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
        "description": "The batch report (JSON, CSV or HTML by Accept)",
    },
    406: PROBLEM_RESPONSES[415] | {"description": "Accept names no JSON, CSV or HTML"},
    **{k: v for k, v in PROBLEM_RESPONSES.items() if k != 200},
}


@router.post(
    "/batches",
    status_code=202,
    response_model=BatchReport,
    responses={**REPORT_RESPONSES, 202: {"model": BatchReport, "description": "Accepted; the report so far"}},
    summary="Convert many files",
)
async def create_batch(
    request: Request,
    files: Annotated[list[UploadFile], File(description="The files, repeated; or one zip of them.")],
    principal: Annotated[Principal, Depends(require("write"))],
    options: Annotated[str | None, Form(description="Options (JSON) for every file, per its kind.")] = None,
    cache_control: Annotated[str | None, Header(description="no-cache: ignore the result cache")] = None,
) -> Response:
    """Each file becomes a conversion job; a file refused on its own (type, options) is listed as
    rejected and the others go on. An unsafe zip (bomb, nested archive, encrypted) refuses the batch."""
    state, settings = request.app.state, request.app.state.settings
    # Accept is read, not declared: the response's media types already say what it may ask for.
    choice = negotiate(request.headers.get("accept"))
    await check_admission(state, principal)
    batch_id = new_job_id()
    use_cache = not no_cache(cache_control)
    # (client name, opener of its bytes); names are labels only, never paths.
    uploads: list[tuple[str, Callable[[], IO[bytes]]]] = []
    if len(files) == 1 and is_zip(await files[0].read(8)):
        await files[0].seek(0)
        archive, entries = await asyncio.to_thread(
            open_zip,
            files[0].file,
            settings.max_batch_files,
            settings.max_batch_unpacked_bytes,
            settings.max_zip_ratio,
            settings.max_upload_bytes,
        )
        uploads = [(info.filename, partial(archive.open, info)) for info in entries]
    else:
        if len(files) > settings.max_batch_files:
            raise ProblemError(
                422, "too_many_files", "Too many files in the batch", f"at most {settings.max_batch_files}"
            )
        for upload in files:
            await upload.seek(0)
        uploads = [(upload.filename or "", partial(getattr, upload, "file")) for upload in files]
    record = BatchRecord(id=batch_id, tenant=principal.tenant, entries=[])
    for name, opener in uploads:
        label = safe_filename(name)
        with opener() as stream:
            try:
                submitted = await submit(
                    state,
                    principal,
                    Submission(cast(BinaryIO, stream), name, options, use_cache=use_cache, batch_id=batch_id),
                )
                record.entries.append(BatchEntry(filename=label, job_id=submitted.job.id))
            except ProblemError as exc:
                if exc.status in (429, 503, 507):
                    raise  # the batch as a whole cannot go on
                record.entries.append(BatchEntry(filename=label, code=exc.code, message=exc.detail or exc.title))
    await save(request, record)
    response = represent(await report(request, record), choice, 202)
    response.headers["Location"] = f"{base_url(request)}/v1/batches/{batch_id}"
    return response


@router.get("/batches/{batch_id}", response_model=BatchReport, responses=REPORT_RESPONSES, summary="A batch report")
async def get_batch(
    request: Request,
    batch_id: str,
    principal: Annotated[Principal, Depends(require("read"))],
) -> Response:
    choice = negotiate(request.headers.get("accept"))
    return represent(await report(request, await load(request, batch_id, principal)), choice)
