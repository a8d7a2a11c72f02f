"""The tracer provider the gateway and services install: spans record only when they are exported,
and trace ids exist and propagate either way."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cad3d_kit.tracing import make_tracer_provider

INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _propagated(span: trace.Span) -> str:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier["traceparent"]


def _sampled(traceparent: str) -> bool:
    return bool(int(traceparent.split("-")[3], 16) & 0x01)


def test_without_an_exporter_new_traces_carry_ids_but_record_nothing() -> None:
    tracer = make_tracer_provider("test").get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid
        assert not _sampled(_propagated(span))  # not sampled downstream either


def test_without_an_exporter_a_sampled_caller_stays_sampled_downstream() -> None:
    tracer = make_tracer_provider("test").get_tracer("test")
    parent = TraceContextTextMapPropagator().extract({"traceparent": INCOMING})
    with tracer.start_as_current_span("work", context=parent) as span:
        traceparent = _propagated(span)
        assert traceparent.split("-")[1] == INCOMING.split("-")[1]
        # A service further down that exports still gets the caller's trace.
        assert _sampled(traceparent)


def test_with_an_exporter_spans_record() -> None:
    provider = make_tracer_provider("test", "http://127.0.0.1:1")
    try:
        with provider.get_tracer("test").start_as_current_span("work") as span:
            assert span.is_recording() and span.get_span_context().is_valid
    finally:
        provider.shutdown()
