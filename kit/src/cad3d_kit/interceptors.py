"""gRPC server interceptor: access logs, RED metrics and exception -> status code, in one place.

Tracing is added by OpenTelemetry's own aio interceptor (see grpc_server.py); this one runs inside
it, so log lines carry the RPC's trace id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc.aio import AbortError

from cad3d_kit.conversion import ConversionError
from cad3d_kit.errors import to_grpc_status
from cad3d_kit.metrics import GRPC_DURATION, GRPC_REQUESTS

log = logging.getLogger("cad3d.grpc")


def _final_code(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    code = context.code()
    if code is None:
        return grpc.StatusCode.OK.name
    if isinstance(code, grpc.StatusCode):
        return code.name
    # Some grpcio versions return the raw integer.
    return next((c.name for c in grpc.StatusCode if c.value[0] == code), str(code))


async def _abort_for(exc: BaseException, context: grpc.aio.ServicerContext[Any, Any], method: str) -> None:
    if isinstance(exc, ConversionError):
        log.info("conversion failed", extra={"method": method, "code": exc.code, "error_message": exc.message})
        await context.abort_with_status(to_grpc_status(exc))
    log.exception("unhandled error in %s", method)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the service log")


class InFlight:
    """Counts RPCs that do work (not health or reflection), so a drain waits for them alone."""

    def __init__(self) -> None:
        self.active = 0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.active += 1
        self._idle.clear()

    def leave(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, in_flight: InFlight | None = None) -> None:
        self.in_flight = in_flight or InFlight()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(("/grpc.health.", "/grpc.reflection.")):
            return handler

        async def admit(context: grpc.aio.ServicerContext[Any, Any]) -> float:
            """Refuse new work while draining; otherwise count it in flight. Returns the start time."""
            if self.in_flight.draining:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "shutting down; retry on another replica")
            self.in_flight.enter()
            return time.perf_counter()

        def finish(context: grpc.aio.ServicerContext[Any, Any], started: float) -> None:
            self.in_flight.leave()
            code = _final_code(context)
            elapsed = time.perf_counter() - started
            GRPC_REQUESTS.labels(method, code).inc()
            GRPC_DURATION.labels(method).observe(elapsed)
            log.info("rpc", extra={"method": method, "code": code, "duration_ms": round(elapsed * 1000, 1)})

        if handler.unary_unary:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                started = await admit(context)
                try:
                    return await inner_unary(request, context)
                except AbortError:
                    raise
                except Exception as exc:
                    await _abort_for(exc, context, method)
                finally:
                    finish(context, started)

            return grpc.unary_unary_rpc_method_handler(unary, handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            inner_stream = handler.unary_stream

            async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
                started = await admit(context)
                try:
                    async for item in inner_stream(request, context):
                        yield item
                except AbortError:
                    raise
                except Exception as exc:
                    await _abort_for(exc, context, method)
                finally:
                    finish(context, started)

            return grpc.unary_stream_rpc_method_handler(
                stream, handler.request_deserializer, handler.response_serializer
            )
        return handler
