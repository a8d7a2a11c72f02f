"""Webhook delivery against DNS rebinding, with the real sender (JetStream work queue, job KV, httpx).

DNS is the one boundary these tests cannot run for real, so ``socket.getaddrinfo`` (what both the
sender's check and any HTTP client lookup go through) answers for one test host name, the way a
rebinding name server would: differently from one lookup to the next. Receivers listen on loopback
addresses; the allow-list decides which of them count as allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.server
import secrets
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from cad3d_gateway.jobstore import JOBS_BUCKET, JobStore
from cad3d_gateway.models import CallbackAttempt, InputInfo, JobRecord, JobStatus
from cad3d_gateway.problems import ProblemError
from cad3d_gateway.settings import GatewaySettings
from cad3d_gateway.webhooks import SIGNATURE_HEADER, WebhookSender, check_callback_url, verify
from cad3d_kit.messaging import JetStream
from tests.support.servers import nats_server

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

HOST = "hooks.example.test"  # .test never resolves in real DNS: only the fake answers for it
PUBLIC = "93.184.215.14"
SECRET = "rebinding-test-secret"
REAL_GETADDRINFO = socket.getaddrinfo


@dataclass
class RebindingDns:
    """Answers HOST with ``answers[i]`` (comma-separated addresses) on the i-th lookup, the last one from then on."""

    answers: list[str]
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name != HOST:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answer = self.answers[min(len(self.lookups), len(self.answers) - 1)]
        self.lookups.append(answer)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))
            for address in answer.split(",")
        ]


def rebinding_dns(monkeypatch: pytest.MonkeyPatch, *answers: str) -> RebindingDns:
    dns = RebindingDns(list(answers))
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    return dns


@dataclass
class Receiver:
    port: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)  # headers, and the body as "body"
    server_names: list[str | None] = field(default_factory=list)  # TLS SNI of each handshake


@contextlib.contextmanager
def receiver(address: str, port: int = 0, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({**dict(self.headers.items()), "body": body.decode()})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((address, port), Handler)
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: state.server_names.append(name)  # type: ignore[func-returns-value]
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def tls_contexts(certificate_name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context with a certificate for ``certificate_name``, client context trusting its CA)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cad3d test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, certificate_name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(certificate_name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.fixture
async def jobs(tmp_path: Path) -> AsyncIterator[tuple[JetStream, JobStore]]:
    with nats_server(tmp_path) as url:
        js = await JetStream.connect(url, "webhook-rebinding-test")
        kv = await js.ensure_kv(JOBS_BUCKET, history=1)
        yield js, JobStore(kv)
        await js.close()


def settings(*allow: str) -> GatewaySettings:
    return GatewaySettings(
        webhook_secret=SecretStr(SECRET),
        webhook_allow_hosts=list(allow),
        webhook_max_attempts=1,
        webhook_timeout_seconds=5,
    )


async def deliver(
    jobs: tuple[JetStream, JobStore], config: GatewaySettings, url: str, tls: ssl.SSLContext | None = None
) -> list[CallbackAttempt]:
    """Queue the callback of a finished job; the delivery attempts the sender recorded on it."""
    js, store = jobs
    source = InputInfo(filename="a.dxf", media_type="image/vnd.dxf", size=1, sha256="0" * 64, key="k")
    job = JobRecord(
        id=secrets.token_hex(16), tenant="t", kind="dxf", input=source, status=JobStatus.succeeded, callback_url=url
    )
    await store.create(job)
    sender = WebhookSender(js, store, config, verify=tls or True)
    await sender.ensure_stream()
    await sender.start()
    try:
        await sender.enqueue(job)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            record = await store.get(job.id)
            if record is not None and record.callback_attempts:
                return record.callback_attempts
            await asyncio.sleep(0.05)
    finally:
        await sender.stop()
    raise AssertionError("no delivery attempt recorded")


async def test_a_name_rebound_to_loopback_after_submission_is_not_delivered(
    jobs: tuple[JetStream, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings()  # nothing allow-listed: loopback is refused
    with receiver("127.0.0.1") as internal:
        url = f"http://{HOST}:{internal.port}/hook"
        dns = rebinding_dns(monkeypatch, PUBLIC, "127.0.0.1")
        assert await check_callback_url(url, config) == [PUBLIC]  # what POST /v1/conversions checks
        (attempt,) = await deliver(jobs, config, url)
    assert internal.requests == []
    assert attempt.status_code is None
    assert attempt.error == f"{HOST} resolves to 127.0.0.1, a private, loopback or reserved address"
    assert dns.lookups == [PUBLIC, "127.0.0.1"]


async def test_the_connection_goes_to_the_address_that_was_checked(
    jobs: tuple[JetStream, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name first resolves to an allowed address, then (to any later lookup) to a refused one:
    # a client that looked the name up again to connect would reach the internal receiver.
    with receiver("127.0.0.2") as allowed, receiver("127.0.0.1", allowed.port) as internal:
        url = f"http://{HOST}:{allowed.port}/hook"
        dns = rebinding_dns(monkeypatch, "127.0.0.2", "127.0.0.1")
        (attempt,) = await deliver(jobs, settings("127.0.0.2/32"), url)
    assert (attempt.status_code, attempt.error) == (204, None)
    assert internal.requests == []
    (request,) = allowed.requests
    assert request["Host"] == f"{HOST}:{allowed.port}"  # the URL's host, not the address
    assert verify(SECRET, request[SIGNATURE_HEADER], request["body"].encode())
    assert dns.lookups == ["127.0.0.2"]  # one lookup per attempt, nothing resolved the name again


async def test_any_refused_address_among_the_answers_refuses_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    rebinding_dns(monkeypatch, f"{PUBLIC},10.0.0.7")
    with pytest.raises(ProblemError) as refused:
        await check_callback_url(f"https://{HOST}/hook", settings())
    assert refused.value.code == "callback_url_refused"
    assert refused.value.detail == f"{HOST} resolves to 10.0.0.7, a private, loopback or reserved address"


async def test_tls_verifies_the_certificate_for_the_host_name_at_the_pinned_address(
    jobs: tuple[JetStream, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = tls_contexts(HOST)
    with receiver("127.0.0.1", tls=server) as hook:
        url = f"https://{HOST}:{hook.port}/hook"
        rebinding_dns(monkeypatch, "127.0.0.1")
        (attempt,) = await deliver(jobs, settings("127.0.0.1/32"), url, tls=client)
    assert (attempt.status_code, attempt.error) == (204, None)
    assert hook.server_names == [HOST]  # SNI names the host, though the connection went to an address
    assert hook.requests[0]["Host"] == f"{HOST}:{hook.port}"


async def test_a_certificate_for_another_name_is_refused(
    jobs: tuple[JetStream, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = tls_contexts("elsewhere.example.test")
    with receiver("127.0.0.1", tls=server) as hook:
        url = f"https://{HOST}:{hook.port}/hook"
        rebinding_dns(monkeypatch, "127.0.0.1")
        (attempt,) = await deliver(jobs, settings("127.0.0.1/32"), url, tls=client)
    assert attempt.status_code is None
    assert attempt.error is not None and "CERTIFICATE_VERIFY_FAILED" in attempt.error
    assert hook.server_names == [HOST] and hook.requests == []
