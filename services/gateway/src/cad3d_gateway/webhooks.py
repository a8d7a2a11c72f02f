"""Webhooks: a job's optional ``callback_url`` gets the finished job as a signed POST.

- Signature: ``Cad3d-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; the
  receiver recomputes it and refuses timestamps older than a few minutes (replays).
- Delivery is durable: a message on the ``CAD3D_WEBHOOKS`` work queue per finished job, delivered
  by the worker role and retried with exponential backoff (``nak(delay)``) up to
  ``webhook_max_attempts``; every attempt is recorded on the job (``callback.attempts``).
- SSRF: the URL's host must resolve only to public addresses unless the host (or a network holding
  its address) is in ``webhook_allow_hosts``. Checked when the job is accepted and again before
  each attempt (a name may re-resolve elsewhere later); redirects are not followed.
- DNS rebinding: each attempt resolves the host once, checks every address, and connects to a
  checked address itself (the URL's host swapped for it), so a second lookup by the HTTP client
  cannot land elsewhere. The ``Host`` header, TLS SNI and certificate check keep the URL's host
  name. Connections are not kept alive: a pooled connection to an address, verified for one host
  name, must not carry a request for another name that resolves to the same address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from urllib.parse import urlsplit

import httpx
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig

from cad3d_gateway.jobstore import JobStore
from cad3d_gateway.models import CallbackAttempt, JobRecord, JobView, utcnow
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.messaging import JetStream, fetch_batch

log = logging.getLogger("cad3d.gateway.webhooks")

WEBHOOKS_STREAM = "CAD3D_WEBHOOKS"
WEBHOOKS_SUBJECT = "cad3d.webhooks"
SIGNATURE_HEADER = "Cad3d-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance_seconds: float = 300, now: float | None = None) -> bool:
    """What a receiver does (also used by the tests): signature matches and the timestamp is recent."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def _allowed(host: str, address: str, allow: list[str]) -> bool:
    if host.lower() in (a.lower() for a in allow):
        return True
    ip = ipaddress.ip_address(address)
    for entry in allow:
        with contextlib.suppress(ValueError):
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
    return ip.is_global


def refused(detail: str) -> ProblemError:
    return ProblemError(422, "callback_url_refused", "The callback URL is not allowed", detail)


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_callback_url(url: str, settings: GatewaySettings) -> list[str]:
    """The addresses ``url``'s host resolves to, all allowed; ProblemError 422 unless it may receive webhooks."""
    if not settings.webhook_secret.get_secret_value():
        raise ProblemError(422, "webhooks_disabled", "Webhooks are not enabled on this server")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise refused("an absolute http(s) URL of at most 2048 characters is required")
    if parts.username or parts.password:
        raise refused("credentials in the URL are not accepted")
    try:
        host = httpx.URL(url).raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS see it
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (httpx.InvalidURL, ValueError):
        raise refused("the URL's host or port is malformed") from None
    try:
        addresses = await resolve_host(host, port)
    except OSError:
        addresses = []
    if not addresses:
        raise refused(f"{parts.hostname} does not resolve")
    for address in addresses:
        if not _allowed(parts.hostname, address, settings.webhook_allow_hosts):
            raise refused(f"{parts.hostname} resolves to {address}, a private, loopback or reserved address")
    return addresses


class WebhookSender:
    """Enqueues callbacks of finished jobs; in the worker role also delivers them."""

    def __init__(
        self,
        js: JetStream,
        jobs: JobStore,
        settings: GatewaySettings,
        *,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.js, self.jobs, self.settings = js, jobs, settings
        self.verify = verify  # a CA bundle context for receivers behind a private CA; True = system CAs
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None

    async def ensure_stream(self) -> None:
        await self.js.ensure_stream(WEBHOOKS_STREAM, [f"{WEBHOOKS_SUBJECT}.>"], work_queue=True)

    async def enqueue(self, job: JobRecord) -> None:
        try:
            await self.js.publish(
                f"{WEBHOOKS_SUBJECT}.{job.id}", job.id.encode(), msg_id=f"{job.id}.{job.status.value}"
            )
        except Exception as exc:
            log.warning("could not queue the callback of %s: %s", job.id, exc)

    async def start(self) -> None:
        self._http = httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            verify=self.verify,
            # A proxy would connect to the name again (and past the address check); no pooling: see above.
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._sub = await self.js.js.pull_subscribe(
            f"{WEBHOOKS_SUBJECT}.>",
            durable="webhook-senders",
            stream=WEBHOOKS_STREAM,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=max(30.0, self.settings.webhook_timeout_seconds * 3),
                max_deliver=self.settings.webhook_max_attempts,
            ),
        )
        self._task = asyncio.create_task(self._loop(), name="webhooks")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._http:
            await self._http.aclose()

    async def _loop(self) -> None:
        while True:
            messages = await fetch_batch(self._sub, 8, "webhook")
            await asyncio.gather(*(self._deliver(msg) for msg in messages))

    async def _deliver(self, msg: Msg) -> None:
        job = await self.jobs.get(msg.data.decode())
        if job is None or not job.callback_url:
            await msg.ack()
            return
        attempt = msg.metadata.num_delivered if msg.metadata else 1
        body = JobView.of(job, self.settings.public_url.rstrip("/")).model_dump_json().encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.settings.webhook_secret.get_secret_value(), timestamp, body),
            "Cad3d-Event": f"job.{job.status.value}",
            "Cad3d-Delivery": f"{job.id}.{job.status.value}",
            "User-Agent": "cad3d-webhooks/1",
        }
        result = CallbackAttempt(attempt=attempt, at=utcnow())
        try:
            addresses = await check_callback_url(job.callback_url, self.settings)
            response = await self._post_pinned(job.callback_url, addresses, body, headers)
            result.status_code = response.status_code
            delivered = 200 <= response.status_code < 300
            if not delivered:
                result.error = f"HTTP {response.status_code}"
        except ProblemError as exc:
            result.error, delivered = exc.detail or exc.title, False
        except httpx.HTTPError as exc:
            result.error, delivered = f"{type(exc).__name__}: {exc}"[:300], False
        await self._record(job.id, result)
        if delivered or attempt >= self.settings.webhook_max_attempts:
            await msg.ack()
        else:
            delay = self.settings.webhook_retry_base_seconds * 2 ** (attempt - 1)
            await msg.nak(delay=min(delay, 3600.0))

    async def _post_pinned(
        self, url: str, addresses: list[str], body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to the first of the checked ``addresses`` that accepts a connection, as ``url``'s host."""
        assert self._http is not None
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii")
        pinned_headers = {**headers, "Host": target.netloc.decode("ascii")}
        error: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return await self._http.post(
                    target.copy_with(host=address),
                    content=body,
                    headers=pinned_headers,
                    extensions={"sni_hostname": host},  # TLS: SNI and certificate check for the host name
                )
            except httpx.ConnectError as exc:
                error = exc
        assert error is not None  # check_callback_url never returns no address
        raise error

    async def _record(self, job_id: str, result: CallbackAttempt) -> None:
        def add(j: JobRecord) -> JobRecord:
            j.callback_attempts.append(result)
            return j

        with contextlib.suppress(Exception):
            await self.jobs.update(job_id, add)
