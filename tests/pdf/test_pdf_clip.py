"""Clipping with real clip geometry: non-rectangular, nested, even-odd and non-zero clip paths.

The PDFs are raw content streams (``W n`` / ``W* n`` clip operators). With ``unit="pt"`` drawing
coordinates equal PDF coordinates (points, y up), so expected values are written in PDF space.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import Any

import pymupdf
import pytest
import shapely
from ezdxf.document import Drawing

from cad3d_kit.conversion import ConversionResult
from cad3d_pdf.core import PdfOptions, convert
from cad3d_pdf.core.clip import CROSSING, INSIDE, OUTSIDE, ClipRegion, region_of
from cad3d_pdf.core.fillrule import filled_area
from cad3d_pdf.core.text_clip import text_clip

from .fixtures import entities, pdf_with_content, pdf_with_text_content, read_dxf

KAPPA = 0.5522847498  # Bézier control distance for a quarter circle of radius 1
# Curved clips are flattened: a cut point lies this close (points) to the true curve.
CURVE_TOL = 0.05


def circle(cx: float, cy: float, r: float) -> bytes:
    """A closed circle path of four Béziers (PDF operators, counter-clockwise)."""
    k = KAPPA * r
    quarters = [
        (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
        (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
        (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
        (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
    ]
    curves = " ".join(" ".join(f"{v:.6f}" for v in q) + " c" for q in quarters)
    return f"{cx + r:.6f} {cy:.6f} m {curves} h".encode()


def flat(points: Iterable[Sequence[float]]) -> list[float]:
    """Nested coordinates as one flat list (pytest.approx compares flat sequences)."""
    return [float(v) for p in points for v in p]


def convert_pt(data: bytes) -> tuple[ConversionResult, Drawing]:
    result = convert(data, PdfOptions(unit="pt"))
    return result, read_dxf(result)


def spans_of(doc: Drawing) -> list[tuple[float, float, float]]:
    """(x start, x end, y) of every LINE, sorted, rounded to 1e-3 pt."""
    spans = []
    for e in entities(doc, "LINE"):
        (x0, y0), (x1, _) = sorted([(e.dxf.start.x, e.dxf.start.y), (e.dxf.end.x, e.dxf.end.y)])
        spans.append((round(x0, 3), round(x1, 3), round(y0, 3)))
    return sorted(spans)


def page_report(result: ConversionResult) -> dict[str, int]:
    page = result.report["pages"][0]
    return {k: page[k] for k in ("clipped_away", "clipped_partially", "curves_cut", "texts_clipped")}


def hatch_area(hatch: Any) -> float:
    """Area a solid HATCH of polyline boundaries fills (DXF odd-parity: nested loops are holes)."""
    polygons = [shapely.Polygon([(v[0], v[1]) for v in path.vertices]) for path in hatch.paths]
    return float(reduce(shapely.symmetric_difference, polygons).area)


def test_triangle_clip_cuts_at_its_edges_and_drops_what_is_only_inside_its_box() -> None:
    content = (
        b"q 100 100 m 200 100 l 150 200 l h W n 0 0 0 RG 1 w\n"  # triangle clip, apex up
        b"50 150 m 250 150 l S\n"  # crosses both slanted edges: x = 125 .. 175 at y = 150
        b"105 190 m 115 190 l S\n"  # inside the triangle's bounding box, outside the triangle
        b"140 120 m 160 120 l S\n"  # inside: kept as is
        b"300 20 m 350 20 l S\n"  # outside the bounding box
        b"Q 300 250 m 350 250 l S\n"  # after Q: no clip
    )
    result, doc = convert_pt(pdf_with_content(content))
    assert spans_of(doc) == [(125, 175, 150), (140, 160, 120), (300, 350, 250)]
    assert page_report(result) == {"clipped_away": 2, "clipped_partially": 1, "curves_cut": 0, "texts_clipped": 0}
    (warning,) = [w for w in result.warnings if w.code == "clipped_content"]
    assert warning.message.startswith("2 path(s) outside the clip area dropped, 1 cut")


def test_diamond_clip_reported_as_a_quad() -> None:
    # Four explicit line segments: PyMuPDF reports this clip path as one "qu" item.
    content = (
        b"q 200 100 m 250 150 l 200 200 l 150 150 l 200 100 l W n 0 0 0 RG\n"
        b"0 150 m 400 150 l S 0 180 m 400 180 l S 0 195 m 170 195 l S Q\n"
    )
    result, doc = convert_pt(pdf_with_content(content))
    assert spans_of(doc) == [(150, 250, 150), (180, 220, 180)]
    assert page_report(result)["clipped_away"] == 1  # the third line stops short of the diamond


def test_curves_inside_a_circle_clip_stay_exact_outside_go_and_crossing_ones_are_cut() -> None:
    inside = [(190, 150), (195, 160), (205, 160), (210, 150)]
    content = (
        b"q " + circle(200, 150, 50) + b" W n 0 0 0 RG\n"
        b"190 150 m 195 160 205 160 210 150 c S\n"  # inside
        b"300 150 m 310 160 320 160 330 150 c S\n"  # outside
        b"215 170 m 240 200 260 200 280 170 c S\n"  # starts inside, leaves the circle
        b"0 170 m 400 170 l S\n"  # a straight line across: cut at x = 200 +- sqrt(50^2 - 20^2)
        b"Q\n"
    )
    result, doc = convert_pt(pdf_with_content(content))
    (spline,) = entities(doc, "SPLINE")
    assert flat((c[0], c[1]) for c in spline.control_points) == pytest.approx(flat(inside))
    (cut_curve,) = entities(doc, "LWPOLYLINE")
    points = cut_curve.get_points("xy")
    # It starts where the Bézier starts and ends on the circle.
    assert points[0][:2] == pytest.approx((215, 170))
    assert math.dist(points[-1][:2], (200, 150)) == pytest.approx(50, abs=CURVE_TOL)
    assert all(math.dist(p[:2], (200, 150)) <= 50 + CURVE_TOL for p in points)
    ((x0, x1, y),) = spans_of(doc)
    half = math.sqrt(50**2 - 20**2)
    assert (x0, x1, y) == pytest.approx((200 - half, 200 + half, 170), abs=CURVE_TOL)
    assert page_report(result) == {"clipped_away": 1, "clipped_partially": 2, "curves_cut": 1, "texts_clipped": 0}


def test_curves_in_a_path_crossing_a_clip_are_decided_one_by_one() -> None:
    # One path of three Béziers under a rectangular clip x <= 200: the first stays a SPLINE,
    # the middle one crosses x = 200 and is cut, the last lies beyond and is dropped.
    content = (
        b"q 0 0 200 300 re W n 0 0 0 RG\n"
        b"50 100 m 80 140 120 140 150 100 c 170 75 230 75 250 100 c 270 125 300 125 320 100 c S\nQ\n"
    )
    result, doc = convert_pt(pdf_with_content(content))
    (spline,) = entities(doc, "SPLINE")
    expected = [(50, 100), (80, 140), (120, 140), (150, 100)]
    assert flat((c[0], c[1]) for c in spline.control_points) == pytest.approx(flat(expected))
    (cut,) = entities(doc, "LWPOLYLINE")
    points = cut.get_points("xy")
    assert points[0][:2] == pytest.approx((150, 100))
    assert points[-1][0] == pytest.approx(200)
    assert page_report(result)["curves_cut"] == 1
    assert page_report(result)["clipped_partially"] == 1


def test_nested_clips_intersect_and_end_with_their_graphics_state() -> None:
    content = (
        b"q 100 100 200 100 re W n 0 0 0 RG\n"  # outer: x 100..300, y 100..200
        b"q " + circle(150, 150, 80) + b" W n\n"  # inner: circle, reaches x 70..230
        b"0 150 m 400 150 l S\n"  # cut by the rectangle on the left, the circle on the right
        b"0 190 m 400 190 l S\n"
        b"Q 0 120 m 400 120 l S\n"  # inner clip gone: rectangle only
        b"Q 0 20 m 400 20 l S\n"  # no clip
    )
    result, doc = convert_pt(pdf_with_content(content))
    right_at_190 = 150 + math.sqrt(80**2 - 40**2)
    expected = [(0, 400, 20), (100, right_at_190, 190), (100, 230, 150), (100, 300, 120)]
    assert flat(spans_of(doc)) == pytest.approx(flat(expected), abs=CURVE_TOL)
    assert page_report(result)["clipped_partially"] == 3


@pytest.mark.parametrize(
    ("clip", "expected"),
    [
        # even-odd: the inner rectangle is a hole
        (b"100 100 200 200 re 150 150 100 100 re W* n", [(100, 150, 200), (250, 300, 200)]),
        # non-zero, both rectangles wound the same way: no hole
        (b"100 100 200 200 re 150 150 100 100 re W n", [(100, 300, 200)]),
        # non-zero, inner rectangle wound the other way: winding 0 there, a hole again
        (b"100 100 200 200 re 150 150 m 150 250 l 250 250 l 250 150 l h W n", [(100, 150, 200), (250, 300, 200)]),
    ],
)
def test_clip_fill_rule(clip: bytes, expected: list[tuple[float, float, float]]) -> None:
    content = b"q " + clip + b" 0 0 0 RG 0 200 m 400 200 l S Q\n"
    _, doc = convert_pt(pdf_with_content(content))
    assert spans_of(doc) == expected


def test_fills_crossing_a_clip_become_the_intersection() -> None:
    content = (
        b"q " + circle(200, 150, 50) + b" W n 0 0 1 rg 0 0 400 300 re f Q\n"  # blue page-size fill, round clip
        b"q 0 0 200 300 re W n 1 0 0 rg 100 50 200 200 re 150 100 100 100 re f* Q\n"  # red frame, cut in half
    )
    result, doc = convert_pt(pdf_with_content(content))
    hatches = {h.rgb: h for h in entities(doc, "HATCH")}
    assert set(hatches) == {(0, 0, 255), (255, 0, 0)}
    # The disc: flattened, so a hair under pi r^2.
    assert hatch_area(hatches[(0, 0, 255)]) == pytest.approx(math.pi * 50**2, rel=2e-3)
    for path in hatches[(0, 0, 255)].paths:
        assert all(math.dist((v[0], v[1]), (200, 150)) <= 50 + CURVE_TOL for v in path.vertices)
    # The frame's left half: 100..200 x 50..250 less its hole's left half 150..200 x 100..200.
    assert hatch_area(hatches[(255, 0, 0)]) == pytest.approx(100 * 200 - 50 * 100)
    assert page_report(result)["clipped_partially"] == 2


def test_fill_inside_a_curved_clip_keeps_its_curved_edges() -> None:
    content = b"q " + circle(200, 150, 50) + b" W n 0 0.5 0 rg " + circle(200, 150, 20) + b" f Q\n"
    result, doc = convert_pt(pdf_with_content(content))
    (hatch,) = entities(doc, "HATCH")
    assert {e.EDGE_TYPE for e in hatch.paths[0].edges} == {"SplineEdge"}
    assert page_report(result)["clipped_partially"] == 0


def _text(x: float, y: float, text: str) -> bytes:
    return f"BT /helv 10 Tf 1 0 0 1 {x} {y} Tm ({text}) Tj ET\n".encode()


def _text_content() -> bytes:
    edge = pymupdf.get_text_length("EDGE", fontname="helv", fontsize=10)
    return (
        b"q 100 100 m 200 100 l 150 200 l h W n\n"  # triangle clip
        + _text(140, 120, "IN")
        + _text(102, 185, "OUT")  # in the triangle's bounding box, not in the triangle
        + _text(105, 105, "CROSSING LABEL WIDE")  # runs past the clip; its centre is inside
        + b"Q\n"
        + _text(300, 50, "AFTER")
        + _text(400 - 0.7 * edge, 250, "EDGE")  # runs off the page, centre on it: kept whole
        + _text(400 - 0.3 * edge, 200, "EDGE")  # centre off the page
        + _text(450, 50, "GONE")  # wholly off the page
    )


@pytest.mark.parametrize("rotation", [0, 90])
def test_text_is_kept_or_dropped_whole_by_its_centre(rotation: int) -> None:
    result, doc = convert_pt(pdf_with_text_content(_text_content(), rotation=rotation))
    texts = {t.dxf.text: t for t in entities(doc, "TEXT")}
    assert sorted(texts) == ["AFTER", "CROSSING LABEL WIDE", "EDGE", "IN"]
    if rotation == 0:
        assert texts["EDGE"].dxf.insert.y == pytest.approx(250)
    assert page_report(result)["texts_clipped"] == 3  # OUT, the second EDGE, GONE
    assert result.report["text_count"] == 4


def test_text_under_an_empty_clip_path_is_dropped() -> None:
    content = (
        b"q 0 0 200 300 re W n\n" + _text(20, 50, "LEFT") + _text(300, 50, "RIGHT") + b"Q\n"
        b"q 10 10 m W n\n" + _text(20, 250, "HIDDEN") + b"Q\n"  # a clip path without segments hides all
    )
    result, doc = convert_pt(pdf_with_text_content(content))
    assert [t.dxf.text for t in entities(doc, "TEXT")] == ["LEFT"]
    assert page_report(result)["texts_clipped"] == 2


def test_text_is_not_clipped_when_its_clips_cannot_be_matched() -> None:
    page = pymupdf.open("pdf", pdf_with_text_content(_text_content()))[0]
    triangle = region_of([("l", (100, 200), (200, 200)), ("l", (200, 200), (150, 100))], even_odd=False)
    clip, matched = text_clip(page, [triangle])
    assert matched and clip is not None
    assert clip.keeps((140, 180), (146, 176)) and not clip.keeps((102, 115), (112, 112))
    assert text_clip(page, [triangle, triangle]) == (None, False)  # two regions, one clip path


def test_region_classifies_boxes_and_lines_against_a_circle() -> None:
    region = region_of([("c", *q) for q in _circle_items(200, 150, 50)], even_odd=False)
    assert region.rect is None
    boxes = [
        (190, 140, 210, 160),  # in the inscribed square: no shapely call needed
        (200, 105, 200, 195),  # a vertical line (zero-width box) inside
        (160, 110, 240, 190),  # inside the bounding box, corners outside the circle: crossing
        (240, 104, 250, 110),  # bounding-box corner, outside the circle
        (300, 20, 350, 40),  # far away
        (250.3, 150, 250.3, 150),  # a point 0.3 pt outside: within the tolerance, so inside
    ]
    assert region.classify(boxes) == [INSIDE, INSIDE, CROSSING, OUTSIDE, OUTSIDE, INSIDE]
    assert region.contains_point(200, 150) and not region.contains_point(245, 105)


def test_rectangular_clips_stay_rectangles() -> None:
    outer = ClipRegion.from_rect(0, 0, 100, 100)
    inner = outer.intersect(ClipRegion.from_rect(50, -10, 150, 60))
    assert inner.rect == (50, 0, 100, 60)
    assert outer.intersect(ClipRegion.from_rect(200, 200, 300, 300)).empty


def _circle_items(cx: float, cy: float, r: float) -> list[tuple[tuple[float, float], ...]]:
    k = KAPPA * r
    return [
        ((cx + r, cy), (cx + r, cy + k), (cx + k, cy + r), (cx, cy + r)),
        ((cx, cy + r), (cx - k, cy + r), (cx - r, cy + k), (cx - r, cy)),
        ((cx - r, cy), (cx - r, cy - k), (cx - k, cy - r), (cx, cy - r)),
        ((cx, cy - r), (cx + k, cy - r), (cx + r, cy - k), (cx + r, cy)),
    ]


def test_filled_area_applies_the_fill_rule() -> None:
    a = [(0, 0), (10, 0), (10, 10), (0, 10)]
    b = [(5, 5), (15, 5), (15, 15), (5, 15)]
    assert filled_area([a, b], even_odd=False).area == pytest.approx(175)  # union
    assert filled_area([a, b], even_odd=True).area == pytest.approx(150)  # overlap left out
    twice = a + a  # once round the square twice: winding number 2
    assert filled_area([twice], even_odd=False).area == pytest.approx(100)
    assert filled_area([twice], even_odd=True).is_empty
    bow_tie = [(0, 0), (10, 10), (10, 0), (0, 10)]  # two triangles wound opposite ways
    assert filled_area([bow_tie], even_odd=False).area == pytest.approx(50)
    assert filled_area([bow_tie], even_odd=True).area == pytest.approx(50)
    assert filled_area([[(0, 0), (1, 1)]], even_odd=False).is_empty
