"""The gateway application: public API, web page, health, metrics; optionally the job dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from cad3d_gateway import api, batches
from cad3d_gateway.auth import KeyRing
from cad3d_gateway.backends import Backends
from cad3d_gateway.cache import CACHE_BUCKET, ResultCache
from cad3d_gateway.dispatcher import Dispatcher
from cad3d_gateway.jobqueue import ensure_job_streams
from cad3d_gateway.jobstore import JOBS_BUCKET, JobStore
from cad3d_gateway.limits import BodySizeLimit
from cad3d_gateway.options import install_option_schemas
from cad3d_gateway.problems import CloseOnServerError, install_problem_handlers
from cad3d_gateway.quotas import QueueDepth, StoredBytes, TokenBuckets
from cad3d_gateway.readiness import StorageProbe
from cad3d_gateway.red_metrics import RedMetrics
from cad3d_gateway.retention import apply_lifecycle
from cad3d_gateway.retries import RetryPolicy
from cad3d_gateway.settings import GatewaySettings
from cad3d_gateway.waiting import JobEvents
from cad3d_gateway.webhooks import WebhookSender
from cad3d_kit.messaging import JetStream
from cad3d_kit.storage import store_from_settings

log = logging.getLogger("cad3d.gateway")


async def connect_nats(settings: GatewaySettings, attempts: int = 30) -> JetStream:
    """Connect, retrying: in a local stack or a rollout NATS may come up after us."""
    for attempt in range(1, attempts + 1):
        try:
            return await JetStream.connect(settings.nats_url, settings.service_name)
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("NATS not reachable at %s (%s); retrying", settings.nats_url, exc)
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise AssertionError("unreachable")


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        js = await connect_nats(settings)
        await ensure_job_streams(js)
        kv = await js.ensure_kv(JOBS_BUCKET, history=1, ttl_seconds=settings.job_retention_seconds)
        store = await asyncio.to_thread(store_from_settings, settings, settings.storage_backend == "s3")
        backends = Backends(settings)
        app.state.settings, app.state.js, app.state.store, app.state.backends = settings, js, store, backends
        app.state.jobs = JobStore(kv)
        app.state.storage_probe = StorageProbe(store, settings.storage_probe_seconds)
        app.state.job_events = JobEvents(js)
        await app.state.job_events.start()
        cache_kv = await js.ensure_kv(CACHE_BUCKET, history=1, ttl_seconds=settings.job_retention_seconds)
        app.state.cache = ResultCache(cache_kv)
        app.state.keyring = KeyRing.from_file(settings.api_keys_file)
        app.state.rate_limits = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
        app.state.stored_bytes = StoredBytes(kv, settings.max_stored_bytes_per_key)
        app.state.queue_depth = QueueDepth(js, sorted(backends.addresses), settings.max_queue_depth)
        await app.state.queue_depth.refresh()
        app.state.queue_depth.start()
        await asyncio.to_thread(apply_lifecycle, settings)
        app.state.webhooks = WebhookSender(js, app.state.jobs, settings)
        await app.state.webhooks.ensure_stream()
        dispatcher = None
        if settings.role in ("all", "worker"):
            await app.state.webhooks.start()
            dispatcher = Dispatcher(
                js,
                app.state.jobs,
                store,
                backends,
                settings.dispatcher_concurrency,
                settings.job_max_attempts,
                cache=app.state.cache,
                on_finished=app.state.webhooks.enqueue,
                ack_wait_seconds=settings.ack_wait_seconds,
                job_timeout_seconds=settings.job_timeout_seconds,
                policy=RetryPolicy(
                    settings.job_max_attempts,
                    settings.retry_base_seconds,
                    settings.retry_max_delay_seconds,
                    settings.job_deadline_seconds,
                ),
            )
            await dispatcher.start()
        log.info("gateway ready", extra={"role": settings.role, "auth": app.state.keyring.enabled})
        try:
            yield
        finally:
            await app.state.queue_depth.stop()
            await app.state.job_events.stop()
            if dispatcher:
                await dispatcher.stop(grace=settings.job_timeout_seconds / 10)
                await app.state.webhooks.stop()
            await backends.close()
            await js.close()

    app = FastAPI(
        title="cad3d",
        version="0.1.0",
        summary="Turn 2D engineering input (DXF/DWG, PDF, photos) into 3D models.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    # Enforced while the body streams in (Content-Length first), before anything is parsed or stored.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.include_router(api.router)
    app.include_router(batches.router)
    install_option_schemas(app)

    app.add_middleware(RedMetrics)
    app.add_middleware(CloseOnServerError)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: backends, storage and NATS answer")
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks: dict[str, str] = {}
        checks["nats"] = "ok" if await state.js.ping() else "unreachable"
        checks["storage"] = await state.storage_probe.check()
        for name, status in (await state.backends.health()).items():
            checks[name] = "ok" if status == "SERVING" else status
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        page = resources.files("cad3d_gateway").joinpath("static/index.html").read_text()
        return HTMLResponse(page)

    # A route, not a mounted app: a mount answers /metrics with a 307 to /metrics/, which
    # scrapers that do not follow redirects count as a failed scrape.
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # Without an exporter every span goes unrecorded (see cad3d_kit.tracing): the send and receive
    # spans opened for each body chunk and each event of a stream are then cost without use. The
    # request's own span stays; it carries the trace id into logs, NATS headers and gRPC metadata.
    per_message: list[Literal["receive", "send"]] | None = None if settings.otlp_endpoint else ["receive", "send"]
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=per_message)
    return app
