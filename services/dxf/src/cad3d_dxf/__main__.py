"""``cad3d-dxf``: the dxf gRPC service."""

from __future__ import annotations

from cad3d.dxf.v1 import dxf_pb2, dxf_pb2_grpc
from cad3d_dxf.servicer import CORE_MODULE, DxfServicer
from cad3d_dxf.settings import DxfSettings
from cad3d_kit.service_main import run_isolated_service


def main() -> None:
    service = dxf_pb2.DESCRIPTOR.services_by_name["DxfService"].full_name
    run_isolated_service(DxfSettings, service, dxf_pb2_grpc.add_DxfServiceServicer_to_server, DxfServicer, CORE_MODULE)


if __name__ == "__main__":
    main()
