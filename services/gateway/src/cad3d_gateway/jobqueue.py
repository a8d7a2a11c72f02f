"""The job work queues: one JetStream work-queue stream per conversion kind, and the move off the
single stream of earlier versions.

A stream per kind (``CAD3D_JOBS_DXF`` on ``cad3d.jobs.dxf``, ...) with its own durable consumer
means a backlog of one kind never sits in front of another: each kind is pulled, counted
(queue depth) and autoscaled (KEDA, per stream and consumer) on its own.

Earlier versions queued every kind on one stream, ``CAD3D_JOBS`` on ``cad3d.jobs.>``, whose
subjects overlap the per-kind ones, so JetStream refuses the new streams while it exists. At
start-up the gateway therefore *parks* it (moves it to a subject nothing publishes to and deletes
its consumers, so older dispatchers stop taking from it), creates the per-kind streams, then moves
each waiting job over (publish with the job id as ``Nats-Msg-Id``, then delete the original) and
deletes the legacy stream once empty. Every step can be repeated: a gateway that dies halfway, or
several replicas starting together, finish the move on their next start, and JetStream's duplicate
window drops a job published twice.
"""

from __future__ import annotations

import contextlib
import logging

from nats.js.errors import APIError, NotFoundError

from cad3d_kit.messaging import EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, JetStream

log = logging.getLogger("cad3d.gateway.jobqueue")

JOB_KINDS = ("dxf", "pdf", "image")
JOBS_SUBJECT = "cad3d.jobs"
CONSUMER = "dispatchers"
LEGACY_STREAM = "CAD3D_JOBS"
PARKED_SUBJECT = "cad3d.legacy-jobs.parked"
EVENTS_MAX_AGE_SECONDS = 24 * 3600
# JetStream API error codes: the message (or the stream) is not there (any more).
NO_MESSAGE_FOUND = (10037, 10057)
STREAM_NOT_FOUND = 10059


def job_subject(kind: str) -> str:
    return f"{JOBS_SUBJECT}.{kind}"


def job_stream(kind: str) -> str:
    return f"CAD3D_JOBS_{kind.upper()}"


async def ensure_job_streams(js: JetStream) -> int:
    """Create the per-kind job streams and the events stream; returns the legacy jobs moved over."""
    legacy = await _park_legacy(js)
    for kind in JOB_KINDS:
        await js.ensure_stream(job_stream(kind), [job_subject(kind)], work_queue=True)
    await js.ensure_stream(EVENTS_STREAM, [f"{EVENTS_SUBJECT_PREFIX}.>"], max_age_seconds=EVENTS_MAX_AGE_SECONDS)
    return await move_legacy_jobs(js) if legacy else 0


async def _park_legacy(js: JetStream) -> bool:
    """Free the legacy stream's subjects (keeping its messages); False when there is none."""
    try:
        info = await js.js.stream_info(LEGACY_STREAM)
    except NotFoundError:
        return False
    if info.config.subjects == [PARKED_SUBJECT]:
        return True  # parked by an earlier start or another replica
    log.warning(
        "legacy job stream %s found (%d messages): moving its jobs to the per-kind streams",
        LEGACY_STREAM,
        info.state.messages,
    )
    for consumer in await js.js.consumers_info(LEGACY_STREAM):
        with contextlib.suppress(NotFoundError):
            await js.js.delete_consumer(LEGACY_STREAM, consumer.name)
    config = info.config
    config.subjects = [PARKED_SUBJECT]
    await js.js.update_stream(config)
    return True


async def move_legacy_jobs(js: JetStream) -> int:
    """Republish every job of the parked legacy stream on its kind's stream; delete it once empty.

    Returns the jobs this call moved (a job another replica moved first is not counted)."""
    try:
        info = await js.js.stream_info(LEGACY_STREAM)
    except NotFoundError:
        return 0  # another replica finished the move
    moved, kept = 0, 0
    sequences = range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else range(0)
    for seq in sequences:
        try:
            msg = await js.js.get_msg(LEGACY_STREAM, seq)
        except APIError as exc:
            if exc.err_code == STREAM_NOT_FOUND:
                return moved  # another replica finished the move
            if exc.err_code in NO_MESSAGE_FOUND:
                continue  # acknowledged or already moved
            raise
        kind = (msg.subject or "").removeprefix(f"{JOBS_SUBJECT}.")
        if kind not in JOB_KINDS:
            kept += 1
            log.error("legacy job message %d on %r has no per-kind stream; left in %s", seq, msg.subject, LEGACY_STREAM)
            continue
        headers = dict(msg.headers or {})
        # The job id de-duplicates a second move of the same job (a restart halfway, two replicas).
        headers["Nats-Msg-Id"] = (msg.data or b"").decode()
        ack = await js.js.publish(job_subject(kind), msg.data or b"", headers=headers)
        try:
            await js.js.delete_msg(LEGACY_STREAM, seq)
        except APIError as exc:
            if exc.err_code not in (*NO_MESSAGE_FOUND, STREAM_NOT_FOUND):
                raise
        moved += 0 if ack.duplicate else 1
    if kept:
        log.error("%s kept %d messages it cannot route; it stays parked until they are removed", LEGACY_STREAM, kept)
        return moved
    with contextlib.suppress(NotFoundError):
        if (await js.js.stream_info(LEGACY_STREAM)).state.messages == 0:
            await js.js.delete_stream(LEGACY_STREAM)
            log.warning("legacy job stream %s deleted after moving %d jobs", LEGACY_STREAM, moved)
    return moved
