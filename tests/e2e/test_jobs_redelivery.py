"""Job delivery against real servers: a gateway (dispatcher) SIGKILLed mid-job loses nothing
(JetStream redelivers the job after ``ack_wait`` and the restarted gateway completes it); a stalled
service holds up only its own kind; jobs queued on the single stream of earlier releases survive
the move to per-kind streams."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError

from cad3d.pdf.v1 import pdf_pb2_grpc
from cad3d_gateway.jobqueue import JOB_KINDS, LEGACY_STREAM, job_stream
from cad3d_kit.messaging import JetStream
from tests.e2e.conftest import JOBS_GATEWAY_ENV, Service
from tests.support.fixtures import many_squares, plate_with_hole
from tests.support.servers import nats_server, start_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nats_server(tmp_path_factory.mktemp("redelivery-nats")) as url:
        yield url


def job_state(url: str, job_id: str) -> dict[str, object]:
    state: dict[str, object] = httpx.get(f"{url}/v1/conversions/{job_id}", timeout=10).json()
    return state


def test_job_survives_a_killed_gateway(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], own_nats: str, dxf_service: Service
) -> None:
    workdir = tmp_path_factory.mktemp("redelivery")
    env = {**JOBS_GATEWAY_ENV, "CAD3D_GATEWAY_ACK_WAIT_SECONDS": "2", "CAD3D_GATEWAY_DISPATCHER_CONCURRENCY": "1"}
    backends = {"dxf": dxf_service.address}
    first, url = start_gateway(workdir, jobs_storage, own_nats, backends, env)
    try:
        created = httpx.post(
            f"{url}/v1/conversions",
            files={"file": ("many.dxf", many_squares(2_500))},
            data={"options": '{"format": "stl", "height": 1}'},
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 20
        while job_state(url, job_id)["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
    finally:
        first.stop(signal.SIGKILL)

    second, url = start_gateway(workdir, jobs_storage, own_nats, backends, env)
    try:
        deadline = time.monotonic() + 60
        while (job := job_state(url, job_id))["status"] not in ("succeeded", "failed", "canceled"):
            assert time.monotonic() < deadline, f"not finished after the restart: {job}"
            time.sleep(0.2)
        assert job["status"] == "succeeded", job
        assert job["attempts"] == 2  # the killed run, then the redelivered one
    finally:
        second.stop()


def test_job_past_its_timeout_fails_with_a_code(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], own_nats: str, dxf_service: Service
) -> None:
    workdir = tmp_path_factory.mktemp("timeout")
    gateway, url = start_gateway(
        workdir,
        jobs_storage,
        own_nats,
        {"dxf": dxf_service.address},
        {**JOBS_GATEWAY_ENV, "CAD3D_GATEWAY_JOB_TIMEOUT_SECONDS": "0.5"},
    )
    try:
        response = httpx.post(
            f"{url}/v1/conversions",
            files={"file": ("many.dxf", many_squares(2_500))},
            data={"options": '{"format": "stl", "height": 1}'},
            headers={"Prefer": "wait=20"},
            timeout=30,
        )
        job = response.json()
        assert job["status"] == "failed", job
        # Whichever fires first: the dispatcher's job deadline or the gRPC call's.
        assert job["error"]["code"] in {"job_timeout", "deadline_exceeded"}
        assert job["attempts"] == 1  # a timeout is final, not retried
    finally:
        gateway.stop()


@dataclass
class StalledService:
    """A pdf service that is healthy but never answers a conversion (until released)."""

    address: str = ""
    calls: int = 0
    release: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def stalled_pdf_service() -> Iterator[StalledService]:
    state = StalledService()

    class Stalled(pdf_pb2_grpc.PdfServiceServicer):
        def ConvertStream(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            state.calls += 1
            while context.is_active() and not state.release.wait(0.1):
                pass
            yield from ()  # the stream ends without a result

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pdf_pb2_grpc.add_PdfServiceServicer_to_server(Stalled(), server)
    checks = health.HealthServicer()
    checks.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    state.address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    try:
        yield state
    finally:
        state.release.set()
        server.stop(grace=None)


def queue_depths(url: str) -> dict[str, float]:
    prefix = "cad3d_job_queue_depth{kind="
    return {
        line[len(prefix) + 1 : line.index("}") - 1]: float(line.split()[-1])
        for line in httpx.get(f"{url}/metrics").text.splitlines()
        if line.startswith(prefix)
    }


def test_a_stalled_kind_does_not_hold_up_the_others(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], dxf_service: Service
) -> None:
    workdir = tmp_path_factory.mktemp("no-head-of-line")
    env = {
        **JOBS_GATEWAY_ENV,
        "CAD3D_GATEWAY_DISPATCHER_CONCURRENCY": "1",  # one slot per kind, so a stalled job fills its kind
        "CAD3D_GATEWAY_JOB_TIMEOUT_SECONDS": "60",
    }
    with stalled_pdf_service() as pdf, nats_server(workdir) as nats_url:
        backends = {"dxf": dxf_service.address, "pdf": pdf.address}
        gateway, url = start_gateway(workdir, jobs_storage, nats_url, backends, env)
        try:
            pdf_jobs = []
            for _ in range(3):
                created = httpx.post(f"{url}/v1/conversions", files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")})
                assert created.status_code == 202, created.text
                pdf_jobs.append(created.json()["id"])
            deadline = time.monotonic() + 20
            while pdf.calls < 1:
                assert time.monotonic() < deadline, "the pdf service was never called"
                time.sleep(0.05)
            time.sleep(1.5)  # past the 1 s pull timeout: no fetch issued before the pdf slot filled is left

            started = time.monotonic()
            response = httpx.post(
                f"{url}/v1/conversions",
                files={"file": ("p.dxf", plate_with_hole(17, 9, 3))},
                data={"options": '{"format": "stl", "height": 1}'},
                headers={"Prefer": "wait=20"},
                timeout=30,
            )
            elapsed = time.monotonic() - started
            assert response.status_code == 200 and response.json()["status"] == "succeeded", response.text
            assert elapsed < 10, f"the dxf job took {elapsed:.1f} s behind the stalled pdf jobs"

            # Meanwhile the pdf kind did not move: one job stuck on the service, two waiting behind it.
            statuses = sorted(httpx.get(f"{url}/v1/conversions/{job}").json()["status"] for job in pdf_jobs)
            assert statuses == ["queued", "queued", "running"]
            assert pdf.calls == 1
            deadline = time.monotonic() + 5
            while (depths := queue_depths(url)) != {"dxf": 0.0, "pdf": 3.0}:
                assert time.monotonic() < deadline, depths
                time.sleep(0.2)
        finally:
            pdf.release.set()
            gateway.stop()


async def to_legacy_layout(nats_url: str) -> list[str]:
    """Put every queued job back on the single stream of earlier releases; returns the job ids."""
    js = await JetStream.connect(nats_url, "legacy-layout")
    try:
        messages = []
        for kind in JOB_KINDS:
            info = await js.js.stream_info(job_stream(kind))
            if info.state.messages:
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    messages.append(await js.js.get_msg(job_stream(kind), seq))
            await js.js.delete_stream(job_stream(kind))
        await js.ensure_stream(LEGACY_STREAM, ["cad3d.jobs.>"], work_queue=True)
        await js.js.add_consumer(
            LEGACY_STREAM, ConsumerConfig(durable_name="dispatchers", ack_policy=AckPolicy.EXPLICIT)
        )
        for msg in messages:
            await js.js.publish(msg.subject or "", msg.data or b"", headers=msg.headers)
        return [(msg.data or b"").decode() for msg in messages]
    finally:
        await js.close()


async def legacy_stream_exists(nats_url: str) -> bool:
    js = await JetStream.connect(nats_url, "legacy-check")
    try:
        await js.js.stream_info(LEGACY_STREAM)
        return True
    except NotFoundError:
        return False
    finally:
        await js.close()


def test_jobs_queued_on_the_legacy_stream_complete_after_the_upgrade(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], dxf_service: Service
) -> None:
    workdir = tmp_path_factory.mktemp("legacy-upgrade")
    backends = {"dxf": dxf_service.address}
    with nats_server(workdir) as nats_url:
        # An API-only gateway accepts the job and nothing dispatches it ...
        api, url = start_gateway(
            workdir, jobs_storage, nats_url, backends, {**JOBS_GATEWAY_ENV, "CAD3D_GATEWAY_ROLE": "api"}
        )
        try:
            created = httpx.post(
                f"{url}/v1/conversions",
                files={"file": ("p.dxf", plate_with_hole(19, 7, 2))},
                data={"options": '{"format": "stl", "height": 1}'},
            )
            assert created.status_code == 202, created.text
        finally:
            api.stop()
        # ... then the queue is put back as an earlier release left it: one stream for every kind.
        assert asyncio.run(to_legacy_layout(nats_url)) == [created.json()["id"]]

        gateway, url = start_gateway(workdir, jobs_storage, nats_url, backends, JOBS_GATEWAY_ENV)
        try:
            deadline = time.monotonic() + 30
            while (job := job_state(url, created.json()["id"]))["status"] not in ("succeeded", "failed", "canceled"):
                assert time.monotonic() < deadline, f"the moved job did not finish: {job}"
                time.sleep(0.1)
            assert job["status"] == "succeeded", job
            assert not asyncio.run(legacy_stream_exists(nats_url))
            assert "legacy job stream CAD3D_JOBS deleted after moving 1 jobs" in gateway.log()
        finally:
            gateway.stop()
