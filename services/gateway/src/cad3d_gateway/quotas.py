"""Limits on what one API key may ask of the platform, and backpressure from the job queue.

- Rate: a token bucket per API key, in this replica's memory (N replicas allow N times the rate;
  set the per-replica rate accordingly). Answers 429 with Retry-After and the IETF RateLimit
  headers (draft-ietf-httpapi-ratelimit-headers), which are also sent on allowed requests.
- Concurrent jobs and stored bytes: counted in JetStream KV, so they hold across replicas.
- Queue depth: per kind (the message count of that kind's work-queue stream: jobs waiting or
  running), sampled once a second in the background, so the POST path pays no round trip for it;
  past the limit new jobs of that kind get 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from cad3d_gateway.jobqueue import job_stream
from cad3d_gateway.jobstore import token
from cad3d_gateway.metrics import QUEUE_DEPTH, REJECTED
from cad3d_gateway.problems import ProblemError
from cad3d_kit.messaging import JetStream

log = logging.getLogger("cad3d.gateway.quotas")


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class TokenBuckets:
    def __init__(self, per_second: float, burst: int) -> None:
        self.rate, self.burst = per_second, burst
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> RateLimitState:
        """Spend one token of ``key``'s bucket; ProblemError 429 when it is empty."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.setdefault(key, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        full_in = math.ceil((self.burst - bucket.tokens) / self.rate)
        if bucket.tokens < 1:
            retry = max(1, math.ceil((1 - bucket.tokens) / self.rate))
            state = RateLimitState(self.burst, 0, max(retry, full_in))
            REJECTED.labels("rate_limit").inc()
            raise ProblemError(
                429,
                "rate_limited",
                "Too many requests for this API key",
                f"the limit is {self.rate:g} requests/s with bursts of {self.burst}",
                {"Retry-After": str(retry), **state.headers()},
            )
        bucket.tokens -= 1
        return RateLimitState(self.burst, int(bucket.tokens), math.ceil((self.burst - bucket.tokens) / self.rate))


class QueueDepth:
    """Depth of each kind's work queue (jobs waiting or running), refreshed in the background."""

    def __init__(self, js: JetStream, kinds: list[str], limit: int, interval: float = 1.0) -> None:
        self.js, self.limit, self.interval = js, limit, interval
        self.depths: dict[str, int] = dict.fromkeys(kinds, 0)  # every enabled kind is on the gauge, even idle
        self._task: asyncio.Task[None] | None = None

    async def _depth(self, kind: str) -> int:
        info = await self.js.js.stream_info(job_stream(kind))
        return int(info.state.messages)

    async def refresh(self) -> dict[str, int]:
        kinds = list(self.depths)
        depths = dict(zip(kinds, await asyncio.gather(*(self._depth(kind) for kind in kinds)), strict=True))
        for kind, depth in depths.items():
            QUEUE_DEPTH.labels(kind).set(depth)
        self.depths = depths
        return depths

    async def _loop(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:
                log.debug("queue depth not refreshed: %s", exc)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="queue-depth")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def check(self, kind: str) -> None:
        depth = self.depths.get(kind, 0)
        if self.limit and depth >= self.limit:
            REJECTED.labels("queue_full").inc()
            retry = max(1, math.ceil(self.interval * 5))
            raise ProblemError(
                503,
                "queue_full",
                f"The {kind} conversion queue is full",
                f"{depth} jobs are waiting; try again later",
                {"Retry-After": str(retry)},
            )


class StoredBytes:
    """Bytes of inputs each API key keeps stored: a counter per key in the jobs KV bucket."""

    def __init__(self, kv: KeyValue, limit: int) -> None:
        self.kv, self.limit = kv, limit

    @staticmethod
    def _key(key_id: str) -> str:
        return f"usage.{token(key_id)}"

    async def used(self, key_id: str) -> int:
        try:
            entry = await self.kv.get(self._key(key_id))
        except KeyNotFoundError:
            return 0
        return int(entry.value or b"0")

    async def check(self, key_id: str) -> None:
        if self.limit and await self.used(key_id) >= self.limit:
            REJECTED.labels("storage_quota").inc()
            raise ProblemError(
                507,
                "storage_quota_exceeded",
                "This API key has used its storage quota",
                f"the quota is {self.limit} bytes; DELETE finished conversions to free space",
            )

    async def add(self, key_id: str, delta: int) -> None:
        """Atomic add (optimistic concurrency on the KV revision); nothing to count without a quota."""
        if not self.limit:
            return
        key = self._key(key_id)
        for _ in range(50):
            try:
                entry = await self.kv.get(key)
                current, revision = int(entry.value or b"0"), entry.revision
            except KeyNotFoundError:
                current, revision = 0, 0
            value = str(max(0, current + delta)).encode()
            try:
                if revision:
                    await self.kv.update(key, value, last=revision)
                else:
                    await self.kv.create(key, value)
                return
            except KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        log.warning("storage usage of %s not updated: too much contention", key_id)
