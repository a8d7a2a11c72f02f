"""Gateway metrics (RED per route comes from the HTTP middleware in app.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from cad3d_gateway.jobqueue import JOB_KINDS
from cad3d_gateway.models import JobStatus
from cad3d_kit.metrics import DURATION_BUCKETS

HTTP_REQUESTS = Counter(
    "cad3d_http_requests_total", "HTTP requests, by route, method and status.", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "cad3d_http_request_duration_seconds",
    "HTTP request duration, by route and method.",
    ["route", "method"],
    buckets=DURATION_BUCKETS,
)
JOBS_CREATED = Counter("cad3d_jobs_created_total", "Jobs accepted, by kind.", ["kind"])
JOBS_FINISHED = Counter("cad3d_jobs_finished_total", "Jobs finished, by kind and status.", ["kind", "status"])
CONVERSION_DURATION = Histogram(
    "cad3d_job_duration_seconds",
    "Time a dispatcher spent on one job (service calls and storing), by kind and outcome.",
    ["kind", "status"],
    buckets=DURATION_BUCKETS,
)
QUEUE_DEPTH = Gauge("cad3d_job_queue_depth", "Jobs waiting or running in the work queue, by kind.", ["kind"])
CACHE_LOOKUPS = Counter(
    "cad3d_result_cache_lookups_total",
    "Result-cache lookups by outcome (hit, miss, bypass); hit ratio = hit / (hit + miss).",
    ["outcome"],
)
REJECTED = Counter("cad3d_requests_rejected_total", "Requests refused by a limit, by reason.", ["reason"])


def _publish_zero_series() -> None:
    # Series that only appear after their first event break rate() and alert expressions
    # (absent, not zero), so every kind x outcome is exported from start-up.
    for kind in JOB_KINDS:
        JOBS_CREATED.labels(kind)
        for status in JobStatus:
            if status.terminal:
                JOBS_FINISHED.labels(kind, status.value)


_publish_zero_series()
