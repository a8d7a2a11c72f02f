"""NATS JetStream helper: connection, idempotent stream/KV setup, traced publishing, CloudEvents.

Every message carries the W3C trace context in its headers so a trace continues from the HTTP
request through the queue into the worker that handles it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import nats
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue

from cad3d_kit.tracing import inject_headers

log = logging.getLogger("cad3d.nats")

EVENTS_STREAM = "CAD3D_EVENTS"
EVENTS_SUBJECT_PREFIX = "cad3d.events"
_FORMAT = JSONFormat()


class JetStream:
    def __init__(self, nc: NatsClient) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()

    @classmethod
    async def connect(cls, url: str, name: str, connect_timeout: float = 5.0) -> JetStream:
        async def on_error(exc: Exception) -> None:
            log.warning("nats error: %s", exc)

        nc = await nats.connect(
            url,
            name=name,
            connect_timeout=connect_timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            error_cb=on_error,
        )
        return cls(nc)

    async def close(self, timeout: float = 5.0) -> None:
        """Drain (flush what was published), but never let a stuck subscription hold up shutdown."""
        if self.nc.is_closed:
            return
        try:
            await asyncio.wait_for(self.nc.drain(), timeout=timeout)
        except Exception as exc:
            log.warning("NATS drain did not finish (%s); closing", exc)
        if not self.nc.is_closed:
            await self.nc.close()

    async def ping(self, timeout: int = 2) -> bool:
        """True when the server answers and JetStream is enabled."""
        if not self.nc.is_connected:
            return False
        try:
            await self.nc.flush(timeout=timeout)
            await self.js.account_info()
            return True
        except Exception:
            return False

    async def ensure_stream(
        self, name: str, subjects: list[str], *, work_queue: bool = False, max_age_seconds: float = 0
    ) -> None:
        config = StreamConfig(
            name=name,
            subjects=subjects,
            retention=RetentionPolicy.WORK_QUEUE if work_queue else RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=max_age_seconds or None,
        )
        try:
            await self.js.stream_info(name)
            await self.js.update_stream(config)
        except NotFoundError:
            await self.js.add_stream(config)

    async def ensure_kv(self, bucket: str, *, history: int = 1, ttl_seconds: float = 0) -> KeyValue:
        try:
            return await self.js.key_value(bucket)
        except NotFoundError:
            return await self.js.create_key_value(
                KeyValueConfig(bucket=bucket, history=history, ttl=ttl_seconds or None, storage=StorageType.FILE)
            )

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str] | None = None, msg_id: str | None = None
    ) -> None:
        carrier = dict(headers or {})
        inject_headers(carrier)
        if msg_id:
            carrier["Nats-Msg-Id"] = msg_id  # JetStream de-duplicates re-publishes within its window
        await self.js.publish(subject, payload, headers=carrier)

    async def publish_event(self, event_type: str, source: str, subject: str, data: dict[str, Any]) -> None:
        """A CloudEvent (structured JSON mode) on ``cad3d.events.<subject>``."""
        event = CloudEvent(
            {
                "type": event_type,
                "source": source,
                "subject": subject,
                "id": uuid.uuid4().hex,
                "time": datetime.now(UTC),
                "datacontenttype": "application/json",
            },
            data,
        )
        body = _FORMAT.write(event)
        headers = inject_headers({"content-type": "application/cloudevents+json"})
        # A plain NATS publish: the events stream still stores it (it listens on these subjects) and
        # live subscribers get it at once, but the publisher does not wait for the stream's
        # acknowledgement. Events are informative (job state lives in KV), and the round trip for
        # each of them was a noticeable share of a short job's cost on both ends.
        await self.nc.publish(f"{EVENTS_SUBJECT_PREFIX}.{subject}", body, headers=dict(headers))


async def fetch_batch(sub: JetStreamContext.PullSubscription, batch: int, what: str) -> list[Msg]:
    """Up to ``batch`` messages from a pull subscription; none when nothing arrived within a second,
    or when the fetch failed (logged, after a pause so a broken connection is not hammered)."""
    try:
        return await sub.fetch(batch, timeout=1.0)
    except TimeoutError:
        return []
    except Exception as exc:
        log.warning("%s fetch failed: %s", what, exc)
        await asyncio.sleep(1.0)
        return []


def decode_event(payload: bytes) -> dict[str, Any]:
    """The CloudEvent attributes and data of a structured-mode message."""
    decoded: dict[str, Any] = json.loads(payload)
    return decoded
