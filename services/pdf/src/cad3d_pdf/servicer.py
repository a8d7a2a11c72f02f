"""cad3d.pdf.v1.PdfService over the shared conversion RPC; the core runs in isolated workers."""

from __future__ import annotations

from typing import Any

from cad3d.pdf.v1 import pdf_pb2, pdf_pb2_grpc
from cad3d_kit.conversion import ConversionError, ConversionResult, ProgressCallback
from cad3d_kit.conversion_service import ConversionRpc, Executor, conversion_servicer_class, options_to_mapping
from cad3d_kit.isolation import IsolatedRunner
from cad3d_kit.storage import ArtifactStore
from cad3d_pdf.core import PdfLimits, PdfOptions
from cad3d_pdf.settings import PdfSettings

CORE_MODULE = "cad3d_pdf.core"


def pdf_limits(settings: PdfSettings) -> PdfLimits:
    return PdfLimits(
        max_pages=settings.max_pages,
        max_objects_per_page=settings.max_objects_per_page,
        max_decompressed_bytes=settings.max_decompressed_bytes,
        page_timeout_seconds=settings.page_timeout_seconds,
        max_image_pixels=settings.max_image_pixels,
        raster_dpi=settings.raster_dpi,
    )


def pdf_executor(runner: IsolatedRunner, limits: PdfLimits) -> Executor:
    async def execute(
        request: Any, data: bytes, progress: ProgressCallback, time_left: float | None
    ) -> ConversionResult:
        mapping = options_to_mapping(request.options)
        target = mapping.pop("target", "dxf")
        if target not in ("", "dxf"):
            # The PDF -> 3D chain is orchestrated by the gateway: this service only writes DXF.
            raise ConversionError(
                "invalid_options", f"the pdf service writes DXF; {target!r} is done by the dxf service"
            )
        options = PdfOptions.from_mapping(mapping)
        return await runner.run(
            f"{CORE_MODULE}:convert", data, options, progress=progress, timeout_seconds=time_left, limits=limits
        )

    return execute


class PdfServicer(conversion_servicer_class(pdf_pb2_grpc.PdfServiceServicer, "rpc", pdf_pb2)):  # type: ignore[misc]
    def __init__(self, settings: PdfSettings, runner: IsolatedRunner, store: ArtifactStore | None) -> None:
        self.rpc = ConversionRpc(
            "pdf", pdf_executor(runner, pdf_limits(settings)), store, settings.max_message_bytes // 2
        )
