"""Gateway policies that need no server: token buckets, cache keys, idempotency fingerprints, copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from cad3d_gateway.cache import cache_key, copy_result, reusable, route
from cad3d_gateway.idempotency import fingerprint, validate
from cad3d_gateway.jobstore import index_key, token
from cad3d_gateway.models import ArtifactInfo, InputInfo, JobRecord, JobStatus
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.quotas import TokenBuckets
from cad3d_gateway.submission import no_cache
from cad3d_kit.storage import LocalArtifactStore, ObjectNotFound


def test_token_bucket_spends_refills_and_reports() -> None:
    buckets = TokenBuckets(per_second=2, burst=3)
    states = [buckets.take("k", now=100.0) for _ in range(3)]
    assert [s.remaining for s in states] == [2, 1, 0]
    with pytest.raises(ProblemError) as refused:
        buckets.take("k", now=100.0)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert refused.value.headers["Retry-After"] == "1"
    assert refused.value.headers["RateLimit-Remaining"] == "0"
    assert buckets.take("other", now=100.0).remaining == 2  # one bucket per key
    assert buckets.take("k", now=100.5).remaining == 0  # 0.5 s at 2/s = one token back
    assert buckets.take("k", now=110.0).remaining == 2  # never more than the burst
    assert not TokenBuckets(0, 5).enabled


def test_cache_key_depends_on_everything_that_changes_the_result() -> None:
    base = cache_key("t", "dxf", "a" * 64, {"format": "glb", "height": 3}, "1.0")
    assert base == cache_key("t", "dxf", "a" * 64, {"height": 3, "format": "glb"}, "1.0")  # order-free
    others = {
        cache_key("u", "dxf", "a" * 64, {"format": "glb", "height": 3}, "1.0"),
        cache_key("t", "dxf", "b" * 64, {"format": "glb", "height": 3}, "1.0"),
        cache_key("t", "dxf", "a" * 64, {"format": "glb", "height": 4}, "1.0"),
        cache_key("t", "dxf", "a" * 64, {"format": "glb", "height": 3}, "1.1"),
    }
    assert base not in others and len(others) == 4
    assert route("pdf", {"format": "stl"}) == "pdf-dxf" and route("pdf", {"format": "dxf"}) == "pdf"


def test_idempotency_fingerprint_and_key_rules() -> None:
    assert fingerprint("a" * 64, {"x": 1, "y": 2}) == fingerprint("a" * 64, {"y": 2, "x": 1})
    assert fingerprint("a" * 64, {"x": 1}) != fingerprint("a" * 64, {"x": 2})
    for bad in ("", "x" * 256, "line\nbreak"):
        with pytest.raises(ProblemError) as error:
            validate(bad)
        assert error.value.code == "invalid_idempotency_key"


def test_no_cache_header_and_kv_tokens() -> None:
    assert no_cache("no-cache") and no_cache("max-age=0, No-Store") and not no_cache("max-age=60")
    assert not no_cache(None)
    assert token("a.b *>") == "612e62202a3e"  # NATS wildcards and dots cannot leak into KV keys
    assert index_key("acme", "f" * 32) == f"idx.61636d65.{'f' * 32}"


def job(job_id: str, artifacts: list[ArtifactInfo], status: JobStatus = JobStatus.succeeded) -> JobRecord:
    source = InputInfo(
        filename="a.dxf",
        media_type="image/vnd.dxf",
        size=1,
        sha256="0" * 64,
        key=f"tenants/t/jobs/{job_id}/input/source.dxf",
    )
    return JobRecord(id=job_id, tenant="t", kind="dxf", input=source, artifacts=artifacts, status=status)


def test_copy_result_gives_the_new_job_its_own_objects(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    source = job("1" * 32, [])
    store.put(source.input.key, b"0", "image/vnd.dxf")
    stored = store.put(f"{source.output_prefix}/model.glb", b"glTF" * 1000, "model/gltf-binary")
    source.artifacts = [
        ArtifactInfo(name="model.glb", media_type="model/gltf-binary", size=4000, sha256=stored.sha256, key=stored.key)
    ]
    target = job("2" * 32, [], JobStatus.queued)
    copied = copy_result(store, source, target)
    assert copied[0].key == f"{target.output_prefix}/model.glb" and copied[0].sha256 == stored.sha256
    store.delete_prefix(source.prefix)
    assert store.get(copied[0].key) == b"glTF" * 1000  # survives the source's deletion
    assert store.get(target.input.key) == b"0"  # the input is copied too
    with pytest.raises(ObjectNotFound):
        copy_result(store, source, job("3" * 32, []))
    finished = target.model_copy(update={"artifacts": copied, "status": JobStatus.succeeded})
    assert reusable(finished, "t")
    assert not reusable(finished, "other-tenant")
    assert not reusable(target.model_copy(update={"artifacts": copied}), "t")  # not finished
    assert not reusable(source.model_copy(update={"status": JobStatus.canceled}), "t")
    assert not reusable(None, "t")
