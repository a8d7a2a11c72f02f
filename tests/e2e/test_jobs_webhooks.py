"""Webhooks against real servers: a receiver on loopback (allow-listed for the test) gets the
finished job, signed; a failing receiver is retried with backoff and every attempt is on the job."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

import pytest

from cad3d_gateway.webhooks import SIGNATURE_HEADER, verify
from tests.e2e.conftest import WEBHOOK_SECRET, Api
from tests.support.fixtures import plate_with_hole

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@dataclass
class Receiver:
    url: str
    failures_left: int = 0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            failing = state.failures_left > 0
            state.failures_left -= 1
            self.send_response(500 if failing else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


def wait_for_deliveries(api: Api, job_id: str, count: int, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get("alice", f"/v1/conversions/{job_id}").json()
        if job["callback"] and len(job["callback"]["attempts"]) >= count:
            return job
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} delivery attempts recorded: {job['callback']}")


def post_with_callback(api: Api, url: str, width: float) -> dict[str, object]:
    response = api.client.post(
        "/v1/conversions",
        files={"file": ("p.dxf", plate_with_hole(width, 10, 2))},
        data={"options": '{"format": "stl", "height": 1}', "callback_url": url},
        headers=api.keys.auth("alice"),
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_webhook_is_signed_and_carries_the_finished_job(api: Api, receiver: Receiver) -> None:
    created = post_with_callback(api, receiver.url, 13)
    job = wait_for_deliveries(api, str(created["id"]), 1)
    headers, body = receiver.received[0]
    assert verify(WEBHOOK_SECRET, headers[SIGNATURE_HEADER], body)
    assert not verify("another-secret", headers[SIGNATURE_HEADER], body)
    assert not verify(WEBHOOK_SECRET, headers[SIGNATURE_HEADER], body + b" ")  # tampered body
    assert not verify(WEBHOOK_SECRET, headers[SIGNATURE_HEADER], body, now=time.time() + 3600)  # replayed late
    payload = json.loads(body)
    assert payload["id"] == created["id"] and payload["status"] == "succeeded"
    assert headers["Cad3d-Event"] == "job.succeeded"
    assert job["callback"] == {
        "url": receiver.url,
        "delivered": True,
        "attempts": [{**job["callback"]["attempts"][0], "attempt": 1, "status_code": 204, "error": None}],  # type: ignore[index]
    }


def test_failed_deliveries_are_retried_with_backoff(api: Api, receiver: Receiver) -> None:
    receiver.failures_left = 2
    created = post_with_callback(api, receiver.url, 14)
    job = wait_for_deliveries(api, str(created["id"]), 3)
    attempts = job["callback"]["attempts"]  # type: ignore[index]
    assert [a["status_code"] for a in attempts] == [500, 500, 204]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert job["callback"]["delivered"] is True  # type: ignore[index]
    times = [a["at"] for a in attempts]
    gaps = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() for a, b in pairwise(times)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.5  # 0.3 s, then doubled


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://10.0.0.7/hook", "callback_url_refused"),
        ("http://127.0.0.2:9/hook", "callback_url_refused"),  # loopback, but only 127.0.0.1 is allow-listed
        ("http://169.254.169.254/latest/meta-data", "callback_url_refused"),  # cloud metadata
        ("http://[::1]/hook", "callback_url_refused"),
        ("ftp://example.com/hook", "callback_url_refused"),
        ("http://user:pw@127.0.0.1/hook", "callback_url_refused"),
    ],
)
def test_private_and_malformed_callback_urls_are_refused(api: Api, url: str, code: str) -> None:
    response = api.client.post(
        "/v1/conversions",
        files={"file": ("p.dxf", plate_with_hole())},
        data={"callback_url": url},
        headers=api.keys.auth("alice"),
    )
    assert response.status_code == 422 and response.json()["code"] == code, response.text
