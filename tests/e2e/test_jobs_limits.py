"""Limits against real servers: per-key rate, concurrent jobs and storage quota; queue backpressure;
a retry whose Idempotency-Key is held by a request still in progress.

The gateways here are API-only replicas on their own nats-server, so accepted jobs stay queued
(nothing dispatches them) and the queue depth and unfinished-job counts are exact.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cad3d_gateway import idempotency
from cad3d_gateway.jobstore import JOBS_BUCKET, JobStore
from cad3d_gateway.models import InputInfo, JobRecord
from cad3d_gateway.options import parse_options
from cad3d_gateway.submission import new_job_id
from cad3d_kit.messaging import JetStream
from tests.e2e.conftest import JOBS_GATEWAY_ENV, Keys, Service, write_keys
from tests.support.fixtures import plate_with_hole
from tests.support.servers import nats_server, start_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nats_server(tmp_path_factory.mktemp("limits-nats")) as url:
        yield url


def api_only_gateway(
    workdir: Path, storage: dict[str, str], nats_url: str, dxf: Service, env: dict[str, str]
) -> Iterator[tuple[str, Keys]]:
    keys = write_keys(workdir, {name: (name, ["read", "write"]) for name in ("rl", "act", "q", "q2", "q3", "quota")})
    process, url = start_gateway(
        workdir,
        storage,
        nats_url,
        {"dxf": dxf.address},
        {**JOBS_GATEWAY_ENV, "CAD3D_GATEWAY_API_KEYS_FILE": str(keys.file), "CAD3D_GATEWAY_ROLE": "api", **env},
    )
    yield url, keys
    process.stop()


@pytest.fixture(scope="module")
def limited(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], own_nats: str, dxf_service: Service
) -> Iterator[tuple[str, Keys]]:
    yield from api_only_gateway(
        tmp_path_factory.mktemp("limited"),
        jobs_storage,
        own_nats,
        dxf_service,
        {
            "CAD3D_GATEWAY_RATE_LIMIT_PER_SECOND": "2",
            "CAD3D_GATEWAY_RATE_LIMIT_BURST": "4",
            "CAD3D_GATEWAY_MAX_ACTIVE_JOBS_PER_KEY": "2",
        },
    )


@pytest.fixture(scope="module")
def small_queue(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], dxf_service: Service
) -> Iterator[tuple[str, Keys]]:
    """A queue of 3 on a nats-server of its own: no other test's jobs count towards it."""
    workdir = tmp_path_factory.mktemp("small-queue")
    with nats_server(workdir) as nats_url:
        yield from api_only_gateway(
            workdir,
            jobs_storage,
            nats_url,
            dxf_service,
            {"CAD3D_GATEWAY_MAX_ACTIVE_JOBS_PER_KEY": "2", "CAD3D_GATEWAY_MAX_QUEUE_DEPTH": "3"},
        )


@pytest.fixture(scope="module")
def quota(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], own_nats: str, dxf_service: Service
) -> Iterator[tuple[str, Keys]]:
    yield from api_only_gateway(
        tmp_path_factory.mktemp("quota"),
        jobs_storage,
        own_nats,
        dxf_service,
        {"CAD3D_GATEWAY_MAX_STORED_BYTES_PER_KEY": "1", "CAD3D_GATEWAY_MAX_QUEUE_DEPTH": "0"},
    )


def post(url: str, keys: Keys, name: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/conversions", files={"file": ("p.dxf", plate_with_hole())}, headers=keys.auth(name))


def test_rate_limit_answers_429_with_retry_after_and_ratelimit_headers(limited: tuple[str, Keys]) -> None:
    url, keys = limited
    with httpx.Client(base_url=url, headers=keys.auth("rl")) as client:
        answers = [client.get("/v1/conversions") for _ in range(5)]
        assert [a.status_code for a in answers[:4]] == [200] * 4
        assert [int(a.headers["ratelimit-remaining"]) for a in answers[:4]] == [3, 2, 1, 0]
        assert all(a.headers["ratelimit-limit"] == "4" for a in answers[:4])
        refused = answers[4]
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1 and refused.headers["ratelimit-remaining"] == "0"
        # Other keys have their own buckets.
        assert httpx.get(f"{url}/v1/conversions", headers=keys.auth("act")).status_code == 200
        time.sleep(0.6)  # 2 tokens/s: one is back
        assert client.get("/v1/conversions").status_code == 200


def test_unfinished_jobs_per_key_are_limited(limited: tuple[str, Keys]) -> None:
    url, keys = limited
    assert [post(url, keys, "act").status_code for _ in range(2)] == [202, 202]
    third = post(url, keys, "act")
    assert third.status_code == 429 and third.json()["code"] == "too_many_active_jobs"
    assert "retry-after" in third.headers


def test_full_queue_answers_503_with_retry_after(small_queue: tuple[str, Keys]) -> None:
    url, keys = small_queue
    # Fill the queue past its limit of 3 from several keys (each may have 2 unfinished jobs).
    senders = ["q", "q", "q2", "q2", "q3", "q3"]
    statuses = []
    for name in senders:
        response = post(url, keys, name)
        statuses.append(response.status_code)
        if response.status_code == 503:
            break
        time.sleep(0.4)  # the depth is sampled once a second
    assert response.status_code == 503, statuses
    assert set(statuses[:-1]) == {202}
    assert response.json()["code"] == "queue_full" and int(response.headers["retry-after"]) >= 1
    depth = next(
        float(line.split()[-1])
        for line in httpx.get(f"{url}/metrics").text.splitlines()
        if line.startswith('cad3d_job_queue_depth{kind="dxf"} ')
    )
    assert depth >= 3


def test_storage_quota_per_key(quota: tuple[str, Keys]) -> None:
    url, keys = quota
    assert post(url, keys, "quota").status_code == 202
    refused = post(url, keys, "quota")
    assert refused.status_code == 507 and refused.json()["code"] == "storage_quota_exceeded"
    assert post(url, keys, "rl").status_code == 202  # another key's quota is its own
    # Deleting the job frees its bytes.
    job_id = httpx.get(f"{url}/v1/conversions", headers=keys.auth("quota")).json()["items"][0]["id"]
    assert httpx.delete(f"{url}/v1/conversions/{job_id}", headers=keys.auth("quota")).status_code == 200
    assert post(url, keys, "quota").status_code == 202


def test_callback_url_needs_a_webhook_secret(quota: tuple[str, Keys]) -> None:
    url, keys = quota
    response = httpx.post(
        f"{url}/v1/conversions",
        files={"file": ("p.dxf", plate_with_hole())},
        data={"callback_url": "https://example.com/hook"},
        headers=keys.auth("q3"),
    )
    assert response.status_code == 422 and response.json()["code"] == "webhooks_disabled"


@pytest.fixture(scope="module")
def idempotent(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], dxf_service: Service
) -> Iterator[tuple[str, Keys, str]]:
    """An API-only gateway and the URL of its own nats-server (the test writes to its job KV)."""
    workdir = tmp_path_factory.mktemp("idempotency")
    with nats_server(workdir) as nats_url:
        for url, keys in api_only_gateway(workdir, jobs_storage, nats_url, dxf_service, {}):
            yield url, keys, nats_url


def test_a_retry_while_the_first_request_is_still_in_progress_answers_409(idempotent: tuple[str, Keys, str]) -> None:
    url, keys, nats_url = idempotent
    drawing, options = plate_with_hole(31, 12, 4), '{"format": "stl", "height": 2}'
    normalised = parse_options("dxf", options)
    fingerprint = idempotency.fingerprint(hashlib.sha256(drawing).hexdigest(), normalised)
    earlier = JobRecord(
        id=new_job_id(),
        tenant="q",
        key_id="q",
        kind="dxf",
        input=InputInfo(
            filename="p.dxf",
            media_type="image/vnd.dxf",
            size=len(drawing),
            sha256=hashlib.sha256(drawing).hexdigest(),
            key="k",
        ),
        options=normalised,
    )

    def send() -> httpx.Response:
        return httpx.post(
            f"{url}/v1/conversions",
            files={"file": ("p.dxf", drawing)},
            data={"options": options},
            headers={**keys.auth("q"), "Idempotency-Key": "order-99"},
            timeout=30,
        )

    # The earlier request with this key has claimed it (same content) but not written its job yet.
    asyncio.run(claim_only(nats_url, "q", "order-99", fingerprint, earlier.id))
    response = send()
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "idempotent_request_in_progress"
    assert httpx.get(f"{url}/v1/conversions", headers=keys.auth("q")).json()["items"] == []  # no second job

    # Once the earlier request's job exists, the same retry gets that job.
    asyncio.run(write_job(nats_url, earlier))
    again = send()
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == earlier.id


async def claim_only(nats_url: str, tenant: str, key: str, fingerprint: str, job_id: str) -> None:
    """Claim ``key`` in the job KV the way a request does before it creates its job."""
    js = await JetStream.connect(nats_url, "idempotency-claim")
    try:
        kv = await js.js.key_value(JOBS_BUCKET)
        assert await idempotency.claim(kv, tenant, key, fingerprint, job_id) is None
    finally:
        await js.close()


async def write_job(nats_url: str, job: JobRecord) -> None:
    js = await JetStream.connect(nats_url, "idempotency-job")
    try:
        await JobStore(await js.js.key_value(JOBS_BUCKET)).create(job)
    finally:
        await js.close()
