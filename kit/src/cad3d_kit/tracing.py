"""OpenTelemetry tracing: OTLP export when an endpoint is configured, local spans otherwise.

A tracer provider is always installed so trace ids exist for log correlation and for propagation
(HTTP -> gRPC -> NATS) even when nothing is exported.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(service_name: str, otlp_endpoint: str = "") -> TracerProvider:
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.shutdown()


def inject_headers(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current trace context (W3C traceparent) into message headers, e.g. NATS headers."""
    propagate.inject(carrier)
    return carrier


def extract_context(carrier: Mapping[str, str] | None) -> context.Context:
    """The trace context carried by message headers, to parent the consumer's span on."""
    return propagate.extract(dict(carrier or {}))
