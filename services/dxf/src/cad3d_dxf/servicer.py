"""cad3d.dxf.v1.DxfService over the shared conversion RPC; the core runs in isolated workers."""

from __future__ import annotations

from typing import Any

import grpc

from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf.core import DwgConfig, DxfOptions
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.conversion import ConversionResult, ProgressCallback
from cad3d_kit.conversion_service import ConversionRpc, Executor, conversion_servicer_class, options_to_mapping
from cad3d_kit.isolation import IsolatedRunner
from cad3d_kit.storage import ArtifactStore

CORE_MODULE = "cad3d_dxf.core"


def dwg_config(settings: DxfSettings) -> DwgConfig:
    return DwgConfig(
        oda_path=settings.dwg_oda_path or None,
        dwg2dxf_path=settings.dwg2dxf_path or None,
        timeout_seconds=settings.dwg_timeout_seconds,
    )


def core_executor(runner: IsolatedRunner, function: str, dwg: DwgConfig) -> Executor:
    async def execute(
        request: Any, data: bytes, progress: ProgressCallback, time_left: float | None
    ) -> ConversionResult:
        options = DxfOptions.from_mapping(options_to_mapping(request.options))
        return await runner.run(
            f"{CORE_MODULE}:{function}", data, options, progress=progress, timeout_seconds=time_left, dwg=dwg
        )

    return execute


class DxfServicer(conversion_servicer_class(dxf_pb2_grpc.DxfServiceServicer, "rpc", dxf_pb2)):  # type: ignore[misc]
    """Convert and ConvertStream come from the shared implementation; Inspect is dxf's own."""

    def __init__(self, settings: DxfSettings, runner: IsolatedRunner, store: ArtifactStore | None) -> None:
        dwg = dwg_config(settings)
        inline_limit = settings.max_message_bytes // 2
        self.rpc = ConversionRpc("dxf", core_executor(runner, "convert", dwg), store, inline_limit)
        self.inspect_rpc = ConversionRpc("dxf_inspect", core_executor(runner, "inspect", dwg), store, inline_limit)

    async def Inspect(
        self, request: dxf_pb2.InspectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> dxf_pb2.InspectResponse:
        return await self.inspect_rpc.unary(request, context, dxf_pb2.InspectResponse)
