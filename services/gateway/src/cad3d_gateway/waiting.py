"""Waiting for a job to finish (``Prefer: wait=N``) on its lifecycle events.

A plain subscription to the job's event subject costs the server one interest entry; a KV watch
would create and delete a JetStream consumer per waiting request, which under load cost more
than the rest of the request together.
"""

from __future__ import annotations

import asyncio
import contextlib

from cad3d_gateway.jobstore import JobStore
from cad3d_gateway.models import JobRecord, JobStatus
from cad3d_kit.messaging import EVENTS_SUBJECT_PREFIX, JetStream

TERMINAL_EVENTS = frozenset(status.value for status in JobStatus if status.terminal)
RECHECK_SECONDS = 5.0  # a lost event (a NATS reconnect) delays the answer at most this long


def job_events_subject(job_id: str) -> str:
    return f"{EVENTS_SUBJECT_PREFIX}.jobs.{job_id}.>"


async def wait_until_finished(js: JetStream, jobs: JobStore, job_id: str, timeout: float) -> JobRecord | None:
    """The job once it is finished, or its latest state when ``timeout`` runs out."""
    if timeout <= 0:
        return await jobs.get(job_id)
    # Subscribe before reading the state, so an end in between is not missed.
    subscription = await js.nc.subscribe(job_events_subject(job_id))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        job = await jobs.get(job_id)
        while job is not None and not job.status.terminal and (left := deadline - loop.time()) > 0:
            try:
                msg = await subscription.next_msg(timeout=min(left, RECHECK_SECONDS))
            except TimeoutError:
                job = await jobs.get(job_id)
                continue
            if msg.subject.rsplit(".", 1)[-1] in TERMINAL_EVENTS:
                job = await jobs.get(job_id)
        return job
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
