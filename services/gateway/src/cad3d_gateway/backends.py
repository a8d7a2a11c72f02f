"""gRPC clients of the conversion services: one channel each, traced, with size limits and health."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from cad3d.common.v1 import common_pb2
from cad3d.depth.v1 import depth_pb2, depth_pb2_grpc
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d.pdf.v1 import pdf_pb2, pdf_pb2_grpc
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_kit.tracing import inject_headers

log = logging.getLogger("cad3d.gateway.backends")

KEEPALIVE_TIME_MS = 30_000

# (percent, stage, message)
OnProgress = Callable[[float, str, str], Any]


class BackendError(ConversionError):
    """A failed service call; ``accepted`` tells whether the service took it (sent any event)."""

    accepted: bool = True

    @classmethod
    def of(cls, error: ConversionError, accepted: bool) -> BackendError:
        failure = cls(error.code, error.message, error.kind, error.location)
        failure.accepted = accepted
        return failure


@dataclass(frozen=True)
class BackendSpec:
    """How to reach one conversion service and how to phrase its requests."""

    name: str
    stub: Any
    request: Any
    options: Any
    enums: dict[str, tuple[Any, str]]  # option name -> (enum wrapper, value prefix)
    rename: dict[str, str]  # API option name -> proto field name


SPECS = {
    "dxf": BackendSpec(
        "dxf",
        dxf_pb2_grpc.DxfServiceStub,
        dxf_pb2.ConvertStreamRequest,
        dxf_pb2.ConvertOptions,
        {"format": (dxf_pb2.OutputFormat, "OUTPUT_FORMAT_")},
        {"rules": "rules_json"},
    ),
    "pdf": BackendSpec(
        "pdf",
        pdf_pb2_grpc.PdfServiceStub,
        pdf_pb2.ConvertStreamRequest,
        pdf_pb2.ConvertOptions,
        {
            "page_mode": (pdf_pb2.PageMode, "PAGE_MODE_"),
            "layer_mode": (pdf_pb2.LayerMode, "LAYER_MODE_"),
            "raster_mode": (pdf_pb2.RasterMode, "RASTER_MODE_"),
        },
        {"format": "target"},
    ),
    "image": BackendSpec(
        "depth",
        depth_pb2_grpc.DepthServiceStub,
        depth_pb2.ConvertStreamRequest,
        depth_pb2.ConvertOptions,
        {"format": (depth_pb2.OutputFormat, "OUTPUT_FORMAT_")},
        {},
    ),
}


def build_options(spec: BackendSpec, options: dict[str, Any]) -> Any:
    """API options (already validated) -> the service's proto ConvertOptions."""
    import json

    fields: dict[str, Any] = {}
    known = spec.options.DESCRIPTOR.fields_by_name
    for key, value in options.items():
        name = spec.rename.get(key, key)
        if name not in known:
            continue  # options for a later stage of a chain (e.g. height for PDF -> 3D)
        if name in spec.enums:
            wrapper, prefix = spec.enums[name]
            value = wrapper.Value(prefix + str(value).upper())
        elif name == "rules_json" and not isinstance(value, str):
            value = json.dumps(value)
        fields[name] = value
    return spec.options(**fields)


class Backends:
    def __init__(self, settings: GatewaySettings) -> None:
        limit = settings.grpc_max_message_bytes
        channel_options = [
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.enable_retries", 1),
            # Pings keep a long, quiet call's connection alive through proxies and detect a dead
            # peer; the services accept one every KEEPALIVE_MIN_RECV_MS (cad3d_kit.grpc_server), so
            # these never earn a GOAWAY ``too_many_pings``.
            ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
            ("grpc.keepalive_timeout_ms", 20_000),
            ("grpc.http2.max_pings_without_data", 0),
            # A service back from an outage is used within seconds (gRPC's default backoff grows
            # to two minutes, and queued jobs would wait that long after a 30 s outage).
            ("grpc.initial_reconnect_backoff_ms", 500),
            ("grpc.max_reconnect_backoff_ms", 5_000),
        ]
        addresses = {"dxf": settings.dxf_address, "pdf": settings.pdf_address, "image": settings.depth_address}
        self.addresses = {kind: address for kind, address in addresses.items() if address}
        # With an exporter, OpenTelemetry's interceptors record a client span per call. Without one
        # that span would go unrecorded (see cad3d_kit.tracing) and the interceptor machinery (an
        # extra task per call, every response message wrapped) would only carry the trace context,
        # which convert() then writes into the call's metadata itself.
        self.traced = bool(settings.otlp_endpoint)
        interceptors = aio_client_interceptors() if self.traced else None
        self.channels = {
            kind: grpc.aio.insecure_channel(address, options=channel_options, interceptors=interceptors)
            for kind, address in self.addresses.items()
        }
        self.timeout = settings.job_timeout_seconds

    def supports(self, kind: str) -> bool:
        return kind in self.channels

    async def health(self, timeout: float = 2.0) -> dict[str, str]:
        """SERVING / NOT_SERVING / UNREACHABLE per configured backend."""
        result: dict[str, str] = {}
        for kind, channel in self.channels.items():
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
                result[SPECS[kind].name] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            except grpc.aio.AioRpcError as exc:
                result[SPECS[kind].name] = f"UNREACHABLE ({exc.code().name})"
        return result

    async def convert(
        self,
        kind: str,
        input_ref: common_pb2.ObjectRef,
        options: dict[str, Any],
        output: common_pb2.OutputLocation,
        on_progress: OnProgress,
        timeout: float | None = None,
    ) -> Any:
        """Run ConvertStream on the service for ``kind``; returns its ConvertResponse."""
        from cad3d_kit.errors import from_rpc_error

        if kind not in self.channels:
            raise ConversionError(
                "kind_not_enabled", f"no {SPECS[kind].name} service is configured", ErrorKind.PRECONDITION
            )
        spec = SPECS[kind]
        request = spec.request(
            input=common_pb2.InputSource(object=input_ref), options=build_options(spec, options), output=output
        )
        stub = spec.stub(self.channels[kind])
        result = None
        events = 0
        try:
            call = stub.ConvertStream(request, timeout=timeout or self.timeout, metadata=self._trace_metadata())
            # Read the stream to its end (not only to the result): the call, and its client span,
            # finish only then.
            async for event in call:
                events += 1
                which = event.WhichOneof("event")
                if which == "progress":
                    await on_progress(event.progress.percent, event.progress.stage, event.progress.message)
                elif which == "result":
                    result = event.result
        except grpc.aio.AioRpcError as exc:
            raise BackendError.of(from_rpc_error(exc), accepted=events > 0) from None
        if result is not None:
            return result
        raise BackendError.of(
            ConversionError("backend_error", "the service ended the stream without a result", ErrorKind.UNAVAILABLE),
            accepted=True,
        )

    def _trace_metadata(self) -> tuple[tuple[str, str], ...] | None:
        if self.traced:
            return None  # the interceptors propagate it
        return tuple(inject_headers({}).items())

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
