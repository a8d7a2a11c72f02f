"""Following a job's lifecycle events: the SSE stream and ``Prefer: wait=N``.

One subscription per gateway process to every job's events (``cad3d.events.jobs.>``), fanned out in
memory to the requests following a job. A subscription per request cost a SUB and an UNSUB on the
connection and an interest change in the server for every followed job, a noticeable share of a
short job's cost; a KV watch would cost a JetStream consumer per request, more still. Each gateway
receives every job's events (a few small messages per job) whether or not someone follows the job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from cad3d_gateway.jobstore import JobStore
from cad3d_gateway.models import JobRecord, JobStatus
from cad3d_kit.messaging import EVENTS_SUBJECT_PREFIX, JetStream

TERMINAL_EVENTS = frozenset(status.value for status in JobStatus if status.terminal)
RECHECK_SECONDS = 5.0  # a lost event (a NATS reconnect) delays the answer at most this long
JOBS_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.jobs"


def event_name(msg: Msg) -> str:
    return msg.subject.rsplit(".", 1)[-1]


class JobEvents:
    """The in-process fan-out of job events to the requests following them."""

    def __init__(self, js: JetStream) -> None:
        self.js = js
        self._followers: dict[str, set[asyncio.Queue[Msg]]] = {}
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.js.nc.subscribe(f"{JOBS_EVENTS}.>", cb=self._deliver)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _deliver(self, msg: Msg) -> None:
        # cad3d.events.jobs.<job id>.<event>
        job_id = msg.subject[len(JOBS_EVENTS) + 1 :].split(".", 1)[0]
        for queue in self._followers.get(job_id, ()):
            queue.put_nowait(msg)

    def open(self, job_id: str) -> asyncio.Queue[Msg]:
        """A queue that gets the job's events from now on, until ``close``. Open it before reading
        the job's state, so nothing that happens in between goes unseen."""
        queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._followers.setdefault(job_id, set()).add(queue)
        return queue

    def close(self, job_id: str, queue: asyncio.Queue[Msg]) -> None:
        followers = self._followers.get(job_id)
        if followers is not None:
            followers.discard(queue)
            if not followers:
                del self._followers[job_id]

    @contextlib.contextmanager
    def follow(self, job_id: str) -> Iterator[asyncio.Queue[Msg]]:
        queue = self.open(job_id)
        try:
            yield queue
        finally:
            self.close(job_id, queue)


async def wait_until_finished(events: JobEvents, jobs: JobStore, job_id: str, timeout: float) -> JobRecord | None:
    """The job once it is finished, or its latest state when ``timeout`` runs out."""
    if timeout <= 0:
        return await jobs.get(job_id)
    with events.follow(job_id) as queue:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        job = await jobs.get(job_id)
        while job is not None and not job.status.terminal and (left := deadline - loop.time()) > 0:
            try:
                msg = await asyncio.wait_for(queue.get(), timeout=min(left, RECHECK_SECONDS))
            except TimeoutError:
                job = await jobs.get(job_id)
                continue
            if event_name(msg) in TERMINAL_EVENTS:
                job = await jobs.get(job_id)
        return job
