"""``cad3d-depth``: the depth gRPC service (photos -> relief meshes and point clouds)."""

from __future__ import annotations

import asyncio
import logging

from cad3d.depth.v1 import depth_pb2, depth_pb2_grpc
from cad3d_depth.core import create_estimator
from cad3d_depth.servicer import DepthServicer
from cad3d_depth.settings import DepthSettings
from cad3d_kit.grpc_server import ServiceRegistration
from cad3d_kit.service_main import ServiceParts, run_service
from cad3d_kit.storage import store_from_settings

SERVICE_NAME = depth_pb2.DESCRIPTOR.services_by_name["DepthService"].full_name
log = logging.getLogger("cad3d.depth")


async def build(settings: DepthSettings) -> ServiceParts:
    estimator = create_estimator(
        settings.backend,
        model_path=settings.model_path or None,
        triton_url=settings.triton_url or None,
        model_name=settings.model_name,
        model_version=settings.model_version,
        timeout_s=settings.timeout_seconds,
        retries=settings.retries,
        intra_op_threads=settings.intra_op_threads,
    )
    store = store_from_settings(settings)
    servicer = DepthServicer(settings, estimator, store)

    async def ready() -> bool:
        # The model must be loaded (or, on Triton, READY) before we take traffic.
        await asyncio.to_thread(store.check)
        await estimator.load()
        return await estimator.ready()

    return ServiceParts(
        registrations=[
            ServiceRegistration(SERVICE_NAME, lambda s: depth_pb2_grpc.add_DepthServiceServicer_to_server(servicer, s))
        ],
        readiness=ready,
        close=estimator.close,
    )


def main() -> None:
    run_service(DepthSettings, build)


if __name__ == "__main__":
    main()
