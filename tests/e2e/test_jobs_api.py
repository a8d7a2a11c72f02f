"""The job API against real servers: listing, cancel and delete, events, idempotency, result cache.

One gateway (with a dispatcher) and one dxf service serve the whole module; nats-server and the
S3 server are the session's.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from minio import Minio

from tests.e2e.conftest import JOBS_BUCKET, Api
from tests.support.fixtures import many_squares, plate_with_hole

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
BROKEN_DXF = b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnot-a-number\n"


def objects_under(minio: Minio, prefix: str) -> list[str]:
    return [o.object_name for o in minio.list_objects(JOBS_BUCKET, prefix=prefix, recursive=True) if o.object_name]


def test_listing_is_per_tenant_newest_first_paginated_and_filtered(api: Api) -> None:
    made = [api.post("carol", plate_with_hole(10 + i, 10, 2), Prefer="wait=30").json()["id"] for i in range(3)]
    failed = api.post("carol", BROKEN_DXF, Prefer="wait=30").json()
    assert failed["status"] == "failed"
    api.post("bob", plate_with_hole(), Prefer="wait=30")

    first = api.get("carol", "/v1/conversions", limit=3).json()
    assert [j["id"] for j in first["items"]] == [failed["id"], *reversed(made)][:3]
    assert first["next_cursor"] == first["items"][-1]["id"] and first["next"]
    second = api.client.get(first["next"], headers=api.keys.auth("carol")).json()
    assert [j["id"] for j in second["items"]] == [made[0]] and second["next_cursor"] is None

    only_failed = api.get("carol", "/v1/conversions", status="failed").json()["items"]
    assert [j["id"] for j in only_failed] == [failed["id"]]
    succeeded = api.get("carol", "/v1/conversions", status="succeeded").json()["items"]
    assert sorted(j["id"] for j in succeeded) == sorted(made)

    bob_ids = {j["id"] for j in api.get("bob", "/v1/conversions", limit=100).json()["items"]}
    assert bob_ids and not bob_ids & {*made, failed["id"]}

    bad = api.get("carol", "/v1/conversions", cursor="../x")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_cancel_stops_a_running_job_and_deletes_its_files(api: Api, jobs_minio: Minio) -> None:
    created = api.post("alice", many_squares(4_000), {"format": "glb", "height": 1})
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    api.wait_for("alice", job_id, {"running"})

    assert api.client.delete(f"/v1/conversions/{job_id}", headers=api.keys.auth("reader")).status_code == 403
    assert api.client.delete(f"/v1/conversions/{job_id}", headers=api.keys.auth("bob")).status_code == 404
    canceled = api.client.delete(f"/v1/conversions/{job_id}", headers=api.keys.auth("alice"))
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled" and canceled.json()["artifacts"] == []

    # The dispatcher stops the service call and leaves nothing behind, not even late outputs.
    deadline = time.monotonic() + 15
    while "stopping its conversion" not in api.process.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"job {job_id} canceled; stopping its conversion" in api.process.log()
    time.sleep(1.0)
    job = api.get("alice", f"/v1/conversions/{job_id}").json()
    assert job["status"] == "canceled" and job["artifacts"] == []
    assert objects_under(jobs_minio, f"tenants/alice/jobs/{job_id}/") == []


def test_delete_of_a_finished_job_removes_input_and_artifacts(api: Api, jobs_minio: Minio) -> None:
    job = api.post("alice", plate_with_hole(30, 20, 4), Prefer="wait=30").json()
    assert job["status"] == "succeeded"
    prefix = f"tenants/alice/jobs/{job['id']}/"
    assert len(objects_under(jobs_minio, prefix)) >= 3  # input, model, report
    href = job["artifacts"][0]["href"]

    deleted = api.client.delete(job["links"]["self"], headers=api.keys.auth("alice")).json()
    assert deleted["status"] == "succeeded" and deleted["artifacts"] == []
    assert objects_under(jobs_minio, prefix) == []
    gone = api.client.get(href, headers=api.keys.auth("alice"))
    assert gone.status_code == 404 and gone.json()["code"] == "artifact_not_found"


def read_events(api: Api, name: str, job_id: str, timeout: float = 30) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    with api.client.stream(
        "GET", f"/v1/conversions/{job_id}/events", headers=api.keys.auth(name), timeout=timeout
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
    return events


def test_events_stream_progress_until_the_job_ends(api: Api) -> None:
    job_id = api.post("alice", many_squares(3_000), {"format": "stl", "height": 2}).json()["id"]
    events = read_events(api, "alice", job_id)
    names = [name for name, _ in events]
    assert names[0] == "status" and names[-1] == "succeeded", names
    assert events[0][1]["id"] == job_id
    progress = [data["progress"] for name, data in events if name == "progress"]
    assert progress == sorted(progress)  # never goes backwards
    assert api.get("alice", f"/v1/conversions/{job_id}").json()["status"] == "succeeded"

    # A finished job: its state, then the end of the stream.
    assert [name for name, _ in read_events(api, "alice", job_id)] == ["status"]
    other = api.client.get(f"/v1/conversions/{job_id}/events", headers=api.keys.auth("bob"))
    assert other.status_code == 404 and other.json()["code"] == "job_not_found"


def test_idempotency_key_returns_the_same_job_or_422(api: Api) -> None:
    drawing = plate_with_hole(44, 22, 3)
    first = api.post("alice", drawing, Idempotency_Key="order-17")
    assert first.status_code == 202
    again = api.post("alice", drawing, Idempotency_Key="order-17")
    assert again.status_code in (200, 202) and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]

    reused = api.post("alice", plate_with_hole(45, 22, 3), Idempotency_Key="order-17")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    other_options = api.post("alice", drawing, {"format": "glb", "height": 5}, Idempotency_Key="order-17")
    assert other_options.status_code == 422

    # Keys are per tenant: bob's "order-17" is his own.
    assert api.post("bob", drawing, Idempotency_Key="order-17").json()["id"] != first.json()["id"]


def cache_lookups(api: Api) -> dict[str, float]:
    counts: dict[str, float] = {}
    scraped = api.client.get("/metrics", follow_redirects=False)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    for line in scraped.text.splitlines():
        if line.startswith("cad3d_result_cache_lookups_total{"):
            outcome = line.split('outcome="')[1].split('"')[0]
            counts[outcome] = float(line.rsplit(" ", 1)[1])
    return counts


def test_result_cache_hit_reuses_artifacts_without_converting(api: Api, jobs_minio: Minio) -> None:
    drawing = plate_with_hole(61, 33, 7)
    options = {"format": "stl", "height": 4}
    source = api.post("alice", drawing, options, Prefer="wait=30").json()
    assert source["status"] == "succeeded" and source["cached"] is False
    before = cache_lookups(api)

    hit = api.post("alice", drawing, options)
    assert hit.status_code == 200 and hit.headers["x-cache"] == "hit"
    cached = hit.json()
    assert cached["cached"] is True and cached["attempts"] == 0 and cached["id"] != source["id"]
    assert cached["converter_version"] == source["converter_version"] != ""
    assert {(a["name"], a["sha256"]) for a in cached["artifacts"]} == {
        (a["name"], a["sha256"]) for a in source["artifacts"]
    }
    # Copies under the new job's own prefix: deleting one job never breaks the other.
    assert f"tenants/alice/jobs/{cached['id']}/outputs/model.stl" in objects_under(
        jobs_minio, f"tenants/alice/jobs/{cached['id']}/"
    )
    after = cache_lookups(api)
    assert after["hit"] == before.get("hit", 0) + 1

    bypass = api.post("alice", drawing, options, Cache_Control="no-cache", Prefer="wait=30").json()
    assert bypass["cached"] is False and bypass["attempts"] == 1
    assert api.post("alice", drawing, {"format": "stl", "height": 5}, Prefer="wait=30").json()["cached"] is False
    # Another tenant with the same bytes converts on its own.
    assert api.post("bob", drawing, options, Prefer="wait=30").json()["cached"] is False
    assert cache_lookups(api)["miss"] >= after.get("miss", 0) + 2

    # Once the job holding the cached result is deleted, the next request converts again.
    api.client.delete(source["links"]["self"], headers=api.keys.auth("alice"))
    again = api.post("alice", drawing, options, Prefer="wait=30").json()
    assert again["status"] == "succeeded" and again["cached"] is False
    assert api.post("alice", drawing, options).json()["cached"] is True


def test_bucket_lifecycle_rule_expires_tenant_files(api: Api, jobs_minio: Minio) -> None:
    config = jobs_minio.get_bucket_lifecycle(JOBS_BUCKET)
    assert config is not None
    rule = next(r for r in config.rules if r.rule_id == "cad3d-retention")
    assert rule.expiration is not None and rule.expiration.days == 3
    assert rule.rule_filter is not None and rule.rule_filter.prefix == "tenants/"


def _sample(metrics: str, series: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith(series + " "))
    return float(line.split()[-1])


def test_job_metrics_are_exported(api: Api) -> None:
    succeeded = 'cad3d_jobs_finished_total{kind="dxf",status="succeeded"}'
    before = api.client.get("/metrics").text
    # Every kind x outcome is exported from start-up, before any job of that kind ends.
    for kind in ("dxf", "pdf", "image"):
        for status in ("succeeded", "failed", "canceled"):
            assert f'cad3d_jobs_finished_total{{kind="{kind}",status="{status}"}}' in before
    api.post("alice", plate_with_hole(12, 12, 2.5), Prefer="wait=30", Cache_Control="no-cache")
    metrics = api.client.get("/metrics").text
    assert _sample(metrics, succeeded) >= _sample(before, succeeded) + 1
    assert 'cad3d_job_duration_seconds_count{kind="dxf",status="succeeded"}' in metrics
    assert 'cad3d_job_queue_depth{kind="dxf"}' in metrics
