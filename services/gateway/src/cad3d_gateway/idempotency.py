"""Idempotency-Key: a retried POST with the same key and content gets the job the first one made.

Records live in the jobs KV bucket as ``idem.<tenant hex>.<sha256 of the key>`` (so they expire
with the jobs) and are claimed with a KV create, which is atomic across gateway replicas. The
fingerprint is sha256(input) plus the normalised options: the same key with other content is a
client bug and answers 422 ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from cad3d_gateway.jobstore import token
from cad3d_gateway.problems import ProblemError

MAX_KEY_LENGTH = 255


def fingerprint(input_sha256: str, options: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([input_sha256, options], sort_keys=True).encode()).hexdigest()


def validate(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ProblemError(
            422, "invalid_idempotency_key", "Invalid Idempotency-Key", f"1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


def record_key(tenant: str, key: str) -> str:
    return f"idem.{token(tenant)}.{hashlib.sha256(key.encode()).hexdigest()}"


async def release(kv: KeyValue, tenant: str, key: str) -> None:
    """Forget a claim whose job was not created after all, so a retry with the key starts afresh."""
    await kv.delete(record_key(tenant, key))


async def claim(kv: KeyValue, tenant: str, key: str, print_: str, job_id: str) -> str | None:
    """Claim ``key`` for ``job_id``; returns the job id of an earlier claim with the same content."""
    name = record_key(tenant, key)
    record = json.dumps({"job": job_id, "fingerprint": print_}).encode()
    try:
        await kv.create(name, record)
        return None
    except KeyWrongLastSequenceError:
        pass
    try:
        entry = await kv.get(name)
    except KeyNotFoundError:  # expired in between: claim it afresh
        await kv.put(name, record)
        return None
    earlier = json.loads(entry.value or b"{}")
    if earlier.get("fingerprint") != print_:
        raise ProblemError(
            422,
            "idempotency_key_reused",
            "Idempotency-Key already used for other content",
            "this key was sent before with a different file or options",
        )
    return str(earlier["job"])
