"""``cad3d-pdf``: the pdf gRPC service."""

from __future__ import annotations

from cad3d.pdf.v1 import pdf_pb2, pdf_pb2_grpc
from cad3d_kit.service_main import run_isolated_service
from cad3d_pdf.servicer import CORE_MODULE, PdfServicer
from cad3d_pdf.settings import PdfSettings


def main() -> None:
    service = pdf_pb2.DESCRIPTOR.services_by_name["PdfService"].full_name
    run_isolated_service(PdfSettings, service, pdf_pb2_grpc.add_PdfServiceServicer_to_server, PdfServicer, CORE_MODULE)


if __name__ == "__main__":
    main()
