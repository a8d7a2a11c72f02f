"""The core entry point: input bytes + options -> DXF artifacts + report."""

from __future__ import annotations

import threading
import time
from typing import Any

import pymupdf

from cad3d_kit.conversion import (
    ConversionError,
    ConversionResult,
    ConversionWarning,
    ErrorKind,
    OutputArtifact,
    ProgressCallback,
    SourceLocation,
    no_progress,
)
from cad3d_pdf.core.detect import detect_input
from cad3d_pdf.core.document import open_pdf
from cad3d_pdf.core.dxf_fast import RawEntities
from cad3d_pdf.core.dxf_writer import LayoutWriter, document_bytes, new_document
from cad3d_pdf.core.model import PageDrawing
from cad3d_pdf.core.options import PdfLimits, PdfOptions
from cad3d_pdf.core.page_ranges import parse_page_ranges
from cad3d_pdf.core.pages import PageResult, convert_pdf_page, convert_raster_image
from cad3d_pdf.core.units import output_factor

CONVERTER_VERSION = f"cad3d-pdf-core/1.0 (PyMuPDF {pymupdf.VersionBind})"
DXF_MEDIA_TYPE = "image/vnd.dxf"
PNG_MEDIA_TYPE = "image/png"

# MuPDF is not thread-safe; conversions in one process take turns (scale out with processes).
_MUPDF_LOCK = threading.Lock()


def _page_file(number: int, ext: str) -> str:
    return f"page-{number:03d}.{ext}"


class _Assembler:
    """Writes each page as soon as it is converted, so only one page's records live in memory."""

    def __init__(self, options: PdfOptions, page_total: int) -> None:
        self.options = options
        self.single_document = options.page_mode == "layout_per_page" or page_total == 1
        self.artifacts: list[OutputArtifact] = []
        self.shared_doc = new_document(options.unit) if options.page_mode == "layout_per_page" else None

    def add(self, page: PageResult) -> dict[str, Any]:
        underlay_name = _page_file(page.number, "png") if page.underlay_png else None
        if self.shared_doc is not None:
            doc = self.shared_doc
            layout = doc.layouts.new(f"Page {page.number}")
            layout.page_setup(size=(page.drawing.width, page.drawing.height), margins=(0, 0, 0, 0))
            raw = None
        else:
            doc = new_document(self.options.unit)
            layout = doc.modelspace()
            raw = RawEntities(doc, layout.block_record_handle)
        writer = LayoutWriter(doc, layout, raw)
        counts = writer.write(page.drawing)
        if underlay_name and page.underlay_png is not None:
            writer.add_underlay(underlay_name, page.underlay_size, page.drawing.width, page.drawing.height)
            self.artifacts.append(OutputArtifact(underlay_name, PNG_MEDIA_TYPE, page.underlay_png))
        dxf_name = "drawing.dxf" if self.single_document else _page_file(page.number, "dxf")
        if self.shared_doc is None:
            self.artifacts.append(OutputArtifact(dxf_name, DXF_MEDIA_TYPE, document_bytes(doc, raw)))
        return {
            "artifact": dxf_name,
            "entities": dict(sorted(counts.items())),
            **({"underlay": underlay_name} if underlay_name else {}),
        }

    def finish(self) -> list[OutputArtifact]:
        if self.shared_doc is not None:
            if "Layout1" in self.shared_doc.layouts and len(self.shared_doc.layouts) > 2:
                self.shared_doc.layouts.delete("Layout1")
            self.artifacts.insert(0, OutputArtifact("drawing.dxf", DXF_MEDIA_TYPE, document_bytes(self.shared_doc)))
        return self.artifacts


def convert(
    data: bytes,
    options: PdfOptions,
    progress: ProgressCallback = no_progress,
    *,
    limits: PdfLimits = PdfLimits(),  # noqa: B008 - frozen dataclass, safe as a default
) -> ConversionResult:
    """Convert a PDF (vector or scanned) or a PNG/JPEG drawing to DXF."""
    started = time.perf_counter()
    kind = detect_input(data)
    progress(0.0, "open", f"reading {kind.upper()} input")
    with _MUPDF_LOCK:
        converted = (
            _convert_pdf(data, options, limits, progress)
            if kind == "pdf"
            else _convert_image(data, options, limits, progress)
        )
    return _result(kind, options, converted, started, progress)


_Converted = tuple[list[tuple[PageResult, dict[str, Any]]], list[ConversionWarning], int, list[OutputArtifact]]


def _convert_image(data: bytes, options: PdfOptions, limits: PdfLimits, progress: ProgressCallback) -> _Converted:
    parse_page_ranges(options.pages, 1)
    assembler = _Assembler(options, 1)
    result = convert_raster_image(data, options, limits)
    pages = [(result, assembler.add(result))]
    progress(95.0, "write", "writing DXF")
    return pages, list(result.warnings), 1, assembler.finish()


def _convert_pdf(data: bytes, options: PdfOptions, limits: PdfLimits, progress: ProgressCallback) -> _Converted:
    doc, warnings = open_pdf(data, options.password)
    try:
        page_count = doc.page_count
        indices = parse_page_ranges(options.pages, page_count)
        if len(indices) > limits.max_pages:
            raise ConversionError(
                "pdf_too_many_pages",
                f"{len(indices)} pages selected, more than the limit of {limits.max_pages}",
                ErrorKind.RESOURCE_EXHAUSTED,
            )
        assembler = _Assembler(options, len(indices))
        pages: list[tuple[PageResult, dict[str, Any]]] = []
        for position, index in enumerate(indices):
            progress(90.0 * position / len(indices), "page", f"page {index + 1} ({position + 1}/{len(indices)})")
            try:
                page = doc.load_page(index)
            except RuntimeError as exc:
                raise ConversionError("pdf_unreadable", f"page {index + 1} cannot be read: {exc}") from exc
            try:
                result = convert_pdf_page(doc, page, options, limits)
            except RuntimeError as exc:  # MuPDF gives up on content it cannot repair
                raise ConversionError(
                    "pdf_unreadable",
                    f"page {index + 1} cannot be interpreted: {exc}",
                    location=SourceLocation(page=index + 1),
                ) from exc
            pages.append((result, assembler.add(result)))
            warnings.extend(result.warnings)
            result.drawing = PageDrawing(result.drawing.width, result.drawing.height)  # written: drop the records
        progress(92.0, "write", "writing DXF")
        return pages, warnings, page_count, assembler.finish()
    finally:
        doc.close()


def _result(
    kind: str,
    options: PdfOptions,
    converted: _Converted,
    started: float,
    progress: ProgressCallback,
) -> ConversionResult:
    pages, warnings, page_count, artifacts = converted
    page_reports = []
    for result, written in pages:
        page_warnings = [w.as_dict() for w in result.warnings]
        page_reports.append(
            {**result.report, "scale_status": options.scale_status, **written, "warnings": page_warnings}
        )
    totals: dict[str, int] = {}
    for entry in page_reports:
        for name, count in entry["entities"].items():
            totals[name] = totals.get(name, 0) + count
    report: dict[str, Any] = {
        "converter_version": CONVERTER_VERSION,
        "input": kind,
        "page_count": page_count,
        "pages_converted": len(page_reports),
        "page_mode": options.page_mode,
        "layer_mode": options.layer_mode,
        "raster_mode": options.raster_mode,
        "unit": options.unit,
        "scale": options.scale,
        "scale_status": options.scale_status,
        "units_per_point": output_factor(options),
        "vector_pages": [p["page"] for p in page_reports if p["source"] == "vector"],
        "raster_pages": [p["page"] for p in page_reports if p["source"] == "raster"],
        "entities": dict(sorted(totals.items())),
        "text_count": sum(p.get("text_count", 0) for p in page_reports),
        "dropped_duplicates": sum(p.get("dropped_duplicates", 0) for p in page_reports),
        "artifacts": [a.name for a in artifacts],
        "seconds": round(time.perf_counter() - started, 4),
        "pages": page_reports,
    }
    progress(100.0, "done", f"{len(page_reports)} page(s) converted")
    return ConversionResult(artifacts, report, warnings, CONVERTER_VERSION)
