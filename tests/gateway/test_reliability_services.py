"""The services under faults (reliability finding 3). Keepalive pings and the services agree: a
client that pings while a conversion runs quietly (no data for many ping intervals) is not answered with GOAWAY
``too_many_pings``, which used to fail every call in flight on the channel after a few minutes.

A real GrpcServer and a real channel pinging every second (the gateway pings every 30 s), over a
call silent for several seconds: the gRPC default (a ping per 5 minutes, two strikes) ends it.

A store that fails while a service reads or writes is the retryable ``storage_error``, not an
internal error the gateway could only give up on."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_gateway.backends import KEEPALIVE_TIME_MS
from cad3d_gateway.retries import RetryPolicy, Verdict
from cad3d_kit.conversion import ConversionResult, ErrorKind, OutputArtifact
from cad3d_kit.conversion_service import ConversionRpc
from cad3d_kit.errors import from_rpc_error
from cad3d_kit.grpc_server import KEEPALIVE_MIN_RECV_MS, GrpcServer, ServiceRegistration
from cad3d_kit.settings import ServiceSettings
from cad3d_kit.storage import LocalArtifactStore

QUIET_SECONDS = 6.0


class Quiet(dxf_pb2_grpc.DxfServiceServicer):
    """A conversion that sends nothing for QUIET_SECONDS, then its result."""

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        await asyncio.sleep(QUIET_SECONDS)
        yield dxf_pb2.ConvertStreamResponse(result=dxf_pb2.ConvertResponse(converter_version="quiet/1"))


def test_the_services_accept_the_gateways_pings() -> None:
    assert KEEPALIVE_MIN_RECV_MS <= KEEPALIVE_TIME_MS


async def test_a_quiet_call_survives_frequent_keepalive_pings() -> None:
    settings = ServiceSettings(grpc_host="127.0.0.1", grpc_port=0, shutdown_grace_seconds=1)
    registration = ServiceRegistration(
        dxf_pb2.DESCRIPTOR.services_by_name["DxfService"].full_name,
        lambda server: dxf_pb2_grpc.add_DxfServiceServicer_to_server(Quiet(), server),
    )
    server = GrpcServer(settings, [registration])
    port = await server.start()
    options = [
        ("grpc.keepalive_time_ms", 1_000),
        ("grpc.keepalive_timeout_ms", 5_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            stub = dxf_pb2_grpc.DxfServiceStub(channel)
            events = [event async for event in stub.ConvertStream(dxf_pb2.ConvertStreamRequest(), timeout=30)]
            assert events[-1].result.converter_version == "quiet/1"
            # The channel is still usable afterwards (no GOAWAY closed it).
            again = stub.ConvertStream(dxf_pb2.ConvertStreamRequest(), timeout=30)
            assert [e.result.converter_version async for e in again] == ["quiet/1"]
    finally:
        await server.stop()


class BrokenStore(LocalArtifactStore):
    """A store whose disk fills up: reads work, writes fail."""

    def put(self, key: str, data: bytes, media_type: str) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_store_failure_is_a_retryable_storage_error(tmp_path: Path) -> None:
    store = BrokenStore(tmp_path)
    LocalArtifactStore.put(store, "in/a.dxf", b"drawing", "image/vnd.dxf")

    async def execute(request: Any, data: bytes, progress: Any, time_left: float | None) -> ConversionResult:
        return ConversionResult([OutputArtifact("model.stl", "model/stl", data)], {})

    rpc = ConversionRpc("dxf", execute, store, max_inline_bytes=1024)

    class Servicer(dxf_pb2_grpc.DxfServiceServicer):
        async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
            async for event in rpc.stream(request, context, dxf_pb2.ConvertStreamResponse, dxf_pb2.ConvertResponse):
                yield event

    registration = ServiceRegistration(
        dxf_pb2.DESCRIPTOR.services_by_name["DxfService"].full_name,
        lambda server: dxf_pb2_grpc.add_DxfServiceServicer_to_server(Servicer(), server),
    )
    server = GrpcServer(ServiceSettings(grpc_host="127.0.0.1", grpc_port=0, shutdown_grace_seconds=1), [registration])
    port = await server.start()
    request = dxf_pb2.ConvertStreamRequest(
        input=common_pb2.InputSource(object=common_pb2.ObjectRef(bucket=store.bucket, key="in/a.dxf")),
        output=common_pb2.OutputLocation(bucket=store.bucket, prefix="out"),
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for _ in dxf_pb2_grpc.DxfServiceStub(channel).ConvertStream(request, timeout=10):
                    pass
    finally:
        await server.stop()
    error = from_rpc_error(caught.value)
    assert (error.code, error.kind) == ("storage_error", ErrorKind.UNAVAILABLE)
    assert "writing the outputs" in error.message
    assert RetryPolicy(3).verdict(error, accepted=True, attempts=1) == Verdict.RETRY
