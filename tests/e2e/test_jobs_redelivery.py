"""A gateway (dispatcher) SIGKILLed mid-job loses nothing: JetStream redelivers the job after
``ack_wait`` and the restarted gateway completes it."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import JOBS_GATEWAY_ENV, Service
from tests.support.fixtures import many_squares
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
