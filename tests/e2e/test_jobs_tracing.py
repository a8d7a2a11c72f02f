"""One trace from the HTTP request through NATS to the gRPC service.

The gateway and a dxf service export their spans over OTLP to a collector run by this test (a real
gRPC OTLP TraceService); the test then follows the parent links: HTTP server span -> job.dispatch
span (continued from the NATS message headers) -> gRPC client span -> the dxf service's server span.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.e2e.conftest import JOBS_GATEWAY_ENV
from tests.support.fixtures import plate_with_hole
from tests.support.servers import nats_server, start_gateway, start_service

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str


@dataclass
class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    spans: list[Span] = field(default_factory=list)

    def Export(self, request: Any, context: Any) -> Any:
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(
                        Span(
                            attributes.get("service.name", ""),
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                    )
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    servicer = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"http://127.0.0.1:{port}"
    server.stop(None)


def test_one_trace_from_http_through_nats_to_grpc(
    tmp_path_factory: pytest.TempPathFactory, jobs_storage: dict[str, str], collector: tuple[Collector, str]
) -> None:
    spans, endpoint = collector
    workdir = tmp_path_factory.mktemp("tracing")
    export_fast = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
    with nats_server(workdir) as nats_url:
        dxf, address = start_service("dxf", workdir, jobs_storage, {"CAD3D_DXF_OTLP_ENDPOINT": endpoint, **export_fast})
        gateway, url = start_gateway(
            workdir,
            jobs_storage,
            nats_url,
            {"dxf": address},
            {**JOBS_GATEWAY_ENV, "CAD3D_GATEWAY_OTLP_ENDPOINT": endpoint, **export_fast},
        )
        try:
            response = httpx.post(
                f"{url}/v1/conversions",
                files={"file": ("p.dxf", plate_with_hole())},
                data={"options": '{"format": "stl", "height": 1}'},
                headers={"Prefer": "wait=30"},
                timeout=60,
            )
            assert response.json()["status"] == "succeeded"
            deadline = time.monotonic() + 10
            while not any(s.service == "cad3d-dxf" and s.parent_id for s in spans.spans):
                assert time.monotonic() < deadline, "the dxf service exported no traced call"
                time.sleep(0.1)
        finally:
            gateway.stop()
            dxf.stop()

    post = next(s for s in spans.spans if s.service == "cad3d-gateway" and s.name == "POST /v1/conversions")
    trace = {s.span_id: s for s in spans.spans if s.trace_id == post.trace_id}

    def ancestors(span: Span) -> list[str]:
        chain = []
        while span.parent_id in trace:
            span = trace[span.parent_id]
            chain.append(span.name)
        return chain

    dispatch = next(s for s in trace.values() if s.name == "job.dispatch")
    assert post.name in ancestors(dispatch)  # continued from the NATS message headers
    served = next(s for s in trace.values() if s.service == "cad3d-dxf" and "ConvertStream" in s.name)
    assert "job.dispatch" in ancestors(served) and post.name in ancestors(served)
    assert trace[served.parent_id].service == "cad3d-gateway"  # the gateway's gRPC client span
