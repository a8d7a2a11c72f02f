"""The result cache: a finished job's artifacts reused for the same input, options and converter.

Key = sha256 over (tenant, route, sha256 of the input, normalised options, converter version).
Entries live in their own JetStream KV bucket (TTL = job retention) and point at the job that
produced the result; a hit copies that job's artifacts under the new job's own prefix, so deleting
either job never breaks the other. The cache is per tenant: a shared one would let a tenant learn
that another tenant converted a given file (by timing or by the ``cached`` flag).

The converter version is the one the service reported on its last successful conversion of this
route (the dispatcher records it). After a service upgrade the first lookup may still use the old
version; the first conversion on the new version replaces it, after which old entries never match.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from cad3d_gateway.models import ArtifactInfo, JobRecord, JobStatus
from cad3d_kit.storage import ArtifactStore

CACHE_BUCKET = "cad3d_cache"
THREE_D_FORMATS = ("glb", "stl", "obj")
VERSION_MEMO_SECONDS = 2.0


def route(kind: str, options: dict[str, Any]) -> str:
    """Which services a job goes through: PDF to a 3D format is PDF then DXF."""
    if kind == "pdf" and options.get("format") in THREE_D_FORMATS:
        return "pdf-dxf"
    return kind


def cache_key(tenant: str, job_route: str, input_sha256: str, options: dict[str, Any], version: str) -> str:
    normalised = json.dumps(
        {"tenant": tenant, "route": job_route, "input": input_sha256, "options": options, "version": version},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(normalised.encode()).hexdigest()


class ResultCache:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self._versions: dict[str, tuple[float, str | None]] = {}

    async def _get(self, key: str) -> bytes | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        return entry.value or None

    async def converter_version(self, job_route: str) -> str | None:
        # Memoised briefly: the POST path should not pay a KV round trip for it every time.
        now = time.monotonic()
        memo = self._versions.get(job_route)
        if memo and now - memo[0] < VERSION_MEMO_SECONDS:
            return memo[1]
        raw = await self._get(f"version.{job_route}")
        version = raw.decode() if raw else None
        self._versions[job_route] = (now, version)
        return version

    async def remember(self, job: JobRecord) -> None:
        """Record a successful job as the cached result of its key, and its converter version."""
        job_route = route(job.kind, job.options)
        memo = self._versions.get(job_route)
        if memo is None or memo[1] != job.converter_version:  # written once per version, not per job
            await self.kv.put(f"version.{job_route}", job.converter_version.encode())
        self._versions[job_route] = (time.monotonic(), job.converter_version)
        key = cache_key(job.tenant, job_route, job.input.sha256, job.options, job.converter_version)
        await self.kv.put(f"result.{key}", job.id.encode())

    async def lookup_key(self, tenant: str, kind: str, input_sha256: str, options: dict[str, Any]) -> str | None:
        job_route = route(kind, options)
        version = await self.converter_version(job_route)
        if version is None:
            return None
        return cache_key(tenant, job_route, input_sha256, options, version)

    async def source_job_id(self, key: str) -> str | None:
        raw = await self._get(f"result.{key}")
        return raw.decode() if raw else None


def reusable(source: JobRecord | None, tenant: str) -> bool:
    return (
        source is not None
        and source.tenant == tenant
        and source.status == JobStatus.succeeded
        and bool(source.artifacts)
    )


def copy_result(store: ArtifactStore, source: JobRecord, target: JobRecord) -> list[ArtifactInfo]:
    """The source job's input and artifacts, copied under the target job's prefixes (blocking).

    Copies are server-side (S3 CopyObject; hard links in the local store): a hit costs a few
    requests, not a download and upload of every artifact.
    """
    store.copy(source.input.key, target.input.key)
    copied = []
    for artifact in source.artifacts:
        relative = artifact.key.removeprefix(source.output_prefix + "/")
        if relative == artifact.key:
            relative = artifact.name
        target_key = f"{target.output_prefix}/{relative}"
        store.copy(artifact.key, target_key)
        copied.append(artifact.model_copy(update={"key": target_key}))
    return copied


async def acopy_result(store: ArtifactStore, source: JobRecord, target: JobRecord) -> list[ArtifactInfo]:
    return await asyncio.to_thread(copy_result, store, source, target)
