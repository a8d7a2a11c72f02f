"""Scans and raster drawings: OpenCV line detection, circles, underlay, PNG/JPEG input."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pymupdf
import pytest
from ezdxf.math import Vec3

from cad3d_kit.conversion import ConversionError, ConversionResult
from cad3d_pdf.core import PdfLimits, PdfOptions, convert
from cad3d_pdf.core.deadline import PageDeadline
from cad3d_pdf.core.raster import merge_collinear, snap_endpoints

from .fixtures import CORPUS, drawing_png, entities, read_dxf, scanned_pdf

# The fixture drawing (600x400 px): rectangle (50,50)-(550,350), diagonal (100,300)-(300,100).
RECT_PX = [((50, 50), (550, 50)), ((550, 50), (550, 350)), ((550, 350), (50, 350)), ((50, 350), (50, 50))]
DIAGONAL_PX = ((100, 300), (300, 100))


def _has_line(lines: list[tuple[Vec3, Vec3]], a: tuple[float, float], b: tuple[float, float], tol: float) -> bool:
    def near(p: Vec3, q: tuple[float, float]) -> bool:
        return math.hypot(p.x - q[0], p.y - q[1]) <= tol

    return any((near(s, a) and near(e, b)) or (near(s, b) and near(e, a)) for s, e in lines)


def _raster_lines(result: ConversionResult) -> list[tuple[Vec3, Vec3]]:
    doc = read_dxf(result)
    return [(e.dxf.start, e.dxf.end) for e in entities(doc, "LINE") if e.dxf.layer == "RASTER_LINES"]


def test_png_drawing_lines_are_detected_at_their_positions() -> None:
    # No dpi metadata: one pixel is one point; unit pt keeps the numbers readable.
    result = convert(drawing_png(), PdfOptions(unit="pt"))
    lines = _raster_lines(result)

    def flip(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0], 400 - p[1])

    for a, b in [*RECT_PX, DIAGONAL_PX]:
        assert _has_line(lines, flip(a), flip(b), tol=4.0), (a, b)
    assert result.report["input"] == "png" and result.report["raster_pages"] == [1]
    assert result.report["pages"][0]["source"] == "raster"
    assert [a.name for a in result.artifacts] == ["drawing.dxf"]


def test_circles_are_optional_and_replace_their_chords() -> None:
    without = read_dxf(convert(drawing_png(), PdfOptions(unit="pt")))
    assert not entities(without, "CIRCLE")
    result = convert(drawing_png(), PdfOptions(unit="pt", detect_circles=True))
    doc = read_dxf(result)
    (circle,) = entities(doc, "CIRCLE")
    assert circle.dxf.center.isclose(Vec3(420, 200, 0), abs_tol=1.5)
    assert circle.dxf.radius == pytest.approx(80, abs=1.5)
    assert len(entities(doc, "LINE")) == 5  # rectangle + diagonal, no chords left on the circle
    assert result.report["pages"][0]["raster"]["circles"] == 1


def test_jpeg_with_dpi_is_scaled_to_millimetres() -> None:
    data = drawing_png(dpi=254, fmt="JPEG")  # 10 px per mm
    result = convert(data, PdfOptions())
    lines = _raster_lines(result)
    # The rectangle is 500 px = 50 mm wide; its top edge is 50 px = 5 mm below the top (40 mm high image).
    assert _has_line(lines, (5, 35), (55, 35), tol=0.6)
    assert result.report["input"] == "jpeg"
    assert result.report["pages"][0]["raster"]["dpi"] == 254


def test_scanned_pdf_page_goes_through_line_detection() -> None:
    result = convert(scanned_pdf(drawing_png()), PdfOptions(unit="pt"))
    assert result.report["raster_pages"] == [1] and result.report["vector_pages"] == []
    lines = _raster_lines(result)
    scale = 432 / 600  # the image fills the 432 x 288 pt page

    def page(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] * scale, 288 - p[1] * scale)

    for a, b in [*RECT_PX, DIAGONAL_PX]:
        assert _has_line(lines, page(a), page(b), tol=4.0), (a, b)
    assert result.report["pages"][0]["raster"]["dpi"] == 200


def test_underlay_image_is_a_file_next_to_the_dxf() -> None:
    result = convert(scanned_pdf(drawing_png()), PdfOptions(unit="pt", raster_underlay=True))
    names = [a.name for a in result.artifacts]
    assert sorted(names) == ["drawing.dxf", "page-001.png"]
    png = next(a for a in result.artifacts if a.name == "page-001.png")
    assert png.media_type == "image/png" and png.data.startswith(b"\x89PNG")
    decoded = cv2.imdecode(np.frombuffer(png.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert decoded is not None
    doc = read_dxf(result)
    (image,) = entities(doc, "IMAGE")
    assert image.image_def.dxf.filename == "page-001.png"
    assert image.dxf.layer == "RASTER_UNDERLAY"
    # The image covers the page: pixel size * pixel count = page size.
    assert image.dxf.u_pixel.x * decoded.shape[1] == pytest.approx(432, rel=1e-6)
    assert image.dxf.v_pixel.y * decoded.shape[0] == pytest.approx(288, rel=1e-6)
    assert result.report["pages"][0]["underlay"] == "page-001.png"


def test_raster_mode_never_skips_scans_with_a_warning() -> None:
    result = convert(scanned_pdf(drawing_png()), PdfOptions(raster_mode="never"))
    assert result.report["entities"] == {}
    assert {w.code for w in result.warnings} >= {"raster_page_skipped", "page_empty"}


def test_raster_mode_always_searches_images_on_vector_pages() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    page.draw_line((10, 10), (100, 10))
    page.insert_image(pymupdf.Rect(200, 100, 350, 200), stream=drawing_png())
    data = doc.tobytes()
    auto = convert(data, PdfOptions(unit="pt"))
    assert auto.report["entities"] == {"LINE": 1}
    result = convert(data, PdfOptions(unit="pt", raster_mode="always"))
    assert result.report["pages"][0]["source"] == "vector"
    lines = _raster_lines(result)
    # Image pixels map through the image's placement: x 200 + px/4, y 300 - (100 + py/4).
    assert _has_line(lines, (212.5, 187.5), (337.5, 187.5), tol=2.0)
    assert _has_line(lines, (225, 125), (275, 175), tol=2.0)


def test_merge_collinear_joins_broken_and_doubled_edges() -> None:
    deadline = PageDeadline(10, 1)
    pieces = [(0.0, 0.0, 40.0, 0.0), (42.0, 0.0, 100.0, 0.0), (0.0, 3.0, 100.0, 3.0), (0.0, 50.0, 0.0, 90.0)]
    merged = merge_collinear(pieces, offset_tol=4.0, gap_tol=5.0, deadline=deadline)
    assert len(merged) == 2
    horizontal = next(s for s in merged if abs(s[1] - s[3]) < 1e-6)
    assert min(horizontal[0], horizontal[2]) == pytest.approx(0) and max(horizontal[0], horizontal[2]) == pytest.approx(
        100
    )
    assert horizontal[1] == pytest.approx(1.0 + 0.5 * 0.0, abs=1.6)  # between the two edges


def test_snap_endpoints_closes_corners() -> None:
    snapped = snap_endpoints([(0.0, 0.0, 100.0, 1.0), (101.0, 0.0, 100.0, 80.0)], tol=3.0)
    corner_a = snapped[0][2:]
    corner_b = snapped[1][:2]
    assert corner_a == pytest.approx(corner_b)


def test_raster_image_errors() -> None:
    with pytest.raises(ConversionError) as info:
        convert(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, PdfOptions())
    assert info.value.code == "image_unreadable"
    with pytest.raises(ConversionError) as info:
        convert(drawing_png(), PdfOptions(), limits=PdfLimits(max_image_pixels=10_000))
    assert info.value.code == "image_too_large"
    with pytest.raises(ConversionError) as info:
        convert(drawing_png(), PdfOptions(pages="2"))
    assert info.value.code == "invalid_page_range"


@pytest.mark.corpus
def test_corpus_raster_floor_plan() -> None:
    path = CORPUS / "images" / "deepfloorplan__45765448.jpg"
    if not path.exists():
        pytest.skip("shared corpus not available")
    result = convert(path.read_bytes(), PdfOptions())
    page = result.report["pages"][0]
    assert page["source"] == "raster"
    # A floor plan has many wall lines, most of them horizontal or vertical.
    lines = _raster_lines(result)
    assert len(lines) >= 50

    def on_axis(s: Vec3, e: Vec3) -> bool:
        angle = math.degrees(math.atan2(abs(e.y - s.y), abs(e.x - s.x)))
        return angle < 3 or angle > 87

    # Weighted by length: text and door swings give many short slanted pieces, walls dominate length.
    axis = sum(s.distance(e) for s, e in lines if on_axis(s, e))
    assert axis / sum(s.distance(e) for s, e in lines) > 0.75
