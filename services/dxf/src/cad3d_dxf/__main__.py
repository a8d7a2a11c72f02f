"""``cad3d-dxf``: the dxf gRPC service."""

from __future__ import annotations

from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf.servicer import CORE_MODULE, DxfServicer
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.service_main import ServiceParts, isolated_service_parts, run_service

SERVICE_NAME = dxf_pb2.DESCRIPTOR.services_by_name["DxfService"].full_name


async def build(settings: DxfSettings) -> ServiceParts:
    return isolated_service_parts(
        settings,
        SERVICE_NAME,
        dxf_pb2_grpc.add_DxfServiceServicer_to_server,
        lambda runner, store: DxfServicer(settings, runner, store),
        CORE_MODULE,
    )


def main() -> None:
    run_service(DxfSettings, build)


if __name__ == "__main__":
    main()
