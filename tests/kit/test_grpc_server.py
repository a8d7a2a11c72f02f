"""The shared grpc.aio bootstrap: real health, reflection, size limits, errors with details."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cad3d.common.v1 import common_pb2
from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_kit.conversion import ConversionError, ConversionResult, ErrorKind, OutputArtifact, SourceLocation
from cad3d_kit.conversion_service import ConversionRpc
from cad3d_kit.errors import from_rpc_error
from cad3d_kit.grpc_server import GrpcServer, ServiceRegistration
from cad3d_kit.settings import ServiceSettings

SERVICE = "cad3d.dxf.v1.DxfService"


class FakeCoreServicer(dxf_pb2_grpc.DxfServiceServicer):
    """The real ConversionRpc with a tiny in-process core standing in for the dxf converter."""

    def __init__(self) -> None:
        async def execute(request: Any, data: bytes, progress: Any, time_left: float | None) -> ConversionResult:
            if data == b"boom":
                raise ConversionError(
                    "dxf_unreadable",
                    "not a drawing",
                    ErrorKind.INVALID_INPUT,
                    SourceLocation(entity_handle="2F", entity_type="ELLIPSE"),
                )
            if data == b"crash":
                raise RuntimeError("bug")
            progress(50.0, "work", "half")
            return ConversionResult(
                [OutputArtifact("model.glb", "model/gltf-binary", data.upper())], {"n": 1}, converter_version="test/1"
            )

        self.rpc = ConversionRpc("test", execute, None, max_inline_bytes=1024)

    async def Convert(self, request: Any, context: Any) -> Any:
        return await self.rpc.unary(request, context, dxf_pb2.ConvertResponse)

    async def ConvertStream(self, request: Any, context: Any) -> AsyncIterator[Any]:
        async for event in self.rpc.stream(request, context, dxf_pb2.ConvertStreamResponse, dxf_pb2.ConvertResponse):
            yield event


@pytest.fixture
async def server() -> AsyncIterator[tuple[GrpcServer, asyncio.Event, str]]:
    ready = asyncio.Event()

    async def readiness() -> bool:
        return ready.is_set()

    servicer = FakeCoreServicer()
    settings = ServiceSettings(
        grpc_host="127.0.0.1", grpc_port=0, max_message_bytes=64 * 1024, shutdown_grace_seconds=2
    )
    srv = GrpcServer(
        settings,
        [ServiceRegistration(SERVICE, lambda s: dxf_pb2_grpc.add_DxfServiceServicer_to_server(servicer, s))],
        readiness,
        readiness_interval_seconds=0.1,
    )
    port = await srv.start()
    yield srv, ready, f"127.0.0.1:{port}"
    await srv.stop()


async def health(address: str, service: str = "") -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service))
        return int(response.status)


async def wait_for_status(address: str, status: int, service: str = "") -> None:
    for _ in range(100):
        if await health(address, service) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"health never became {status}")


async def test_health_follows_readiness_and_shutdown(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    srv, ready, address = server
    assert await health(address, "liveness") == health_pb2.HealthCheckResponse.SERVING
    assert await health(address) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await health(address, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING
    ready.set()
    await wait_for_status(address, health_pb2.HealthCheckResponse.SERVING)
    await wait_for_status(address, health_pb2.HealthCheckResponse.SERVING, SERVICE)
    ready.clear()  # a dependency went away: out of rotation, but alive
    await wait_for_status(address, health_pb2.HealthCheckResponse.NOT_SERVING)
    assert await health(address, "liveness") == health_pb2.HealthCheckResponse.SERVING
    ready.set()
    await wait_for_status(address, health_pb2.HealthCheckResponse.SERVING)
    await srv.health.enter_graceful_shutdown()
    assert await health(address) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await health(address, "liveness") == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_services(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    _, _, address = server
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
            yield reflection_pb2.ServerReflectionRequest(list_services="")

        names = set()
        async for response in stub.ServerReflectionInfo(requests()):
            names = {s.name for s in response.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


async def test_conversion_error_becomes_status_with_details(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    _, _, address = server
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dxf_pb2_grpc.DxfServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Convert(dxf_pb2.ConvertRequest(input=common_pb2.InputSource(inline_data=b"boom")))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = from_rpc_error(info.value)
    assert (error.code, error.location.entity_handle, error.location.entity_type) == ("dxf_unreadable", "2F", "ELLIPSE")


async def test_unexpected_exception_is_internal_without_leaking(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    _, _, address = server
    async with grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await dxf_pb2_grpc.DxfServiceStub(channel).Convert(
                dxf_pb2.ConvertRequest(input=common_pb2.InputSource(inline_data=b"crash"))
            )
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "bug" not in (info.value.details() or "")


async def test_missing_input_and_message_size_limit(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    _, _, address = server
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dxf_pb2_grpc.DxfServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Convert(dxf_pb2.ConvertRequest())
        assert from_rpc_error(info.value).code == "missing_input"
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Convert(dxf_pb2.ConvertRequest(input=common_pb2.InputSource(inline_data=b"x" * 100_000)))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_stream_sends_progress_then_result(server: tuple[GrpcServer, asyncio.Event, str]) -> None:
    _, _, address = server
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dxf_pb2_grpc.DxfServiceStub(channel)
        events = [
            e
            async for e in stub.ConvertStream(
                dxf_pb2.ConvertStreamRequest(input=common_pb2.InputSource(inline_data=b"abc"))
            )
        ]
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    stages = [e.progress.stage for e in events if e.WhichOneof("event") == "progress"]
    assert stages[0] == "queued" and "work" in stages and stages[-1] == "done"
    result = events[-1].result
    assert result.artifacts[0].inline_data == b"ABC" and result.converter_version == "test/1"
    assert result.report["n"] == 1
