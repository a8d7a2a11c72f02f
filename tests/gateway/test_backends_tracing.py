"""The gateway's gRPC calls carry the trace context to the service, with or without an exporter
(without one the gateway writes it into the call's metadata itself instead of interceptors)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_gateway.backends import Backends
from cad3d_gateway.settings import GatewaySettings
from cad3d_kit.tracing import make_tracer_provider


class Recorder(dxf_pb2_grpc.DxfServiceServicer):
    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        self.metadata.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        yield dxf_pb2.ConvertStreamResponse(progress=common_pb2.Progress(percent=0, stage="queued"))
        yield dxf_pb2.ConvertStreamResponse(result=dxf_pb2.ConvertResponse(converter_version="test/1"))


@pytest.mark.parametrize("otlp_endpoint", ["", "http://127.0.0.1:1"])
async def test_convert_propagates_the_trace(otlp_endpoint: str) -> None:
    recorder = Recorder()
    server = grpc.aio.server()
    dxf_pb2_grpc.add_DxfServiceServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    provider = make_tracer_provider("test", otlp_endpoint)
    backends = Backends(GatewaySettings(dxf_address=f"127.0.0.1:{port}", otlp_endpoint=otlp_endpoint))
    progress: list[str] = []

    async def on_progress(percent: float, stage: str, message: str) -> None:
        progress.append(stage)

    try:
        with provider.get_tracer("test").start_as_current_span("job.dispatch") as span:
            result = await backends.convert(
                "dxf", common_pb2.ObjectRef(key="k"), {"format": "stl"}, common_pb2.OutputLocation(), on_progress
            )
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        await backends.close()
        await server.stop(None)
        provider.shutdown()
    assert result.converter_version == "test/1" and progress == ["queued"]
    assert backends.traced == bool(otlp_endpoint)
    assert recorder.metadata[0]["traceparent"].split("-")[1] == trace_id
