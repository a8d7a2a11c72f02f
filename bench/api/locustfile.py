"""Locust users for the API benchmark (run by bench/api/bench_api.py, which starts the stack).

- ``Converter``: a closed loop. Each iteration posts a distinct small drawing, then follows that job's
  server-sent events until its terminal event, so at most one job per user is in flight: the queue
  never grows past the users and backpressure (503) is never what limits the run.
- ``CacheHit``: posts the drawing that bench_api.py converted once beforehand; every answer must be
  a 200 with ``X-Cache: hit``.

429 answers (rate limit) are intended: marked as successes in locust's statistics, counted apart,
and the user waits the Retry-After before going on. Any other non-2xx answer is an error.

Environment (set by bench_api.py): CAD3D_BENCH_DIR holds template.dxf, cached.dxf and pids.json
(process trees whose CPU time is sampled at test start and stop); at test stop, once every user has
ended, CAD3D_BENCH_PREFIX + ``_stats.csv`` gets locust's request statistics (its own CSV format) and
``_summary.json`` the counts the CSV lacks (completed jobs, status codes, CPU seconds). ``--csv``
is not used: locust rewrites that file once a second and leaves off the last second's requests.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.api.names import CACHE_NAME, EVENTS_NAME, OPTIONS, POST_NAME  # noqa: E402
from bench.api.proc_cpu import sample  # noqa: E402

BENCH_DIR = Path(os.environ.get("CAD3D_BENCH_DIR", ""))
OUT_PREFIX = os.environ.get("CAD3D_BENCH_PREFIX", str(BENCH_DIR / "phase"))

TERMINAL = ("succeeded", "failed", "canceled")


def read_input(name: str) -> bytes:
    path = BENCH_DIR / name
    if not path.is_file():
        raise SystemExit(f"{path} missing: run this locustfile through bench/api/bench_api.py")
    return path.read_bytes()


TEMPLATE = read_input("template.dxf")
CACHED = read_input("cached.dxf")
SEQUENCE = itertools.count(1)


@dataclass
class Tally:
    statuses: dict[str, int] = field(default_factory=dict)  # "<request name> <HTTP status>" -> count
    rate_limited: int = 0
    succeeded: int = 0
    failed_jobs: int = 0
    first_post_at: float | None = None
    last_finished_at: float | None = None
    cpu_before: dict[str, float] = field(default_factory=dict)
    cpu_after: dict[str, float] = field(default_factory=dict)
    started_at: float = 0.0
    stopped_at: float = 0.0


TALLY = Tally()


def watched_pids() -> dict[str, int]:
    pids: dict[str, int] = json.loads((BENCH_DIR / "pids.json").read_text())
    return {**pids, "locust": os.getpid()}


@events.test_start.add_listener
def on_test_start(environment: Environment, **_kwargs: Any) -> None:
    TALLY.cpu_before = sample(watched_pids())
    TALLY.started_at = time.monotonic()


@events.test_stop.add_listener
def on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    # test_stop fires after the users ended (or were killed past --stop-timeout): the same window
    # for every process, locust's own start-up and shut-down left out.
    TALLY.stopped_at = time.monotonic()
    TALLY.cpu_after = sample(watched_pids())
    with open(f"{OUT_PREFIX}_stats.csv", "w", newline="") as handle:
        StatsCSV(environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(handle))
    Path(f"{OUT_PREFIX}_summary.json").write_text(json.dumps(asdict(TALLY), indent=1))


def retry_after(headers: Any) -> float:
    try:
        return min(float(headers.get("retry-after") or 1), 10.0)
    except ValueError:
        return 1.0


def judge(response: Any, name: str, ok: int) -> float:
    """Count the answer, mark it in locust's stats; returns seconds to back off (a 429) or 0."""
    status = int(response.status_code or 0)
    key = f"{name} {status}"
    TALLY.statuses[key] = TALLY.statuses.get(key, 0) + 1
    if status == 429:
        TALLY.rate_limited += 1
        response.success()
        return retry_after(response.headers)
    if status != ok:
        response.failure(f"HTTP {status}: {(response.text or '')[:200]}")
    return 0.0


def terminal_status(body: str) -> str | None:
    """The job's final status from its event stream: the last terminal event, or the opening
    ``status`` event when the job had already ended before the stream was opened."""
    outcome: str | None = None
    event = ""
    for line in body.splitlines():
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: "):
            if event in TERMINAL:
                outcome = event
            elif event == "status":
                status = json.loads(line[6:]).get("status")
                outcome = status if status in TERMINAL else outcome
    return outcome


class Converter(FastHttpUser):
    wait_time = constant(0)

    @task
    def convert(self) -> None:
        # A leading DXF comment makes every upload distinct (no cache hit) without locust spending
        # the shared cores on drawing a new plate each time.
        drawing = b"999\nbench %d\n" % next(SEQUENCE) + TEMPLATE
        if TALLY.first_post_at is None:
            TALLY.first_post_at = time.monotonic()
        job_id, backoff = None, 0.0
        with self.client.post(
            "/v1/conversions", name=POST_NAME, data=OPTIONS, files={"file": ("plate.dxf", drawing)}, catch_response=True
        ) as response:
            backoff = judge(response, POST_NAME, 202)
            if response.status_code == 202:
                job_id = response.json()["id"]
        if backoff:
            gevent.sleep(backoff)
        if job_id is None:
            return
        self.follow(job_id)

    def follow(self, job_id: str) -> None:
        """Wait for the job's end on its event stream (again after a 429, so the loop stays closed)."""
        while True:
            with self.client.get(f"/v1/conversions/{job_id}/events", name=EVENTS_NAME, catch_response=True) as response:
                backoff = judge(response, EVENTS_NAME, 200)
                if response.status_code == 200:
                    outcome = terminal_status(response.text or "")
                    if outcome == "succeeded":
                        TALLY.succeeded += 1
                        TALLY.last_finished_at = time.monotonic()
                    else:
                        TALLY.failed_jobs += 1
                        response.failure(f"job {job_id} ended {outcome or 'without a terminal event'}")
            if not backoff:
                return
            gevent.sleep(backoff)


class CacheHit(FastHttpUser):
    wait_time = constant(0)

    @task
    def post_cached(self) -> None:
        with self.client.post(
            "/v1/conversions", name=CACHE_NAME, data=OPTIONS, files={"file": ("plate.dxf", CACHED)}, catch_response=True
        ) as response:
            backoff = judge(response, CACHE_NAME, 200)
            if response.status_code == 200 and response.headers.get("x-cache") != "hit":
                response.failure("200 without X-Cache: hit")
        if backoff:
            gevent.sleep(backoff)
