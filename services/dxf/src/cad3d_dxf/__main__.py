"""``cad3d-dxf``: the dxf gRPC service."""

from __future__ import annotations

import asyncio

from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf.servicer import CORE_MODULE, DxfServicer
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.grpc_server import ServiceRegistration
from cad3d_kit.isolation import IsolatedRunner, runner_ready
from cad3d_kit.service_main import ServiceParts, run_service
from cad3d_kit.storage import store_from_settings

SERVICE_NAME = dxf_pb2.DESCRIPTOR.services_by_name["DxfService"].full_name


async def build(settings: DxfSettings) -> ServiceParts:
    runner = IsolatedRunner(
        workers=settings.max_concurrent_conversions,
        timeout_seconds=settings.conversion_timeout_seconds,
        memory_mb=settings.conversion_memory_mb,
        preload=[CORE_MODULE],
    )
    store = store_from_settings(settings)
    servicer = DxfServicer(settings, runner, store)

    async def ready() -> bool:
        await asyncio.to_thread(store.check)
        return await runner_ready(runner)

    async def close() -> None:
        await asyncio.to_thread(runner.close)

    return ServiceParts(
        registrations=[
            ServiceRegistration(SERVICE_NAME, lambda s: dxf_pb2_grpc.add_DxfServiceServicer_to_server(servicer, s))
        ],
        readiness=ready,
        close=close,
    )


def main() -> None:
    run_service(DxfSettings, build)


if __name__ == "__main__":
    main()
