"""``cad3d-pdf``: the pdf gRPC service."""

from __future__ import annotations

from cad3d.pdf.v1 import pdf_pb2, pdf_pb2_grpc
from cad3d_kit.service_main import ServiceParts, isolated_service_parts, run_service
from cad3d_pdf.servicer import CORE_MODULE, PdfServicer
from cad3d_pdf.settings import PdfSettings

SERVICE_NAME = pdf_pb2.DESCRIPTOR.services_by_name["PdfService"].full_name


async def build(settings: PdfSettings) -> ServiceParts:
    return isolated_service_parts(
        settings,
        SERVICE_NAME,
        pdf_pb2_grpc.add_PdfServiceServicer_to_server,
        lambda runner, store: PdfServicer(settings, runner, store),
        CORE_MODULE,
    )


def main() -> None:
    run_service(PdfSettings, build)


if __name__ == "__main__":
    main()
