"""Jobs under faults (reliability findings 1, 3 and 4): every job ends within a bounded time whatever
crashes, a service outage only delays jobs, storage trouble and crashed workers are retried up to a
cap, and a job converted twice keeps exactly the files its record describes.

The API runs in-process on a real nats-server in the ``api`` role; the dispatchers are started and
"crashed" (stopped without acknowledging, as a killed process leaves its jobs) by each test. The dxf
service is a gRPC server of this test that writes its outputs to the same local store."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_gateway.app import create_app
from cad3d_gateway.dispatcher import Dispatcher
from cad3d_gateway.jobqueue import CONSUMER, job_stream
from cad3d_gateway.retries import RetryPolicy
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_kit.conversion_service import dict_to_struct
from cad3d_kit.errors import to_grpc_status
from cad3d_kit.storage import LocalArtifactStore
from tests.support.fixtures import plate_with_hole
from tests.support.servers import free_port

FAILURES = {
    "storage": ConversionError("storage_error", "the store did not answer", ErrorKind.UNAVAILABLE),
    "crash": ConversionError("conversion_crashed", "the worker died", ErrorKind.RESOURCE_EXHAUSTED),
}


@dataclass
class FakeDxf(dxf_pb2_grpc.DxfServiceServicer):
    """Answers each call by the next step of ``script``: ok, hang, internal, or a FAILURES name."""

    store: LocalArtifactStore
    script: list[str] = field(default_factory=list)
    calls: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        self.calls += 1
        call = self.calls
        step = self.script.pop(0) if self.script else "ok"
        yield dxf_pb2.ConvertStreamResponse(progress=common_pb2.Progress(percent=10, stage="reading"))
        if step in FAILURES:
            status = to_grpc_status(FAILURES[step])
            await context.abort(status.code, status.details, status.trailing_metadata)
        if step == "internal":
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the service log")
        if step == "hang":
            await self.release.wait()
        # Each call's output differs in content and size, as two runs of a real conversion can
        # (a report with timings, a mesh with another triangle order).
        data = b"solid x\n" + b"facet %d\n" % call * (100 + call) + b"endsolid x\n"
        stored = self.store.put(f"{request.output.prefix}/model.stl", data, "model/stl")
        artifact = common_pb2.Artifact(
            descriptor=common_pb2.ArtifactDescriptor(
                name="model.stl", media_type="model/stl", size_bytes=stored.size, sha256=stored.sha256
            ),
            object=common_pb2.ObjectRef(bucket=self.store.bucket, key=stored.key),
        )
        report = dict_to_struct({"call": call, "padding": "x" * call})
        result = dxf_pb2.ConvertResponse(artifacts=[artifact], report=report, converter_version="fake/1")
        yield dxf_pb2.ConvertStreamResponse(result=result)


@dataclass
class Rig:
    client: httpx.AsyncClient
    app: Any
    dxf: FakeDxf
    address: str
    settings: GatewaySettings
    server: grpc.aio.Server | None = None
    dispatchers: list[Dispatcher] = field(default_factory=list)

    async def serve(self) -> None:
        server = grpc.aio.server()
        dxf_pb2_grpc.add_DxfServiceServicer_to_server(self.dxf, server)
        server.add_insecure_port(self.address)
        await server.start()
        self.server = server

    def dispatcher(self, concurrency: int = 1) -> Dispatcher:
        state, settings = self.app.state, self.settings
        policy = RetryPolicy(
            settings.job_max_attempts,
            settings.retry_base_seconds,
            settings.retry_max_delay_seconds,
            settings.job_deadline_seconds,
        )
        dispatcher = Dispatcher(
            state.js,
            state.jobs,
            state.store,
            state.backends,
            concurrency,
            settings.job_max_attempts,
            ack_wait_seconds=settings.ack_wait_seconds,
            job_timeout_seconds=settings.job_timeout_seconds,
            policy=policy,
        )
        self.dispatchers.append(dispatcher)
        return dispatcher

    async def submit(self) -> str:
        response = await self.client.post(
            "/v1/conversions",
            files={"file": ("plate.dxf", plate_with_hole())},
            data={"options": '{"format": "stl", "height": 2}'},
            headers={"Cache-Control": "no-cache"},
        )
        assert response.status_code == 202, response.text
        job_id: str = response.json()["id"]
        return job_id

    async def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = (await self.client.get(f"/v1/conversions/{job_id}")).json()
        return job

    async def until(self, job_id: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not check(job := await self.job(job_id)):
            assert time.monotonic() < deadline, f"not reached within {timeout} s: {job}"
            await asyncio.sleep(0.05)
        return job

    async def queued_messages(self) -> int:
        info = await self.app.state.js.js.stream_info(job_stream("dxf"))
        return int(info.state.messages)


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("succeeded", "failed", "canceled")


@contextlib.asynccontextmanager
async def rig(nats_url: str, tmp_path: Path, serve: bool = True, **settings: Any) -> AsyncIterator[Rig]:
    address = f"127.0.0.1:{free_port()}"
    config = GatewaySettings(
        nats_url=nats_url, storage_dir=tmp_path / "store", dxf_address=address, role="api", **settings
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            bench = Rig(client, app, FakeDxf(app.state.store), address, config)
            if serve:
                await bench.serve()
            try:
                yield bench
            finally:
                bench.dxf.release.set()
                for dispatcher in bench.dispatchers:
                    await dispatcher.stop(grace=1)
                if bench.server is not None:
                    await bench.server.stop(None)


async def crash(dispatcher: Dispatcher) -> None:
    """Stop as a killed process does: the running job is neither acknowledged nor NAKed."""
    await dispatcher.stop(grace=0)
    await asyncio.sleep(0.1)


async def test_a_job_whose_runs_all_crash_fails_with_a_code(nats_url: str, tmp_path: Path) -> None:
    async with rig(nats_url, tmp_path, job_max_attempts=2, ack_wait_seconds=1) as bench:
        bench.dxf.script = ["hang", "hang", "hang"]
        job_id = await bench.submit()
        for attempt in (1, 2):
            dispatcher = bench.dispatcher()
            await dispatcher.start()
            await bench.until(job_id, lambda j, n=attempt: j["status"] == "running" and j["attempts"] == n)
            await crash(dispatcher)
        # JetStream keeps redelivering (no max_deliver to stop at silently); the next dispatcher
        # that gets the job sees two runs started and none finished, and fails it.
        await bench.dispatcher().start()
        job = await bench.until(job_id, finished, timeout=10)
        assert job["status"] == "failed", job
        assert job["error"]["code"] == "too_many_attempts"
        assert job["attempts"] == 2 and bench.dxf.calls == 2
        assert await bench.queued_messages() == 0  # acknowledged: nothing left to redeliver


async def test_consumers_of_earlier_versions_lose_their_max_deliver(nats_url: str, tmp_path: Path) -> None:
    from nats.js.api import AckPolicy, ConsumerConfig

    async with rig(nats_url, tmp_path) as bench:
        js = bench.app.state.js.js
        old = ConsumerConfig(durable_name=CONSUMER, ack_policy=AckPolicy.EXPLICIT, max_deliver=5)
        await js.pull_subscribe("cad3d.jobs.dxf", durable=CONSUMER, stream=job_stream("dxf"), config=old)
        await bench.dispatcher().start()
        info = await js.consumer_info(job_stream("dxf"), CONSUMER)
        assert info.config.max_deliver == -1


async def test_a_service_outage_delays_jobs_without_using_their_attempts(nats_url: str, tmp_path: Path) -> None:
    settings = {"job_max_attempts": 2, "retry_base_seconds": 0.1, "retry_max_delay_seconds": 0.3}
    async with rig(nats_url, tmp_path, serve=False, **settings) as bench:
        await bench.dispatcher().start()
        job_id = await bench.submit()
        await asyncio.sleep(3)  # some ten tries while nothing listens on the service's address
        job = await bench.job(job_id)
        assert job["status"] == "queued", job
        assert job["attempts"] == 0
        assert "waiting for the dxf service (backend_unavailable)" in job["stage"]
        await bench.serve()  # the service comes back
        job = await bench.until(job_id, finished, timeout=15)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 1


async def test_the_job_deadline_bounds_the_wait(nats_url: str, tmp_path: Path) -> None:
    settings = {"job_deadline_seconds": 1.5, "retry_base_seconds": 0.2, "retry_max_delay_seconds": 0.2}
    async with rig(nats_url, tmp_path, serve=False, **settings) as bench:
        await bench.dispatcher().start()
        job_id = await bench.submit()
        job = await bench.until(job_id, finished, timeout=10)
        assert job["status"] == "failed", job
        assert job["error"]["code"] == "job_deadline_exceeded"


@pytest.mark.parametrize("failure", ["storage", "crash", "internal"])
async def test_a_failed_run_is_retried(nats_url: str, tmp_path: Path, failure: str) -> None:
    async with rig(nats_url, tmp_path, retry_base_seconds=0.1) as bench:
        bench.dxf.script = [failure]
        await bench.dispatcher().start()
        job = await bench.until(await bench.submit(), finished)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2


async def test_retries_stop_at_the_attempt_cap(nats_url: str, tmp_path: Path) -> None:
    async with rig(nats_url, tmp_path, job_max_attempts=3, retry_base_seconds=0.1) as bench:
        bench.dxf.script = ["storage", "crash", "crash", "ok"]
        await bench.dispatcher().start()
        job = await bench.until(await bench.submit(), finished)
        assert job["status"] == "failed", job
        assert job["error"]["code"] == "conversion_crashed" and job["attempts"] == 3


async def test_a_job_converted_twice_keeps_the_files_its_record_describes(nats_url: str, tmp_path: Path) -> None:
    async with rig(nats_url, tmp_path, ack_wait_seconds=1) as bench:
        bench.dxf.script = ["hang", "ok"]
        stalled = bench.dispatcher()

        async def no_heartbeat(msg: Any) -> None:  # a dispatcher too busy to heartbeat in time
            await asyncio.Event().wait()

        stalled._heartbeat = no_heartbeat  # type: ignore[method-assign]
        await stalled.start()
        job_id = await bench.submit()
        await bench.until(job_id, lambda j: j["status"] == "running")
        await bench.dispatcher().start()  # gets the redelivery after ack_wait and finishes first
        job = await bench.until(job_id, finished)
        assert job["status"] == "succeeded" and job["attempts"] == 2, job
        bench.dxf.release.set()  # the first run finishes too, with other bytes
        deadline = time.monotonic() + 10
        while await bench.queued_messages():
            assert time.monotonic() < deadline, "the first run never ended"
            await asyncio.sleep(0.05)
        assert bench.dxf.calls == 2
        assert await bench.job(job_id) == job  # the record is the finished run's
        names = {a["name"] for a in job["artifacts"]}
        assert names == {"model.stl", "report.json"}
        for artifact in job["artifacts"]:
            response = await bench.client.get(artifact["href"].removeprefix("http://gateway"))
            assert response.status_code == 200
            assert int(response.headers["content-length"]) == len(response.content) == artifact["size"]
            assert hashlib.sha256(response.content).hexdigest() == artifact["sha256"]
        assert b'"call": 2' in (await bench.client.get(f"/v1/conversions/{job_id}/artifacts/report.json")).content
        # The losing run's files are gone; only the finished run's remain.
        stored = list((tmp_path / "store").rglob("model.stl"))
        model = await bench.client.get(f"/v1/conversions/{job_id}/artifacts/model.stl")
        assert len(stored) == 1 and stored[0].read_bytes() == model.content


async def test_a_message_ahead_of_its_record_waits_for_it(
    nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cad3d_gateway import dispatcher as dispatching
    from cad3d_gateway.jobqueue import job_subject
    from cad3d_gateway.models import InputInfo, JobRecord
    from cad3d_gateway.submission import new_job_id

    monkeypatch.setattr(dispatching, "RECORD_GRACE_SECONDS", 1.5)
    async with rig(nats_url, tmp_path) as bench:
        state = bench.app.state
        await bench.dispatcher().start()
        orphan, late = new_job_id(), new_job_id()
        # The API publishes before it writes the record; NATS may fail in between (orphan) ...
        await state.js.publish(job_subject("dxf"), orphan.encode(), msg_id=orphan)
        await state.js.publish(job_subject("dxf"), late.encode(), msg_id=late)
        await asyncio.sleep(0.5)  # ... or the dispatcher may simply be quicker (late)
        stored = state.store.put(f"tenants/t/jobs/{late}/input/source.dxf", plate_with_hole(), "image/vnd.dxf")
        info = InputInfo(
            filename="p.dxf", media_type="image/vnd.dxf", size=stored.size, sha256=stored.sha256, key=stored.key
        )
        await state.jobs.create(JobRecord(id=late, tenant="t", kind="dxf", input=info, options={"format": "stl"}))
        deadline = time.monotonic() + 10
        while (record := await state.jobs.get(late)) is None or not record.status.terminal:
            assert time.monotonic() < deadline, record
            await asyncio.sleep(0.05)
        assert record.status == "succeeded"
        while await bench.queued_messages():  # the orphan is dropped once its grace is over
            assert time.monotonic() < deadline, "the message without a record stayed queued"
            await asyncio.sleep(0.1)
        assert await state.jobs.get(orphan) is None
