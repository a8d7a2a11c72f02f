"""One page (or one raster image) -> a cleaned-up ``PageDrawing`` plus its report entry."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
import pymupdf
from PIL import Image

from cad3d_kit.conversion import ConversionError, ConversionWarning, ErrorKind, SourceLocation
from cad3d_pdf.core.cleanup import clean_page
from cad3d_pdf.core.deadline import PageDeadline
from cad3d_pdf.core.document import check_page_images, check_page_streams
from cad3d_pdf.core.model import PageDrawing, Point
from cad3d_pdf.core.options import PdfLimits, PdfOptions
from cad3d_pdf.core.raster import RasterResult, detect_lines
from cad3d_pdf.core.text import extract_text
from cad3d_pdf.core.text_clip import text_clip
from cad3d_pdf.core.units import PageTransform, page_transform
from cad3d_pdf.core.vector import VectorExtractor, check_object_count

PageSource = Literal["vector", "raster", "empty"]


@dataclass
class PageResult:
    number: int
    drawing: PageDrawing
    source: PageSource
    report: dict[str, Any]
    warnings: list[ConversionWarning] = field(default_factory=list)
    underlay_png: bytes | None = None
    underlay_size: tuple[int, int] = (0, 0)


def _warn(result: PageResult, code: str, message: str) -> None:
    result.warnings.append(ConversionWarning(code, message, SourceLocation(page=result.number)))


def _raster_dpi(width_pt: float, height_pt: float, limits: PdfLimits) -> float:
    """The configured dpi, lowered so the page render stays under ``max_image_pixels``."""
    fitting = 72.0 * math.sqrt(limits.max_image_pixels / max(width_pt * height_pt, 1e-9))
    return max(1.0, min(float(limits.raster_dpi), fitting))


def _add_raster(drawing: PageDrawing, found: RasterResult, to_page: pymupdf.Matrix, transform: PageTransform) -> None:
    """Map pixel results through ``to_page`` (pixel -> PDF points) and ``transform``."""

    def point(x: float, y: float) -> Point:
        p = pymupdf.Point(x, y) * to_page
        return transform.point(p.x, p.y)

    for x1, y1, x2, y2 in found.segments:
        drawing.raster_lines.append((point(x1, y1), point(x2, y2)))
    scale = math.sqrt(abs(to_page.a * to_page.d - to_page.b * to_page.c))
    for cx, cy, r in found.circles:
        drawing.raster_circles.append((point(cx, cy), transform.length(r * scale)))


def _pixmap_gray(pix: pymupdf.Pixmap) -> np.ndarray:
    if pix.alpha or pix.colorspace is None or pix.colorspace.n != 1:
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pix) if pix.colorspace is not None else pix
        if pix.alpha:
            pix = pymupdf.Pixmap(pix, 0)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)[:, :, 0].copy()


def convert_pdf_page(doc: pymupdf.Document, page: pymupdf.Page, options: PdfOptions, limits: PdfLimits) -> PageResult:
    number = page.number + 1
    deadline = PageDeadline(limits.page_timeout_seconds, number)
    content_bytes = check_page_streams(doc, page, limits.max_decompressed_bytes)
    deadline.check()
    rect = page.rect
    rotation = page.rotation_matrix
    transform = page_transform(
        options, rect.height, (rotation.a, rotation.b, rotation.c, rotation.d, rotation.e, rotation.f)
    )
    drawing = PageDrawing(width=transform.length(rect.width), height=transform.length(rect.height))
    result = PageResult(number, drawing, "vector", {})
    # get_cdrawings: the same data as get_drawings with plain tuples instead of Point/Rect objects.
    drawings = page.get_cdrawings(extended=True)
    path_items = check_object_count(drawings, limits.max_objects_per_page, number)
    deadline.check()
    vectors = VectorExtractor(page, transform, options, deadline)
    stats = vectors.extract(drawings, drawing)
    clip, clip_matched = text_clip(page, vectors.clip_regions)
    if not clip_matched:
        _warn(
            result, "text_clip_unresolved", f"page {number}: text could not be matched to its clip paths; not clipped"
        )
    text_count, texts_clipped = extract_text(page, transform, options, drawing, clip)
    deadline.check()
    has_vectors = bool(drawing.lines or drawing.polylines or drawing.splines or drawing.fills)
    images = page.get_image_info(xrefs=True)
    raster: dict[str, Any] = {}
    if not has_vectors and images and options.raster_mode != "never":
        result.source = "raster"
        raster = _raster_page(page, page_transform(options, rect.height), options, limits, deadline, result)
    elif images and options.raster_mode == "always":
        raster = _raster_images(doc, page, images, transform, options, limits, deadline, result)
    elif not has_vectors and images:
        _warn(result, "raster_page_skipped", f"page {number} is a raster image and raster_mode is 'never'")
    if not has_vectors and not text_count and not drawing.raster_lines:
        result.source = "empty" if result.source == "vector" else result.source
        _warn(result, "page_empty", f"page {number} has no vector content, text or detectable lines")
    cleanup, _dashed = clean_page(drawing, options.merge_dashes)
    if stats.clipped_away or stats.clipped_partially or texts_clipped:
        _warn(
            result,
            "clipped_content",
            f"{stats.clipped_away} path(s) outside the clip area dropped, {stats.clipped_partially} cut "
            f"({stats.curves_cut} curve(s) flattened where the clip crosses them), "
            f"{texts_clipped} text string(s) off the page or outside the clip dropped",
        )
    result.report = {
        "page": number,
        "source": result.source,
        "width": round(drawing.width, 6),
        "height": round(drawing.height, 6),
        "rotation": page.rotation,
        "paths": stats.paths,
        "path_items": path_items,
        "content_bytes": content_bytes,
        "text_count": text_count,
        "ocg_layers": stats.ocg_layers,
        "dropped_duplicates": cleanup.duplicates_removed,
        "merged_overlaps": cleanup.overlaps_merged,
        "merged_dashes": cleanup.dashes_merged,
        "clipped_away": stats.clipped_away,
        "clipped_partially": stats.clipped_partially,
        "curves_cut": stats.curves_cut,
        "texts_clipped": texts_clipped,
        "background_fills_dropped": stats.background_fills,
        "images": len(images),
        **({"raster": raster} if raster else {}),
    }
    return result


def _raster_page(
    page: pymupdf.Page,
    transform: PageTransform,
    options: PdfOptions,
    limits: PdfLimits,
    deadline: PageDeadline,
    result: PageResult,
) -> dict[str, Any]:
    check_page_images(page, limits.max_image_pixels)
    dpi = _raster_dpi(page.rect.width, page.rect.height, limits)
    pix = page.get_pixmap(dpi=round(dpi), colorspace=pymupdf.csGRAY, alpha=False)
    deadline.check()
    gray = _pixmap_gray(pix)
    found = detect_lines(gray, deadline, options.detect_circles)
    to_page = pymupdf.Matrix(page.rect.width / pix.width, page.rect.height / pix.height)
    _add_raster(result.drawing, found, to_page, transform)
    if options.raster_underlay:
        result.underlay_png = pix.tobytes("png")
        result.underlay_size = (pix.width, pix.height)
    return _raster_report(found, dpi=round(dpi), pixels=(pix.width, pix.height))


def _raster_images(
    doc: pymupdf.Document,
    page: pymupdf.Page,
    images: list[dict[str, Any]],
    transform: PageTransform,
    options: PdfOptions,
    limits: PdfLimits,
    deadline: PageDeadline,
    result: PageResult,
) -> dict[str, Any]:
    """raster_mode=always: detect lines inside each embedded image of a vector page."""
    check_page_images(page, limits.max_image_pixels)
    lines = raw = 0
    for info in images:
        xref = int(info.get("xref") or 0)
        if xref <= 0:
            _warn(result, "inline_image_skipped", "inline images are not searched for lines")
            continue
        pix = pymupdf.Pixmap(doc, xref)
        gray = _pixmap_gray(pix)
        found = detect_lines(gray, deadline, options.detect_circles)
        # The image transform maps the unit square onto the page; pixels map via 1/size first.
        to_page = pymupdf.Matrix(1.0 / pix.width, 1.0 / pix.height) * pymupdf.Matrix(info["transform"])
        _add_raster(result.drawing, found, to_page, transform)
        lines += len(found.segments)
        raw += found.raw_segments
    return {"images_searched": len(images), "lines": lines, "raw_segments": raw}


def _raster_report(found: RasterResult, dpi: int, pixels: tuple[int, int]) -> dict[str, Any]:
    return {
        "dpi": dpi,
        "pixels": list(pixels),
        "raw_segments": found.raw_segments,
        "lines": len(found.segments),
        "circles": len(found.circles),
        "stroke_width_px": round(found.stroke_width_px, 2),
    }


def convert_raster_image(data: bytes, options: PdfOptions, limits: PdfLimits) -> PageResult:
    """A PNG/JPEG drawing: one page, pixels mapped at the image's dpi (72 when it has none)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width_px, height_px = probe.size
            dpi_info = probe.info.get("dpi", (72, 72))
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ConversionError("image_unreadable", f"cannot read the raster image: {exc}") from exc
    if width_px * height_px > limits.max_image_pixels:
        raise ConversionError(
            "image_too_large",
            f"the image has {width_px}x{height_px} pixels, more than {limits.max_image_pixels}",
            ErrorKind.RESOURCE_EXHAUSTED,
        )
    gray = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ConversionError("image_unreadable", "the raster image could not be decoded")
    dpi = float(dpi_info[0]) if dpi_info and float(dpi_info[0]) > 0 else 72.0
    points_per_px = 72.0 / dpi
    height_pt = gray.shape[0] * points_per_px
    transform = page_transform(options, height_pt)
    drawing = PageDrawing(width=transform.length(gray.shape[1] * points_per_px), height=transform.length(height_pt))
    result = PageResult(1, drawing, "raster", {})
    deadline = PageDeadline(limits.page_timeout_seconds, 1)
    found = detect_lines(gray, deadline, options.detect_circles)
    _add_raster(drawing, found, pymupdf.Matrix(points_per_px, points_per_px), transform)
    if not found.segments:
        _warn(result, "page_empty", "no lines were detected in the image")
    if options.raster_underlay:
        ok, encoded = cv2.imencode(".png", gray)
        if ok:
            result.underlay_png = encoded.tobytes()
            result.underlay_size = (gray.shape[1], gray.shape[0])
    result.report = {
        "page": 1,
        "source": "raster",
        "width": round(drawing.width, 6),
        "height": round(drawing.height, 6),
        "text_count": 0,
        "dropped_duplicates": 0,
        "raster": _raster_report(found, dpi=round(dpi), pixels=(gray.shape[1], gray.shape[0])),
    }
    return result
