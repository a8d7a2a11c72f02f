"""The per-kind job streams against a real nats-server, and the move off the single legacy stream."""

from __future__ import annotations

import asyncio

from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy
from nats.js.errors import NotFoundError

from cad3d_gateway.jobqueue import (
    JOB_KINDS,
    LEGACY_STREAM,
    PARKED_SUBJECT,
    ensure_job_streams,
    job_stream,
    job_subject,
)
from cad3d_kit.messaging import EVENTS_STREAM, JetStream, decode_event


async def legacy_queue(js: JetStream, jobs: list[tuple[str, str]]) -> None:
    """The layout of earlier versions: one work queue for every kind, with its dispatchers' consumer."""
    await js.ensure_stream(LEGACY_STREAM, ["cad3d.jobs.>"], work_queue=True)
    await js.js.pull_subscribe(
        "cad3d.jobs.>",
        durable="dispatchers",
        stream=LEGACY_STREAM,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT),
    )
    for kind, job_id in jobs:
        await js.js.publish(job_subject(kind), job_id.encode(), headers={"Nats-Msg-Id": job_id, "traceparent": job_id})


async def queued(js: JetStream, kind: str) -> list[tuple[str, str]]:
    """(job id, traceparent header) of every message on ``kind``'s stream, in order."""
    info = await js.js.stream_info(job_stream(kind))
    if not info.state.messages:
        return []
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.js.get_msg(job_stream(kind), seq)
        found.append(((msg.data or b"").decode(), (msg.headers or {}).get("traceparent", "")))
    return found


async def legacy_exists(js: JetStream) -> bool:
    try:
        await js.js.stream_info(LEGACY_STREAM)
    except NotFoundError:
        return False
    return True


async def test_one_work_queue_stream_per_kind(js: JetStream) -> None:
    assert await ensure_job_streams(js) == 0
    for kind in JOB_KINDS:
        info = await js.js.stream_info(job_stream(kind))
        assert info.config.subjects == [f"cad3d.jobs.{kind}"]
        assert info.config.retention == RetentionPolicy.WORK_QUEUE
    await js.publish(job_subject("pdf"), b"job-1", msg_id="job-1")
    assert await queued(js, "pdf") == [("job-1", "")]
    assert await queued(js, "dxf") == []
    assert await ensure_job_streams(js) == 0  # idempotent: every replica runs it at start-up
    assert await queued(js, "pdf") == [("job-1", "")]


async def test_an_empty_legacy_stream_is_deleted(js: JetStream) -> None:
    await legacy_queue(js, [])
    assert await ensure_job_streams(js) == 0
    assert not await legacy_exists(js)
    assert {(await js.js.stream_info(job_stream(kind))).config.name for kind in JOB_KINDS} == {
        "CAD3D_JOBS_DXF",
        "CAD3D_JOBS_PDF",
        "CAD3D_JOBS_IMAGE",
    }


async def test_queued_legacy_jobs_move_to_their_kinds_stream(js: JetStream) -> None:
    await legacy_queue(js, [("dxf", "d1"), ("pdf", "p1"), ("dxf", "d2"), ("image", "i1")])
    # One job is in flight on an old dispatcher (delivered, not acknowledged): it moves too.
    old_dispatcher = await js.js.pull_subscribe("cad3d.jobs.>", durable="dispatchers", stream=LEGACY_STREAM)
    (in_flight,) = await old_dispatcher.fetch(1, timeout=2)
    assert in_flight.data == b"d1"

    assert await ensure_job_streams(js) == 4
    assert not await legacy_exists(js)
    # Order and trace context kept, each kind on its own stream.
    assert await queued(js, "dxf") == [("d1", "d1"), ("d2", "d2")]
    assert await queued(js, "pdf") == [("p1", "p1")]
    assert await queued(js, "image") == [("i1", "i1")]
    # New jobs now land on the per-kind streams.
    await js.publish(job_subject("dxf"), b"d3", msg_id="d3")
    assert [job for job, _ in await queued(js, "dxf")] == ["d1", "d2", "d3"]


async def test_a_move_cut_short_is_finished_without_duplicates(js: JetStream) -> None:
    await legacy_queue(js, [("dxf", "d1"), ("dxf", "d2")])
    # A gateway died after parking the legacy stream and moving d1 (but before deleting it there).
    info = await js.js.stream_info(LEGACY_STREAM)
    for consumer in await js.js.consumers_info(LEGACY_STREAM):
        await js.js.delete_consumer(LEGACY_STREAM, consumer.name)
    info.config.subjects = [PARKED_SUBJECT]
    await js.js.update_stream(info.config)
    for kind in JOB_KINDS:
        await js.ensure_stream(job_stream(kind), [job_subject(kind)], work_queue=True)
    await js.publish(job_subject("dxf"), b"d1", msg_id="d1")

    assert await ensure_job_streams(js) == 1  # d1 was moved already: dropped as a duplicate
    assert not await legacy_exists(js)
    assert [job for job, _ in await queued(js, "dxf")] == ["d1", "d2"]


async def test_replicas_starting_together_move_each_job_once(js: JetStream, nats_url: str) -> None:
    await legacy_queue(js, [("dxf", f"d{i}") for i in range(30)] + [("pdf", f"p{i}") for i in range(10)])
    replicas = [await JetStream.connect(nats_url, f"replica-{i}") for i in range(3)]
    try:
        moved = await asyncio.gather(*(ensure_job_streams(replica) for replica in replicas))
    finally:
        for replica in replicas:
            await replica.close()
    assert sum(moved) == 40  # a job two replicas published is kept (and counted) once
    assert not await legacy_exists(js)
    assert [job for job, _ in await queued(js, "dxf")] == [f"d{i}" for i in range(30)]
    assert [job for job, _ in await queued(js, "pdf")] == [f"p{i}" for i in range(10)]


async def test_a_message_of_no_known_kind_keeps_the_legacy_stream_parked(js: JetStream) -> None:
    await legacy_queue(js, [("dxf", "d1")])
    await js.js.publish("cad3d.jobs.hologram", b"h1")
    assert await ensure_job_streams(js) == 1
    assert [job for job, _ in await queued(js, "dxf")] == ["d1"]
    info = await js.js.stream_info(LEGACY_STREAM)  # kept for an operator to look at, out of the way
    assert info.config.subjects == [PARKED_SUBJECT] and info.state.messages == 1
    assert await ensure_job_streams(js) == 0  # later starts neither fail nor duplicate
    assert [job for job, _ in await queued(js, "dxf")] == ["d1"]


async def test_events_published_without_waiting_are_still_stored(js: JetStream) -> None:
    """Lifecycle events go out as plain publishes (no acknowledgement awaited); the events stream
    still keeps them, in order, as CloudEvents."""
    await ensure_job_streams(js)
    for event in ("created", "started"):
        await js.publish_event(f"dev.cad3d.job.{event}", "/test", f"jobs.{'1' * 32}.{event}", {"n": event})
    await js.nc.flush()
    # The server stores a plain publish after it answers the flush: poll (bounded) for the count.
    for _ in range(100):
        info = await js.js.stream_info(EVENTS_STREAM)
        if info.state.messages >= 2:
            break
        await asyncio.sleep(0.05)
    assert info.state.messages == 2
    stored = [await js.js.get_msg(EVENTS_STREAM, seq) for seq in (info.state.first_seq, info.state.last_seq)]
    assert [decode_event(m.data or b"")["type"] for m in stored] == ["dev.cad3d.job.created", "dev.cad3d.job.started"]
    assert all((m.headers or {}).get("content-type") == "application/cloudevents+json" for m in stored)
