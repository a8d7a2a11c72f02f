"""Process entry point shared by the conversion services: settings, logs, tracing, metrics, server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc

from cad3d_kit.grpc_server import GrpcServer, ReadinessCheck, ServiceRegistration, always_ready
from cad3d_kit.isolation import IsolatedRunner, runner_ready
from cad3d_kit.logs import setup_logging
from cad3d_kit.metrics import start_metrics_server
from cad3d_kit.settings import ServiceSettings, load_settings
from cad3d_kit.storage import ArtifactStore, store_from_settings
from cad3d_kit.tracing import setup_tracing, shutdown_tracing

log = logging.getLogger("cad3d.main")


async def _nothing() -> None:
    return None


@dataclass
class ServiceParts:
    """What a service contributes to the shared bootstrap."""

    registrations: Sequence[ServiceRegistration]
    readiness: ReadinessCheck = always_ready
    close: Callable[[], Awaitable[None]] = field(default=_nothing)


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
Builder = Callable[[SettingsT], Awaitable[ServiceParts]]


async def serve(settings: SettingsT, build: Builder[SettingsT]) -> None:
    parts = await build(settings)
    server = GrpcServer(settings, parts.registrations, parts.readiness)
    try:
        await server.serve_until_signal()
    finally:
        await parts.close()


def run_service(settings_cls: type[SettingsT], build: Builder[SettingsT]) -> None:
    settings = load_settings(settings_cls)
    setup_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name, settings.otlp_endpoint)
    port = start_metrics_server(settings.metrics_port, settings.metrics_host)
    if port:
        log.info("metrics on %s:%d/metrics", settings.metrics_host, port)
    try:
        asyncio.run(serve(settings, build))
    finally:
        shutdown_tracing()


def isolated_service_parts(
    settings: ServiceSettings,
    full_name: str,
    add_to_server: Callable[[Any, grpc.aio.Server], None],
    make_servicer: Callable[[IsolatedRunner, ArtifactStore], Any],
    core_module: str,
) -> ServiceParts:
    """Parts of a service whose core runs in isolated worker processes (dxf, pdf).

    Ready means: the artifact store answers and a warm worker has imported the core.
    """
    runner = IsolatedRunner(
        workers=settings.max_concurrent_conversions,
        timeout_seconds=settings.conversion_timeout_seconds,
        memory_mb=settings.conversion_memory_mb,
        preload=[core_module],
    )
    store = store_from_settings(settings)
    servicer = make_servicer(runner, store)

    async def ready() -> bool:
        await asyncio.to_thread(store.check)
        return await runner_ready(runner)

    async def close() -> None:
        await asyncio.to_thread(runner.close)

    return ServiceParts([ServiceRegistration(full_name, lambda server: add_to_server(servicer, server))], ready, close)


def run_isolated_service(
    settings_cls: type[SettingsT],
    full_name: str,
    add_to_server: Callable[[Any, grpc.aio.Server], None],
    make_servicer: Callable[[SettingsT, IsolatedRunner, ArtifactStore], Any],
    core_module: str,
) -> None:
    """Entry point of a service whose core runs in isolated workers (see isolated_service_parts)."""

    async def build(settings: SettingsT) -> ServiceParts:
        return isolated_service_parts(
            settings,
            full_name,
            add_to_server,
            lambda runner, store: make_servicer(settings, runner, store),
            core_module,
        )

    run_service(settings_cls, build)
