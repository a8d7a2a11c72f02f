"""The job dispatcher: pulls jobs from the per-kind JetStream work queues and runs them on the services.

A job message is acknowledged only after its result (or its final failure) is stored, so a
dispatcher, gateway or service process that dies mid-job loses nothing: JetStream redelivers the
message after ``ack_wait`` and another dispatcher completes it.

Each enabled kind is a lane of its own: its own stream and durable consumer (see ``jobqueue``), its
own pull loop and its own ``concurrency`` slots. A stalled or slow service therefore holds only its
kind's slots; jobs of the other kinds keep flowing (no head-of-line blocking across kinds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from opentelemetry import trace

from cad3d.common.v1 import common_pb2
from cad3d_gateway.backends import SPECS, BackendError, Backends
from cad3d_gateway.cache import ResultCache
from cad3d_gateway.jobqueue import CONSUMER, ensure_job_streams, job_stream, job_subject
from cad3d_gateway.jobstore import JobNotFound, JobStore, Revision
from cad3d_gateway.metrics import CONVERSION_DURATION, JOBS_FINISHED
from cad3d_gateway.models import ArtifactInfo, JobError, JobRecord, JobStatus, utcnow
from cad3d_gateway.options import DXF_STAGE_OPTIONS
from cad3d_gateway.retries import RetryPolicy, Verdict, attempts_error, deadline_error
from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_kit.conversion_service import struct_to_dict
from cad3d_kit.messaging import EVENTS_SUBJECT_PREFIX, JetStream, fetch_batch
from cad3d_kit.storage import ArtifactStore, ObjectNotFound, aput
from cad3d_kit.tracing import extract_context

log = logging.getLogger("cad3d.gateway.dispatcher")
tracer = trace.get_tracer("cad3d.gateway.dispatcher")

THREE_D_FORMATS = ("glb", "stl", "obj")
PROGRESS_INTERVAL = 0.5  # seconds between progress writes of one job
RECORD_GRACE_SECONDS = 10.0  # how long a job message may wait for its record


class JobCanceled(Exception):
    """The job was canceled (or otherwise finished) elsewhere while this dispatcher ran it."""


@dataclass
class _Lane:
    """One kind's consumer and the jobs of that kind this dispatcher is running."""

    kind: str
    sub: JetStreamContext.PullSubscription
    running: set[asyncio.Task[None]] = field(default_factory=set)


async def publish_job_event(js: JetStream, job: JobRecord, event: str, extra: dict[str, Any] | None = None) -> None:
    data = {"id": job.id, "kind": job.kind, "status": job.status.value, "progress": job.progress, **(extra or {})}
    try:
        await js.publish_event(f"dev.cad3d.job.{event}", "/cad3d/gateway", f"jobs.{job.id}.{event}", data)
    except Exception as exc:  # events are informative; never fail a job over them
        log.warning("could not publish %s event for %s: %s", event, job.id, exc)


class Dispatcher:
    def __init__(
        self,
        js: JetStream,
        jobs: JobStore,
        store: ArtifactStore,
        backends: Backends,
        concurrency: int,
        max_attempts: int,
        *,
        cache: ResultCache | None = None,
        on_finished: Callable[[JobRecord], Awaitable[None]] | None = None,
        ack_wait_seconds: float = 30.0,
        job_timeout_seconds: float = 600.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.js, self.jobs, self.store, self.backends = js, jobs, store, backends
        self.cache = cache
        self.on_finished = on_finished
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.policy = policy or RetryPolicy(max_attempts)
        self.ack_wait = ack_wait_seconds
        self.job_timeout = job_timeout_seconds
        self._lanes: list[_Lane] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: dict[str, asyncio.Task[Any]] = {}
        # The record and KV revision this dispatcher last wrote per running job: its next write is
        # tried on that revision instead of reading the record again first (a conflict re-reads).
        self._written: dict[str, Revision] = {}
        self._stopping = asyncio.Event()

    @property
    def kinds(self) -> list[str]:
        """The kinds this dispatcher pulls: those with a configured service."""
        return sorted(self.backends.addresses)

    async def start(self) -> None:
        await ensure_job_streams(self.js)
        for kind in self.kinds:
            # No max_deliver: JetStream would stop redelivering a job silently and leave it
            # "running" for ever. Attempts are counted, and jobs failed, by the dispatcher (see
            # retries). Written as create-or-update, so consumers of earlier versions change too.
            config = ConsumerConfig(
                name=CONSUMER,
                durable_name=CONSUMER,
                filter_subject=job_subject(kind),
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait,
                max_deliver=-1,
                max_ack_pending=1000,
            )
            await self.js.js.add_consumer(job_stream(kind), config)
            sub = await self.js.js.pull_subscribe(
                job_subject(kind), durable=CONSUMER, stream=job_stream(kind), config=config
            )
            self._lanes.append(_Lane(kind, sub))
        # Cancellation reaches a running conversion as the "canceled" CloudEvent the API publishes;
        # the KV status is checked again before and after each service call in case it was missed.
        self._cancel_sub = await self.js.nc.subscribe(f"{EVENTS_SUBJECT_PREFIX}.jobs.*.canceled", cb=self._on_canceled)
        self._tasks = [asyncio.create_task(self._loop(lane), name=f"dispatcher-{lane.kind}") for lane in self._lanes]

    async def _on_canceled(self, msg: Msg) -> None:
        job_id = msg.subject.split(".")[-2]
        task = self._in_flight.get(job_id)
        if task is not None:
            log.info("job %s canceled; stopping its conversion", job_id)
            task.cancel()

    async def stop(self, grace: float = 30.0) -> None:
        """Stop fetching; give running jobs ``grace`` seconds, then leave the rest to redelivery."""
        self._stopping.set()
        with contextlib.suppress(Exception):
            await self._cancel_sub.unsubscribe()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        running = {task for lane in self._lanes for task in lane.running}
        if running:
            _done, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()

    async def _loop(self, lane: _Lane) -> None:
        while not self._stopping.is_set():
            free = self.concurrency - len(lane.running)
            if free <= 0:
                await asyncio.wait(lane.running, return_when=asyncio.FIRST_COMPLETED)
                continue
            for msg in await fetch_batch(lane.sub, free, f"{lane.kind} job"):
                task = asyncio.create_task(self._handle(msg))
                lane.running.add(task)
                task.add_done_callback(lane.running.discard)

    async def _heartbeat(self, msg: Msg) -> None:
        while True:
            await asyncio.sleep(self.ack_wait / 3)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _handle(self, msg: Msg) -> None:
        job_id = msg.data.decode()
        with tracer.start_as_current_span("job.dispatch", context=extract_context(msg.headers)) as span:
            span.set_attribute("cad3d.job_id", job_id)
            heartbeat = asyncio.create_task(self._heartbeat(msg))
            try:
                await self._run(job_id, msg)
            except Exception:
                log.exception("dispatch of %s failed unexpectedly; it will be redelivered", job_id)
                with contextlib.suppress(Exception):
                    await msg.nak(delay=2.0)
            finally:
                heartbeat.cancel()
                self._written.pop(job_id, None)

    async def _run(self, job_id: str, msg: Msg) -> None:
        refused: ConversionError | None = None

        def start(j: JobRecord) -> JobRecord | None:
            nonlocal refused
            refused = None
            if j.status.terminal:
                return None
            if utcnow() >= self.policy.deadline(j.created_at):
                refused = deadline_error(self.policy)
            elif j.attempts >= self.policy.max_attempts:
                # Every earlier run started and none finished: the dispatcher died each time.
                refused = attempts_error(j.attempts)
            if refused is not None:
                return self._fail(j, refused)
            j.status, j.stage, j.started_at = JobStatus.running, "starting", j.started_at or utcnow()
            j.attempts += 1
            j.run_id = "" if j.attempts == 1 else f"run{j.attempts}-{secrets.token_hex(3)}"
            return j

        try:
            job, revision = await self.jobs.update_revision(job_id, start)
        except JobNotFound:
            # The API publishes a job before writing its record: a young message may be a moment
            # early; an older one's record was deleted, expired, or never written (NATS failed).
            published = msg.metadata.timestamp if msg.metadata else None
            if published is not None and (utcnow() - published).total_seconds() < RECORD_GRACE_SECONDS:
                await msg.nak(delay=0.5)
            else:
                await msg.ack()
            return
        if refused is not None and job.status == JobStatus.failed:
            await self._announce_failure(job, refused)
            await msg.ack()
            return
        if job.status.terminal:  # canceled while queued, or finished by another run
            await msg.ack()
            return
        self._written[job_id] = (job, revision)
        await publish_job_event(self.js, job, "started", {"attempt": job.attempts})
        started = time.perf_counter()
        failure: ConversionError | None = None
        try:
            response_artifacts, report, warnings, version = await self._convert_cancellable(job)
        except ConversionError as exc:
            failure = exc
        except JobCanceled:
            await self._discard_outputs(job)
            await msg.ack()
            return
        finally:
            outcome = "failed" if failure else "succeeded"
            CONVERSION_DURATION.labels(job.kind, outcome).observe(time.perf_counter() - started)
        if failure is not None:
            await self._discard_run(job)
            await self._after_failure(job, failure, msg)
            return

        await self._complete(job, (response_artifacts, report, warnings, version), msg)

    async def _complete(
        self, job: JobRecord, result: tuple[list[ArtifactInfo], dict[str, Any], list[dict[str, Any]], str], msg: Msg
    ) -> None:
        """Record this run's result, unless the job was canceled or another run finished first."""
        response_artifacts, report, warnings, version = result
        job_id = job.id

        def succeed(j: JobRecord) -> JobRecord | None:
            if j.status.terminal:
                return None
            j.status, j.stage, j.progress, j.finished_at = JobStatus.succeeded, "done", 100.0, utcnow()
            j.artifacts, j.report, j.warnings, j.converter_version = response_artifacts, report, warnings, version
            j.run_id = job.run_id  # the run whose files these are (a later start may have renamed it)
            return j

        finished = await self.jobs.update(job_id, succeed, self._written.get(job_id))
        if finished.status != JobStatus.succeeded or finished.run_id != job.run_id:
            # Canceled meanwhile, or another run of this job finished first: its record and files
            # stay exactly as they are, and this run's own files go.
            await (self._discard_outputs(finished) if finished.status == JobStatus.canceled else self._discard_run(job))
            await msg.ack()
            return
        job = finished
        if self.cache is not None and job.use_cache:
            try:
                await self.cache.remember(job)
            except Exception as exc:  # the result is stored; a cache miss later is harmless
                log.warning("could not cache the result of %s: %s", job_id, exc)
        JOBS_FINISHED.labels(job.kind, "succeeded").inc()
        await publish_job_event(self.js, job, "succeeded")
        await self._finished(job)
        await msg.ack()

    async def _after_failure(self, job: JobRecord, error: ConversionError, msg: Msg) -> None:
        """Wait (the service never took the call), retry (counted) or fail, as the policy says."""
        accepted = error.accepted if isinstance(error, BackendError) else True
        verdict = self.policy.verdict(error, accepted, job.attempts)
        if verdict != Verdict.FAIL and utcnow() >= self.policy.deadline(job.created_at):
            error, verdict = deadline_error(self.policy, error), Verdict.FAIL
        if verdict == Verdict.FAIL:
            failed = await self.jobs.update(
                job.id, lambda j: None if j.status.terminal else self._fail(j, error), self._written.get(job.id)
            )
            if failed.status == JobStatus.failed and failed.error is not None and failed.error.code == error.code:
                await self._announce_failure(failed, error)
            await msg.ack()
            return
        waiting = verdict == Verdict.WAIT
        tries = job.waits + 1 if waiting else job.attempts
        delay = self.policy.delay(tries)
        service = SPECS[job.kind].name
        if waiting:
            stage = f"waiting for the {service} service ({error.code}); next try in {delay:g} s"
        else:
            stage = f"retrying after {error.code} (attempt {job.attempts} of {self.policy.max_attempts}) in {delay:g} s"
        log.warning("job %s: %s", job.id, stage)

        def requeue(j: JobRecord) -> JobRecord | None:
            if j.status.terminal:
                return None
            j.status, j.stage = JobStatus.queued, stage
            if waiting:
                j.waits += 1
                j.attempts = max(j.attempts - 1, 0)  # the service never took this run
            return j

        await self.jobs.update(job.id, requeue, self._written.get(job.id))
        await msg.nak(delay=delay)

    async def _announce_failure(self, job: JobRecord, error: ConversionError) -> None:
        JOBS_FINISHED.labels(job.kind, "failed").inc()
        await publish_job_event(self.js, job, "failed", {"error": {"code": error.code, "message": error.message}})
        await self._finished(job)

    async def _finished(self, job: JobRecord) -> None:
        if self.on_finished is not None and job.callback_url:
            await self.on_finished(job)

    async def _convert_cancellable(
        self, job: JobRecord
    ) -> tuple[list[ArtifactInfo], dict[str, Any], list[dict[str, Any]], str]:
        """Run the conversion; JobCanceled when the job is canceled meanwhile, job_timeout past the deadline."""
        task = asyncio.create_task(self._convert(job))
        self._in_flight[job.id] = task
        left = (self.policy.deadline(job.created_at) - utcnow()).total_seconds()
        try:
            return await asyncio.wait_for(task, timeout=max(min(self.job_timeout, left), 0.0))
        except TimeoutError:
            if left < self.job_timeout:
                raise deadline_error(self.policy) from None
            raise ConversionError(
                "job_timeout", f"the job did not finish within {self.job_timeout:g} s", ErrorKind.DEADLINE
            ) from None
        except asyncio.CancelledError:
            if self._stopping.is_set() or not task.cancelled():
                raise
            raise JobCanceled(job.id) from None
        finally:
            self._in_flight.pop(job.id, None)

    async def _discard_run(self, job: JobRecord) -> None:
        """This run's files: another run's (or the finished result's) are under other prefixes."""
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.store.delete_prefix, job.run_prefix)

    async def _discard_outputs(self, job: JobRecord) -> None:
        """A canceled job keeps nothing: the API deleted its prefix, but the service may have written since."""
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.store.delete_prefix, job.prefix)

    @staticmethod
    def _fail(job: JobRecord, error: ConversionError) -> JobRecord:
        location = {k: v for k, v in error.location.__dict__.items() if v} or None
        job.status, job.stage, job.finished_at = JobStatus.failed, "failed", utcnow()
        job.error = JobError(code=error.code, message=error.message, location=location)
        return job

    async def _progress_updater(self, job_id: str, weight: tuple[float, float]) -> Any:
        # The job record was just written as running, and the success write sets 100 %: a write at
        # most every PROGRESS_INTERVAL in between keeps watchers informed without costing short jobs
        # (most of them) any KV round trip at all.
        last = time.monotonic()
        low, high = weight

        async def on_progress(percent: float, stage: str, message: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < PROGRESS_INTERVAL or percent >= 100:
                return
            last = now

            def change(j: JobRecord) -> JobRecord | None:
                if j.status != JobStatus.running:
                    return None
                j.progress = max(j.progress, round(low + (high - low) * percent / 100, 1))
                j.stage = stage
                return j

            job, revision = await self.jobs.update_revision(job_id, change, self._written.get(job_id))
            if job.status == JobStatus.running:
                self._written[job_id] = (job, revision)
            await publish_job_event(self.js, job, "progress", {"stage": stage, "message": message})

        return on_progress

    async def _convert(self, job: JobRecord) -> tuple[list[ArtifactInfo], dict[str, Any], list[dict[str, Any]], str]:
        bucket = self.store.bucket
        output = common_pb2.OutputLocation(bucket=bucket, prefix=job.run_prefix)
        source = common_pb2.ObjectRef(bucket=bucket, key=job.input.key)
        chain_to_3d = job.kind == "pdf" and job.options.get("format") in THREE_D_FORMATS
        first_options = dict(job.options)
        if chain_to_3d:
            first_options["format"] = "dxf"
        first_weight = (0.0, 60.0) if chain_to_3d else (0.0, 100.0)
        response = await self.backends.convert(
            job.kind, source, first_options, output, await self._progress_updater(job.id, first_weight)
        )
        artifacts = [await self._artifact(job, a) for a in response.artifacts]
        report: dict[str, Any] = {job.kind: struct_to_dict(response.report)}
        warnings = [json_format.MessageToDict(w, preserving_proto_field_name=True) for w in response.warnings]
        version = response.converter_version
        if chain_to_3d:
            dxf = next((a for a in artifacts if a.name.endswith(".dxf")), None)
            if dxf is None:
                raise ConversionError("chain_no_dxf", "the PDF produced no DXF to extrude")
            dxf_options = {k: job.options[k] for k in DXF_STAGE_OPTIONS if k in job.options}
            response = await self.backends.convert(
                "dxf",
                common_pb2.ObjectRef(bucket=bucket, key=dxf.key),
                dxf_options,
                output,
                await self._progress_updater(job.id, (60.0, 100.0)),
            )
            artifacts += [await self._artifact(job, a) for a in response.artifacts]
            report["dxf"] = struct_to_dict(response.report)
            warnings += [json_format.MessageToDict(w, preserving_proto_field_name=True) for w in response.warnings]
            version = f"{version}+{response.converter_version}"
        report_data = json.dumps(report, indent=2).encode()
        stored = await aput(self.store, f"{job.run_prefix}/report.json", report_data, "application/json")
        artifacts.append(
            ArtifactInfo(
                name="report.json",
                media_type="application/json",
                size=stored.size,
                sha256=stored.sha256,
                key=stored.key,
            )
        )
        return artifacts, report, warnings, version

    async def _artifact(self, job: JobRecord, artifact: common_pb2.Artifact) -> ArtifactInfo:
        d = artifact.descriptor
        if artifact.WhichOneof("content") == "inline_data":
            # The service could not reach our store; keep the bytes ourselves.
            stored = await aput(self.store, f"{job.run_prefix}/{d.name}", artifact.inline_data, d.media_type)
            return ArtifactInfo(
                name=d.name, media_type=d.media_type, size=stored.size, sha256=stored.sha256, key=stored.key
            )
        # Written by the service under this run's own prefix, so nothing else writes there; the size
        # is still checked against the store, as a download sends it as Content-Length.
        key = artifact.object.key
        try:
            size = await asyncio.to_thread(self.store.size_of, key)
        except ObjectNotFound:
            size = -1
        if size != d.size_bytes:
            raise ConversionError(
                "storage_error",
                f"{d.name}: the service reported {d.size_bytes} bytes, the store holds {size}",
                ErrorKind.UNAVAILABLE,
            )
        return ArtifactInfo(name=d.name, media_type=d.media_type, size=size, sha256=d.sha256, key=key)
