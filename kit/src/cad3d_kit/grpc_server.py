"""The grpc.aio server bootstrap every conversion service uses.

Health is real: every service starts NOT_SERVING, turns SERVING only once its readiness check
(its dependencies) answers, follows that check while running, and turns NOT_SERVING for good the
moment SIGTERM arrives; in-flight RPCs then get ``shutdown_grace_seconds`` to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

from cad3d_kit.interceptors import InFlight, ObservabilityInterceptor
from cad3d_kit.settings import ServiceSettings

log = logging.getLogger("cad3d.server")

ReadinessCheck = Callable[[], Awaitable[bool]]

# Clients (the gateway pings every 30 s) may ping this often, also while no call runs or no data
# flows: gRPC's default allows one ping per 5 minutes without data and answers the third early one
# with GOAWAY ``too_many_pings``, which failed every call in flight on the channel (a conversion
# quiet for minutes could never finish). The server pings too, to notice a client that died and
# cancel its call instead of converting for nobody.
KEEPALIVE_MIN_RECV_MS = 1_000
KEEPALIVE_OPTIONS: list[tuple[str, int]] = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", KEEPALIVE_MIN_RECV_MS),
    ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MIN_RECV_MS),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
]

# Health name for liveness and startup probes: SERVING while the process serves RPCs, whatever its
# dependencies do, so a storage or Triton outage takes pods out of rotation without restarting them.
LIVENESS_SERVICE = "liveness"


async def always_ready() -> bool:
    return True


@dataclass(frozen=True)
class ServiceRegistration:
    """A servicer to mount: its full proto name (for health and reflection) and how to add it."""

    full_name: str
    add_to_server: Callable[[grpc.aio.Server], None]


class GrpcServer:
    def __init__(
        self,
        settings: ServiceSettings,
        services: Sequence[ServiceRegistration],
        readiness: ReadinessCheck = always_ready,
        readiness_interval_seconds: float = 5.0,
    ) -> None:
        self.settings = settings
        self.services = list(services)
        self.readiness = readiness
        self.readiness_interval_seconds = readiness_interval_seconds
        self.health = health_aio.HealthServicer()
        self.in_flight = InFlight()
        self.port = 0
        self._server: grpc.aio.Server | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()

    def _names(self) -> list[str]:
        return ["", *(s.full_name for s in self.services)]

    async def _set_all(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for name in self._names():
            await self.health.set(name, status)

    async def start(self) -> int:
        limit = self.settings.max_message_bytes
        server = grpc.aio.server(
            # Health is left out of tracing: it is noise there, and OpenTelemetry's aio interceptor
            # cannot wrap the health servicer's Watch (a coroutine that writes, not a generator).
            interceptors=[
                aio_server_interceptor(filter_=filters.negate(filters.health_check())),
                ObservabilityInterceptor(self.in_flight),
            ],
            options=[
                ("grpc.max_receive_message_length", limit),
                ("grpc.max_send_message_length", limit),
                *KEEPALIVE_OPTIONS,
            ],
        )
        for service in self.services:
            service.add_to_server(server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [
                *(s.full_name for s in self.services),
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            server,
        )
        self.port = server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        await server.start()
        self._server = server
        self._watch_task = asyncio.create_task(self._watch_readiness())
        log.info("gRPC server listening", extra={"port": self.port, "services": [s.full_name for s in self.services]})
        return self.port

    async def _watch_readiness(self) -> None:
        last: bool | None = None
        while not self._stopping.is_set():
            try:
                ready = await asyncio.wait_for(self.readiness(), timeout=max(self.readiness_interval_seconds, 30.0))
            except Exception as exc:
                log.warning("readiness check failed: %s", exc)
                ready = False
            if ready != last:
                status = health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
                await self._set_all(status)
                log.info("health %s", "SERVING" if ready else "NOT_SERVING")
                last = ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.readiness_interval_seconds if ready else 0.5)

    async def stop(self) -> None:
        """NOT_SERVING at once, then let in-flight RPCs finish within the grace."""
        if self._stopping.is_set():
            await self._stopped.wait()
            return
        self._stopping.set()
        self.in_flight.draining = True
        await self.health.enter_graceful_shutdown()
        log.info("draining", extra={"grace_seconds": self.settings.shutdown_grace_seconds})
        if self._watch_task:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self._server is not None:
            # Wait for work in flight only: health Watch streams never end by themselves and must
            # not hold the drain open. Whatever is still running after the grace is cancelled.
            grace = self.settings.shutdown_grace_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.in_flight.wait_idle(), timeout=grace)
            await self._server.stop(0.5 if self.in_flight.active == 0 else 0)
        self._stopped.set()
        log.info("stopped")

    async def serve_until_signal(self) -> None:
        """Run until SIGTERM or SIGINT, then drain and return."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        await self.start()
        await stop_requested.wait()
        log.info("signal received; shutting down")
        await self.stop()
