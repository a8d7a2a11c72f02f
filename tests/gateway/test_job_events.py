"""JobEvents against a real nats-server: one subscription, each event handed to the requests
following its job only, nothing left behind once they stop following."""

from __future__ import annotations

import asyncio

from cad3d_gateway.waiting import JobEvents, event_name
from cad3d_kit.messaging import JetStream, decode_event

A, B = "a" * 32, "b" * 32


async def publish(js: JetStream, job_id: str, event: str) -> None:
    await js.publish_event(f"dev.cad3d.job.{event}", "/test", f"jobs.{job_id}.{event}", {"id": job_id})


async def test_each_follower_gets_its_jobs_events_in_order(js: JetStream) -> None:
    events = JobEvents(js)
    await events.start()
    try:
        with events.follow(A) as first, events.follow(A) as second, events.follow(B) as other:
            for job_id, event in ((A, "started"), (B, "started"), (A, "progress"), (A, "succeeded")):
                await publish(js, job_id, event)
            for queue in (first, second):
                got = [await asyncio.wait_for(queue.get(), 5) for _ in range(3)]
                assert [event_name(m) for m in got] == ["started", "progress", "succeeded"]
                assert {decode_event(m.data)["data"]["id"] for m in got} == {A}
            assert event_name(await asyncio.wait_for(other.get(), 5)) == "started"
            assert other.empty()
        assert events._followers == {}  # nothing kept for jobs nobody follows any more
        await publish(js, A, "canceled")  # and an event for such a job goes nowhere
        await js.nc.flush()
    finally:
        await events.stop()
