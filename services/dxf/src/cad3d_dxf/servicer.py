"""cad3d.dxf.v1.DxfService over the shared conversion RPC; the core runs in isolated workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf.core import DwgConfig, DxfOptions
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.conversion import ConversionResult, ProgressCallback
from cad3d_kit.conversion_service import ConversionRpc, options_to_mapping
from cad3d_kit.isolation import IsolatedRunner
from cad3d_kit.storage import ArtifactStore

CORE_MODULE = "cad3d_dxf.core"


def dwg_config(settings: DxfSettings) -> DwgConfig:
    return DwgConfig(
        oda_path=settings.dwg_oda_path or None,
        dwg2dxf_path=settings.dwg2dxf_path or None,
        timeout_seconds=settings.dwg_timeout_seconds,
    )


class DxfServicer(dxf_pb2_grpc.DxfServiceServicer):
    def __init__(self, settings: DxfSettings, runner: IsolatedRunner, store: ArtifactStore | None) -> None:
        self._runner = runner
        self._dwg = dwg_config(settings)
        self._convert = ConversionRpc("dxf", self._execute("convert"), store, settings.max_message_bytes // 2)
        self._inspect = ConversionRpc("dxf_inspect", self._execute("inspect"), store, settings.max_message_bytes // 2)

    def _execute(self, function: str) -> Any:
        async def execute(
            request: Any, data: bytes, progress: ProgressCallback, time_left: float | None
        ) -> ConversionResult:
            options = DxfOptions.from_mapping(options_to_mapping(request.options))
            return await self._runner.run(
                f"{CORE_MODULE}:{function}", data, options, progress=progress, timeout_seconds=time_left, dwg=self._dwg
            )

        return execute

    async def Convert(
        self, request: dxf_pb2.ConvertRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> dxf_pb2.ConvertResponse:
        return await self._convert.unary(request, context, dxf_pb2.ConvertResponse)

    async def ConvertStream(
        self, request: dxf_pb2.ConvertStreamRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[dxf_pb2.ConvertStreamResponse]:
        async for event in self._convert.stream(
            request, context, dxf_pb2.ConvertStreamResponse, dxf_pb2.ConvertResponse
        ):
            yield event

    async def Inspect(
        self, request: dxf_pb2.InspectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> dxf_pb2.InspectResponse:
        return await self._inspect.unary(request, context, dxf_pb2.InspectResponse)
