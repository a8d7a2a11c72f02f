"""OpenTelemetry tracing: OTLP export when an endpoint is configured, unrecorded spans otherwise.

A tracer provider is always installed so trace ids exist for log correlation and for propagation
(HTTP -> gRPC -> NATS) even when nothing is exported. Without an exporter, traces that start here
are sampled out: their spans carry trace ids but record nothing, so the instrumentations skip
collecting attributes and events that would be thrown away (under load that was a noticeable share
of every request's CPU). A trace a caller marked as sampled stays sampled (parent-based), so a
service further down that does export still gets it whole. With an exporter the SDK's default
sampler (or ``OTEL_TRACES_SAMPLER``) decides as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

_provider: TracerProvider | None = None


def make_tracer_provider(service_name: str, otlp_endpoint: str = "") -> TracerProvider:
    """The provider setup_tracing installs (separate so it can be checked without the global)."""
    resource = Resource.create({"service.name": service_name})
    if not otlp_endpoint:
        return TracerProvider(resource=resource, sampler=ParentBased(root=ALWAYS_OFF))
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    return provider


def setup_tracing(service_name: str, otlp_endpoint: str = "") -> TracerProvider:
    global _provider
    if _provider is not None:
        return _provider
    provider = make_tracer_provider(service_name, otlp_endpoint)
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
