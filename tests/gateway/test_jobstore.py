"""JobStore updates against a real nats-server: a caller's known revision saves the read, and a
conflict with another writer still never loses either change."""

from __future__ import annotations

import pytest

from cad3d_gateway.jobstore import JOBS_BUCKET, JobStore
from cad3d_gateway.models import InputInfo, JobRecord, JobStatus
from cad3d_kit.messaging import JetStream


@pytest.fixture
async def jobs(js: JetStream) -> JobStore:
    return JobStore(await js.ensure_kv(JOBS_BUCKET))


def record(job_id: str = "0" * 32) -> JobRecord:
    return JobRecord(
        id=job_id,
        tenant="acme",
        key_id="ci",
        kind="dxf",
        input=InputInfo(filename="p.dxf", media_type="image/vnd.dxf", size=3, sha256="a" * 64, key="k/source.dxf"),
        options={"format": "stl"},
    )


def running(job: JobRecord) -> JobRecord:
    job.status, job.stage = JobStatus.running, "converting"
    return job


def progressed(job: JobRecord) -> JobRecord:
    job.progress = 40.0
    return job


async def test_known_revision_applies_without_reading(jobs: JobStore) -> None:
    await jobs.create(record())
    job, revision = await jobs.update_revision(record().id, running)
    assert job.status == JobStatus.running
    # A known revision that is current: the write goes through on it.
    job, second = await jobs.update_revision(job.id, progressed, (job, revision))
    assert second > revision
    stored = await jobs.get(job.id)
    assert stored is not None and stored.progress == 40.0 and stored.status == JobStatus.running


async def test_stale_known_revision_rereads_and_keeps_the_other_change(jobs: JobStore) -> None:
    await jobs.create(record())
    stale = await jobs.update_revision(record().id, running)

    def cancel(job: JobRecord) -> JobRecord:
        job.status, job.stage = JobStatus.canceled, "canceled"
        return job

    await jobs.update(record().id, cancel)  # another writer (the API) in between

    def succeed(job: JobRecord) -> JobRecord | None:
        if job.status.terminal:
            return None
        job.status = JobStatus.succeeded
        return job

    result = await jobs.update(record().id, succeed, stale)
    assert result.status == JobStatus.canceled  # judged on the stored record, not the stale one
    stored = await jobs.get(record().id)
    assert stored is not None and stored.status == JobStatus.canceled


async def test_leave_as_is_on_a_known_copy_is_judged_on_the_stored_record(jobs: JobStore) -> None:
    await jobs.create(record())
    job, revision = await jobs.update_revision(record().id, running)
    # The caller's copy says queued (e.g. out of date); the stored record is running.
    outdated = job.model_copy(update={"status": JobStatus.queued})
    result = await jobs.update(
        job.id, lambda j: progressed(j) if j.status == JobStatus.running else None, (outdated, revision)
    )
    assert result.progress == 40.0


async def active_keys(jobs: JobStore) -> list[str]:
    return [key for key in await jobs.kv.keys() if key.startswith("active.")]


def finished(job: JobRecord) -> JobRecord:
    job.status = JobStatus.succeeded
    return job


async def test_only_jobs_created_under_a_limit_hold_an_active_key(jobs: JobStore) -> None:
    counted = record("1" * 32)
    uncounted = record("2" * 32).model_copy(update={"counted": False})
    await jobs.create(counted)
    await jobs.create(uncounted)
    assert await jobs.active_count("ci") == 1
    await jobs.update(counted.id, finished)  # finishing releases the key
    await jobs.update(uncounted.id, finished)
    assert await jobs.active_count("ci") == 0 and await active_keys(jobs) == []


def test_records_from_before_the_field_count_as_holding_a_key() -> None:
    stored = record().model_dump(mode="json")
    del stored["counted"]
    assert JobRecord.model_validate(stored).counted
