"""Vector pages: geometry, curves, fills, text, colours, widths, dashes, layers, clipping, clean-up."""

from __future__ import annotations

import pymupdf
import pytest
from ezdxf.math import BSpline, Vec3

from cad3d_pdf.core import PdfOptions, convert
from cad3d_pdf.core.units import MM_PER_POINT

from .fixtures import entities, pdf_bytes, pdf_with_content, read_dxf

H = 300.0  # page height used by the fixtures


def mm(x: float, y: float) -> tuple[float, float]:
    """Page point (y down) -> expected drawing point in mm (y up)."""
    return (x * MM_PER_POINT, (H - y) * MM_PER_POINT)


def close(a: Vec3 | tuple[float, ...], b: tuple[float, float], tol: float = 1e-3) -> bool:
    return abs(a[0] - b[0]) <= tol and abs(a[1] - b[1]) <= tol


def test_lines_polylines_rects_and_quads() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.draw_line((10, 20), (110, 20))
        page.draw_polyline([(10, 50), (60, 80), (110, 50)])
        page.draw_rect(pymupdf.Rect(150, 150, 250, 200))
        page.draw_quad(pymupdf.Quad((300, 100), (350, 110), (290, 150), (340, 160)))

    result = convert(pdf_bytes(draw), PdfOptions())
    doc = read_dxf(result)
    (line,) = entities(doc, "LINE")
    assert close(line.dxf.start, mm(10, 20)) and close(line.dxf.end, mm(110, 20))
    polylines = entities(doc, "LWPOLYLINE")
    assert len(polylines) == 3
    open_poly = next(p for p in polylines if not p.closed)
    assert [close(p, q) for p, q in zip(open_poly.get_points("xy"), [mm(10, 50), mm(60, 80), mm(110, 50)], strict=True)]
    assert all(
        close(p, q) for p, q in zip(open_poly.get_points("xy"), [mm(10, 50), mm(60, 80), mm(110, 50)], strict=True)
    )
    rect = next(p for p in polylines if p.closed and len(p) == 4 and close(p.get_points("xy")[0], mm(150, 150)))
    xs = sorted({round(x, 3) for x, _ in rect.get_points("xy")})
    assert xs == [round(150 * MM_PER_POINT, 3), round(250 * MM_PER_POINT, 3)]
    assert result.report["pages"][0]["source"] == "vector"
    assert result.report["entities"] == {"LINE": 1, "LWPOLYLINE": 3}
    assert doc.header["$INSUNITS"] == 4


def test_bezier_becomes_exact_spline() -> None:
    ctrl = [(50, 250), (100, 150), (200, 150), (250, 250)]

    def draw(page: pymupdf.Page) -> None:
        page.draw_bezier(ctrl[0], ctrl[1], ctrl[2], ctrl[3])

    result = convert(pdf_bytes(draw), PdfOptions())
    (spline,) = entities(read_dxf(result), "SPLINE")
    assert spline.dxf.degree == 3
    assert all(close(c, mm(*q)) for c, q in zip(spline.control_points, ctrl, strict=True))
    # The B-spline evaluates exactly like the PDF Bézier at t = 0.5.
    mid_page = (0.125 * 50 + 0.375 * 100 + 0.375 * 200 + 0.125 * 250, 0.125 * 250 + 0.75 * 150 + 0.125 * 250)
    mid = BSpline(spline.control_points, order=4, knots=spline.knots).point(0.5)
    assert close(mid, mm(*mid_page))


def test_consecutive_beziers_form_one_spline_and_flatten_on_request() -> None:
    def draw(page: pymupdf.Page) -> None:
        shape = page.new_shape()
        shape.draw_bezier((20, 100), (40, 50), (80, 50), (100, 100))
        shape.draw_bezier((100, 100), (120, 150), (160, 150), (180, 100))
        shape.finish(color=(0, 0, 0), closePath=False)
        shape.commit()

    data = pdf_bytes(draw)
    (spline,) = entities(read_dxf(convert(data, PdfOptions())), "SPLINE")
    assert len(spline.control_points) == 7
    assert list(spline.knots) == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    flat = read_dxf(convert(data, PdfOptions(flatten_curves=True)))
    assert not entities(flat, "SPLINE")
    (poly,) = entities(flat, "LWPOLYLINE")
    points = poly.get_points("xy")
    assert len(points) > 8 and close(points[0], mm(20, 100)) and close(points[-1], mm(180, 100))


def test_fills_become_solid_hatches_with_true_colour() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.draw_rect(pymupdf.Rect(20, 20, 120, 80), color=None, fill=(1, 0, 0))
        page.draw_circle((250, 150), 40, color=(0, 0, 1), fill=(0, 0.5, 0))

    doc = read_dxf(convert(pdf_bytes(draw), PdfOptions()))
    hatches = entities(doc, "HATCH")
    assert len(hatches) == 2
    assert all(h.dxf.solid_fill == 1 for h in hatches)
    assert {h.rgb for h in hatches} == {(255, 0, 0), (0, 128, 0)}
    circle_fill = next(h for h in hatches if h.rgb == (0, 128, 0))
    edges = circle_fill.paths[0].edges
    assert {e.EDGE_TYPE for e in edges} == {"SplineEdge"}  # curves stay curves in the boundary
    (outline,) = entities(doc, "SPLINE")  # the stroked circle outline, one closed run of Béziers
    assert outline.rgb == (0, 0, 255)


def test_colours_widths_and_dashes() -> None:
    content = (
        b"1 0.5 0 RG 1.42 w 10 290 m 200 290 l S\n"  # orange, 0.50 mm
        b"0 0 0 RG 0 w 10 260 m 200 260 l S\n"  # hairline
        b"0.5 w [6 3] 0 d 10 230 m 200 230 l S\n"  # dashed
    )
    doc = read_dxf(convert(pdf_with_content(content), PdfOptions()))
    lines = sorted(entities(doc, "LINE"), key=lambda e: -e.dxf.start.y)
    assert lines[0].rgb == (255, 128, 0) and lines[0].dxf.lineweight == 50
    assert lines[1].dxf.lineweight == 0
    dashed = lines[2]
    linetype = doc.linetypes.get(dashed.dxf.linetype)
    assert dashed.dxf.linetype.startswith("PDF_DASH_")
    pattern = linetype.pattern_tags.tags
    values = [t.value for t in pattern if t.code == 49]
    assert values == pytest.approx([6 * MM_PER_POINT, -3 * MM_PER_POINT], rel=1e-3)


def test_text_position_height_rotation_and_font() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.insert_text((50, 100), "PART-17", fontsize=20, fontname="helv")
        page.insert_text((300, 250), "SIDE VIEW", fontsize=10, fontname="cour", rotate=90)

    result = convert(pdf_bytes(draw), PdfOptions())
    doc = read_dxf(result)
    texts = {t.dxf.text: t for t in entities(doc, "TEXT")}
    assert set(texts) == {"PART-17", "SIDE VIEW"}
    part = texts["PART-17"]
    assert close(part.dxf.insert, mm(50, 100), tol=0.05)
    assert part.dxf.height == pytest.approx(20 * 0.7 * MM_PER_POINT, rel=1e-3)
    assert part.dxf.rotation == pytest.approx(0.0)
    assert doc.styles.get(part.dxf.style).dxf.font.lower().startswith("helvetica")
    assert texts["SIDE VIEW"].dxf.rotation == pytest.approx(90.0)
    assert result.report["text_count"] == 2
    assert part.dxf.layer == "TEXT"


def test_paragraph_becomes_mtext() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.insert_text((40, 60), "NOTES:\n1. BREAK SHARP EDGES\n2. ALL HOLES THRU", fontsize=10)

    doc = read_dxf(convert(pdf_bytes(draw), PdfOptions()))
    (mtext,) = entities(doc, "MTEXT")
    assert mtext.plain_text().split("\n") == ["NOTES:", "1. BREAK SHARP EDGES", "2. ALL HOLES THRU"]
    assert mtext.dxf.char_height == pytest.approx(7 * MM_PER_POINT, rel=1e-3)


def _ocg_pdf() -> bytes:
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    walls = doc.add_ocg("Walls")
    doors = doc.add_ocg("Doors/Windows")
    page.draw_line((10, 10), (100, 10), oc=walls)
    page.draw_line((10, 50), (100, 50), oc=doors, color=(1, 0, 0))
    page.draw_line((10, 90), (100, 90), width=2)
    return doc.tobytes()


def test_ocgs_become_layers_with_style_fallback() -> None:
    result = convert(_ocg_pdf(), PdfOptions())
    doc = read_dxf(result)
    layers = {e.dxf.layer for e in entities(doc, "LINE")}
    assert layers == {"Walls", "Doors_Windows", "STROKE_000000_0.71MM"}
    assert result.report["pages"][0]["ocg_layers"] == 2


def test_hidden_optional_content_is_left_out_with_a_warning() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    shown, hidden = doc.add_ocg("Shown", on=True), doc.add_ocg("Draft notes", on=False)
    page.draw_line((10, 10), (100, 10), oc=shown)
    page.draw_line((10, 50), (100, 50), oc=hidden)
    page.insert_text((10, 80), "DRAFT", oc=hidden)
    result = convert(doc.tobytes(), PdfOptions())
    assert result.report["entities"] == {"LINE": 1}
    (warning,) = [w for w in result.warnings if w.code == "hidden_layers_skipped"]
    assert "Draft notes" in warning.message


def test_style_and_single_layer_modes() -> None:
    style = read_dxf(convert(_ocg_pdf(), PdfOptions(layer_mode="style")))
    assert {e.dxf.layer for e in entities(style, "LINE")} == {
        "STROKE_000000_0.35MM",
        "STROKE_FF0000_0.35MM",
        "STROKE_000000_0.71MM",
    }
    assert style.layers.get("STROKE_FF0000_0.35MM").rgb == (255, 0, 0)
    single = read_dxf(convert(_ocg_pdf(), PdfOptions(layer_mode="single")))
    assert {e.dxf.layer for e in entities(single, "LINE")} == {"0"}


def test_clipping_is_honoured() -> None:
    content = (
        b"q 100 100 100 100 re W n\n"  # clip to x,y in [100, 200] (PDF space, y up)
        b"0 0 0 RG 1 w\n"
        b"50 150 m 250 150 l S\n"  # crosses the clip: cut to 100..200
        b"10 10 m 60 10 l S\n"  # wholly outside: dropped
        b"120 120 m 180 180 l S\n"  # wholly inside: kept as is
        b"Q\n"
        b"10 290 m 60 290 l S\n"  # after the clip is restored: kept
    )
    result = convert(pdf_with_content(content), PdfOptions(unit="pt"))
    doc = read_dxf(result)
    spans = sorted((round(e.dxf.start.x, 2), round(e.dxf.end.x, 2)) for e in entities(doc, "LINE"))
    assert spans == [(10, 60), (100, 200), (120, 180)]
    page = result.report["pages"][0]
    assert page["clipped_away"] == 1 and page["clipped_partially"] == 1
    assert any(w.code == "clipped_content" for w in result.warnings)


def test_duplicate_and_overlapping_segments_are_removed() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.draw_line((10, 10), (110, 10))
        page.draw_line((110, 10), (10, 10))  # same segment reversed
        page.draw_line((60, 10), (160, 10))  # overlaps: merged into 10..160
        page.draw_line((10, 50), (110, 50), color=(1, 0, 0))  # different stroke: kept apart
        page.draw_line((10, 50), (110, 50))
        page.draw_polyline([(10, 200), (50, 250), (90, 200)])
        page.draw_polyline([(90, 200), (50, 250), (10, 200)])  # same polyline, reversed

    result = convert(pdf_bytes(draw), PdfOptions(unit="pt"))
    doc = read_dxf(result)
    lines = entities(doc, "LINE")
    spans = sorted(
        (round(min(e.dxf.start.x, e.dxf.end.x), 3), round(max(e.dxf.start.x, e.dxf.end.x), 3), round(e.dxf.start.y, 3))
        for e in lines
    )
    assert spans == [(10, 110, 250), (10, 110, 250), (10, 160, 290)]
    assert len(entities(doc, "LWPOLYLINE")) == 1
    page = result.report["pages"][0]
    assert page["dropped_duplicates"] == 2 and page["merged_overlaps"] == 1
    assert result.report["dropped_duplicates"] == 2


def test_dashed_pieces_merge_into_one_line_on_request() -> None:
    def draw(page: pymupdf.Page) -> None:
        for start in range(20, 300, 10):  # 6 pt dashes, 4 pt gaps, as plot drivers emit them
            page.draw_line((start, 100), (start + 6, 100))
        page.draw_line((20, 200), (300, 200))

    data = pdf_bytes(draw)
    plain = read_dxf(convert(data, PdfOptions(unit="pt")))
    assert len(entities(plain, "LINE")) == 29
    result = convert(data, PdfOptions(unit="pt", merge_dashes=True))
    merged = read_dxf(result)
    lines = entities(merged, "LINE")
    assert len(lines) == 2
    dashed = next(e for e in lines if e.dxf.start.y == pytest.approx(200))
    assert {round(dashed.dxf.start.x), round(dashed.dxf.end.x)} == {20, 296}
    pattern = [t.value for t in merged.linetypes.get(dashed.dxf.linetype).pattern_tags.tags if t.code == 49]
    assert pattern == pytest.approx([6, -4])
    assert result.report["pages"][0]["merged_dashes"] == 27


def test_white_page_background_is_not_a_hatch() -> None:
    def draw(page: pymupdf.Page) -> None:
        page.draw_rect(page.rect, color=None, fill=(1, 1, 1))
        page.draw_line((10, 10), (50, 50))

    result = convert(pdf_bytes(draw), PdfOptions())
    assert result.report["entities"] == {"LINE": 1}
    assert result.report["pages"][0]["background_fills_dropped"] == 1


def test_rotated_page_keeps_its_displayed_orientation() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=200, height=100)
    page.draw_line((10, 10), (50, 10))
    page.insert_text((10, 50), "Hello", fontsize=12)
    page.set_rotation(90)
    result = convert(doc.tobytes(), PdfOptions(unit="pt"))
    out = read_dxf(result)
    (line,) = entities(out, "LINE")
    assert {tuple(round(v, 3) for v in (p.x, p.y)) for p in (line.dxf.start, line.dxf.end)} == {(90, 190), (90, 150)}
    (text,) = entities(out, "TEXT")
    assert text.dxf.rotation == pytest.approx(270)
    assert result.report["pages"][0]["width"] == pytest.approx(100)
