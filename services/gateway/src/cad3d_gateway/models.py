"""The job resource: what is stored in JetStream KV (JobRecord) and what clients see (JobView)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.canceled)


def utcnow() -> datetime:
    return datetime.now(UTC)


class InputView(BaseModel):
    filename: str = Field(description="Client file name, sanitised; informational only.")
    media_type: str = Field(description="Detected from the content, not from the name.")
    size: int
    sha256: str


class InputInfo(InputView):
    key: str


class ArtifactInfo(BaseModel):
    name: str
    media_type: str
    size: int
    sha256: str
    key: str


class JobError(BaseModel):
    code: str
    message: str
    location: dict[str, Any] | None = None


class CallbackAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = None
    error: str | None = None


class CallbackView(BaseModel):
    url: str
    delivered: bool
    attempts: list[CallbackAttempt]


class JobRecord(BaseModel):
    model_config = ConfigDict(use_enum_values=False)

    id: str
    tenant: str
    key_id: str = "anonymous"
    kind: Literal["dxf", "pdf", "image"]
    status: JobStatus = JobStatus.queued
    progress: float = 0.0
    stage: str = "queued"
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    # Tries the service never took (it was down): they wait with backoff and do not count as attempts.
    waits: int = 0
    # The run whose outputs the job has (or is making): each run writes under its own prefix, so a
    # second run of the same job (a redelivery) never overwrites the files of the one that finished.
    # The first counted run ("") writes under outputs/; no other run can count as the first while it
    # may still write (a run the service refused un-counts itself, and it wrote nothing).
    run_id: str = ""
    input: InputInfo
    options: dict[str, Any] = Field(default_factory=dict)
    artifacts: list[ArtifactInfo] = Field(default_factory=list)
    report: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    error: JobError | None = None
    converter_version: str = ""
    use_cache: bool = Field(True, description="False when the client sent Cache-Control: no-cache.")
    cached_from: str | None = Field(None, description="The job whose stored result this job reused.")
    callback_url: str | None = None
    callback_attempts: list[CallbackAttempt] = Field(default_factory=list)
    batch_id: str | None = None
    # Whether the job holds an ``active.`` key in the job store (see jobstore): only while a
    # concurrent-job limit is configured. Records written before this field existed held one.
    counted: bool = True

    @property
    def prefix(self) -> str:
        return f"tenants/{self.tenant}/jobs/{self.id}"

    @property
    def output_prefix(self) -> str:
        return f"{self.prefix}/outputs"

    @property
    def run_prefix(self) -> str:
        # A sibling of outputs/, not a folder inside it: a losing first run deletes its own prefix.
        return f"{self.prefix}/outputs-{self.run_id}" if self.run_id else self.output_prefix


class ArtifactLink(BaseModel):
    name: str
    media_type: str
    size: int
    sha256: str
    href: str


class JobLinks(BaseModel):
    self: str
    artifacts: dict[str, str] = Field(default_factory=dict)


class Timings(BaseModel):
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    queued_seconds: float | None
    run_seconds: float | None


class JobView(BaseModel):
    """A conversion job as the API returns it."""

    id: str
    kind: str
    status: JobStatus
    progress: float = Field(ge=0, le=100)
    stage: str
    attempts: int
    timings: Timings
    input: InputView
    options: dict[str, Any]
    artifacts: list[ArtifactLink]
    report: dict[str, Any] | None
    warnings: list[dict[str, Any]]
    error: JobError | None
    converter_version: str
    cached: bool = Field(description="True when the result came from the result cache without converting.")
    batch_id: str | None = None
    callback: CallbackView | None = Field(None, description="Webhook URL and its delivery attempts.")
    links: JobLinks

    @classmethod
    def of(cls, job: JobRecord, base_url: str) -> JobView:
        self_url = f"{base_url}/v1/conversions/{job.id}"
        artifacts = [
            ArtifactLink(
                name=a.name,
                media_type=a.media_type,
                size=a.size,
                sha256=a.sha256,
                href=f"{self_url}/artifacts/{a.name}",
            )
            for a in job.artifacts
        ]
        queued = (job.started_at - job.created_at).total_seconds() if job.started_at else None
        run = (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
        options = {k: v for k, v in job.options.items() if k != "password"}
        return cls(
            id=job.id,
            kind=job.kind,
            status=job.status,
            progress=job.progress,
            stage=job.stage,
            attempts=job.attempts,
            timings=Timings(
                created_at=job.created_at,
                started_at=job.started_at,
                finished_at=job.finished_at,
                queued_seconds=queued,
                run_seconds=run,
            ),
            input=InputView.model_validate(job.input.model_dump(exclude={"key"})),
            options=options,
            artifacts=artifacts,
            report=job.report,
            warnings=job.warnings,
            error=job.error,
            converter_version=job.converter_version,
            cached=job.cached_from is not None,
            batch_id=job.batch_id,
            callback=CallbackView(
                url=job.callback_url,
                delivered=any(a.status_code is not None and 200 <= a.status_code < 300 for a in job.callback_attempts),
                attempts=job.callback_attempts,
            )
            if job.callback_url
            else None,
            links=JobLinks(self=self_url, artifacts={a.name: a.href for a in artifacts}),
        )


class JobPage(BaseModel):
    """One page of the caller's jobs, newest first."""

    items: list[JobView]
    next_cursor: str | None = Field(description="Pass as ?cursor= to get the next page; null on the last page.")
    next: str | None = Field(description="URL of the next page; null on the last page.")
