"""Vector paths of one PDF page (PyMuPDF ``get_cdrawings``) -> drawing-space records.

Straight runs become LINE/LWPOLYLINE records, runs of cubic Béziers become one exact B-spline
(or points when flattening is requested), fills become solid-fill boundaries. Clip rectangles
(``scissor`` in the extended drawing list) are honoured: paths wholly outside are dropped,
paths crossing the clip are cut with shapely.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pymupdf
import shapely

from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_pdf.core import layers
from cad3d_pdf.core.bezier import flatten_cubic
from cad3d_pdf.core.deadline import PageDeadline
from cad3d_pdf.core.model import RGB, BezierSpline, Edge, Fill, Line, PageDrawing, Point, Polyline, Stroke
from cad3d_pdf.core.options import PdfOptions
from cad3d_pdf.core.units import MM_PER_POINT, PageTransform

# Points closer than this (PDF points) are the same point when chaining path items.
_JOIN_EPS = 1e-3
# Curve flattening step in PDF points (about 0.7 mm on paper).
_FLATTEN_STEP_PT = 2.0
# A white fill covering this share of the page is the paper, not drawing content.
_BACKGROUND_SHARE = 0.9
_DASH_NUMBERS = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# A segment in page space: ("l", p0, p1) or ("c", p0, c1, c2, p1).
Segment = tuple[Any, ...]


@dataclass
class SubPath:
    segments: list[Segment]
    closed: bool


@dataclass
class VectorStats:
    paths: int = 0
    path_items: int = 0
    clipped_away: int = 0
    clipped_partially: int = 0
    background_fills: int = 0
    ocg_layers: int = 0


def to_rgb(color: Any) -> RGB:
    """PyMuPDF colours are float tuples: gray (1), RGB (3) or CMYK (4)."""
    if not color:
        return (0, 0, 0)
    values = [min(1.0, max(0.0, float(c))) for c in color]
    if len(values) == 1:
        values = values * 3
    elif len(values) == 4:
        c, m, y, k = values
        values = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    r, g, b = (round(v * 255) for v in values[:3])
    return (r, g, b)


def parse_dashes(dashes: Any) -> tuple[float, ...]:
    """'[3 2] 0' -> (3.0, 2.0); the phase has no DXF equivalent and is dropped."""
    if not dashes or not isinstance(dashes, str) or "[" not in dashes:
        return ()
    array = dashes[dashes.index("[") + 1 : dashes.index("]")] if "]" in dashes else ""
    values = tuple(float(v) for v in _DASH_NUMBERS.findall(array))
    if not values or all(v <= 0 for v in values):
        return ()
    return values * 2 if len(values) % 2 else values


def _points_of(item: tuple[Any, ...]) -> list[Segment]:
    """Segments of one ``get_cdrawings`` item (coordinates are plain tuples there)."""
    kind = item[0]
    if kind == "l":
        return [("l", item[1], item[2])]
    if kind == "c":
        return [("c", item[1], item[2], item[3], item[4])]
    if kind == "re":
        x0, y0, x1, y1 = item[1]
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    elif kind == "qu":
        ul, ur, ll, lr = item[1]
        corners = [ul, ur, lr, ll]
    else:
        return []
    return [("l", corners[i], corners[(i + 1) % 4]) for i in range(4)] + [("close",)]


def build_subpaths(items: list[tuple[Any, ...]], close_path: bool) -> list[SubPath]:
    """Chain path items into connected sub-paths (page space)."""
    subpaths: list[SubPath] = []
    current: list[Segment] = []

    def finish(closed: bool) -> None:
        nonlocal current
        if current:
            start, end = current[0][1], current[-1][-1]
            subpaths.append(SubPath(current, closed or math.dist(start, end) <= _JOIN_EPS))
        current = []

    for item in items:
        segments = _points_of(item)
        if segments and segments[-1] == ("close",):  # rectangles and quads are their own sub-path
            finish(False)
            current = segments[:-1]
            finish(True)
            continue
        for segment in segments:
            if current and math.dist(current[-1][-1], segment[1]) > _JOIN_EPS:
                finish(False)
            current.append(segment)
    finish(close_path)
    return subpaths


def _flatten_segments(segments: list[Segment]) -> list[Point]:
    points: list[Point] = [segments[0][1]]
    for segment in segments:
        if segment[0] == "l":
            points.append(segment[2])
        else:
            points.extend(flatten_cubic(*segment[1:5], step=_FLATTEN_STEP_PT)[1:])
    return points


class VectorExtractor:
    def __init__(
        self, page: pymupdf.Page, transform: PageTransform, options: PdfOptions, deadline: PageDeadline
    ) -> None:
        self.page = page
        self.transform = transform
        self.options = options
        self.deadline = deadline
        self.stats = VectorStats()
        self._ocgs: set[str] = set()

    def extract(self, drawings: list[dict[str, Any]], out: PageDrawing) -> VectorStats:
        clip_stack: list[tuple[int, pymupdf.Rect]] = []
        page_area = abs(self.page.rect)
        for index, drawing in enumerate(drawings):
            if index % 256 == 0:
                self.deadline.check()
            level = int(drawing.get("level", 0) or 0)
            while clip_stack and clip_stack[-1][0] >= level:
                clip_stack.pop()
            kind = drawing.get("type")
            if kind == "clip":
                scissor = pymupdf.Rect(drawing["scissor"])
                if clip_stack:
                    scissor = scissor & clip_stack[-1][1]
                clip_stack.append((level, scissor))
                continue
            if kind not in ("f", "s", "fs"):
                continue  # "group" entries carry blend modes only
            self.stats.paths += 1
            self.stats.path_items += len(drawing["items"])
            clip = clip_stack[-1][1] if clip_stack else None
            self._add_path(drawing, clip, page_area, out)
        self.stats.ocg_layers = len(self._ocgs)
        return self.stats

    def _add_path(self, drawing: dict[str, Any], clip: pymupdf.Rect | None, page_area: float, out: PageDrawing) -> None:
        bbox = pymupdf.Rect(drawing["rect"])
        subpaths = build_subpaths(drawing["items"], bool(drawing.get("closePath")))
        if not subpaths:
            return
        ocg = str(drawing.get("layer") or "")
        if ocg:
            self._ocgs.add(ocg)
        partial_clip: pymupdf.Rect | None = None
        if clip is not None and not _contains(clip, bbox):
            if not _intersects(clip, bbox):
                self.stats.clipped_away += 1
                return
            self.stats.clipped_partially += 1
            partial_clip = clip
        kind = drawing["type"]
        if "f" in kind:
            color = to_rgb(drawing.get("fill"))
            if color == (255, 255, 255) and abs(bbox) >= _BACKGROUND_SHARE * page_area:
                self.stats.background_fills += 1
            else:
                layer = layers.fill_layer(self.options.layer_mode, ocg, color)
                self._add_fill(subpaths, partial_clip, layer, color, out)
        if "s" in kind:
            width_pt = float(drawing.get("width") or 0.0)
            color = to_rgb(drawing.get("color"))
            width_mm = width_pt * MM_PER_POINT
            stroke = Stroke(
                layer=layers.stroke_layer(self.options.layer_mode, ocg, color, width_mm),
                color=color,
                width_mm=width_mm,
                dashes=tuple(self.transform.length(d) for d in parse_dashes(drawing.get("dashes"))),
            )
            self._add_stroke(subpaths, partial_clip, stroke, out)

    # ----------------------------------------------------------------------------- strokes
    def _add_stroke(self, subpaths: list[SubPath], clip: pymupdf.Rect | None, stroke: Stroke, out: PageDrawing) -> None:
        tp = self.transform.point
        for subpath in subpaths:
            if clip is not None:
                self._add_clipped_stroke(subpath, clip, stroke, out)
                continue
            if self.options.flatten_curves or all(s[0] == "l" for s in subpath.segments):
                points = [tp(*p) for p in _flatten_segments(subpath.segments)]
                self._add_points(points, subpath.closed, stroke, out)
                continue
            # Mixed path: straight runs as polylines, Bézier runs as one exact spline each.
            run: list[Segment] = []
            for segment in [*subpath.segments, ("end",)]:
                if run and segment[0] != run[-1][0]:
                    if run[0][0] == "l":
                        self._add_points([tp(*p) for p in _flatten_segments(run)], False, stroke, out)
                    else:
                        control = [tp(*run[0][1])]
                        for curve in run:
                            control.extend(tp(*p) for p in curve[2:5])
                        out.splines.append(BezierSpline(tuple(control), stroke))
                    run = []
                if segment[0] != "end":
                    run.append(segment)
            first, last = subpath.segments[0][1], subpath.segments[-1][-1]
            if subpath.closed and math.dist(first, last) > _JOIN_EPS:
                out.lines.append(Line(tp(*last), tp(*first), stroke))

    def _add_points(self, points: list[Point], closed: bool, stroke: Stroke, out: PageDrawing) -> None:
        if closed and len(points) > 2 and math.dist(points[0], points[-1]) <= 1e-9:
            points = points[:-1]
        if len(points) == 2 and not closed:
            out.lines.append(Line(points[0], points[1], stroke))
        elif len(points) >= 2:
            out.polylines.append(Polyline(tuple(points), closed and len(points) > 2, stroke))

    def _add_clipped_stroke(self, subpath: SubPath, clip: pymupdf.Rect, stroke: Stroke, out: PageDrawing) -> None:
        points = _flatten_segments(subpath.segments)
        if subpath.closed:
            points.append(points[0])
        clipped = shapely.clip_by_rect(shapely.LineString(points), clip.x0, clip.y0, clip.x1, clip.y1)
        for part in getattr(clipped, "geoms", [clipped]):
            if isinstance(part, shapely.LineString) and not part.is_empty:
                coords = [self.transform.point(x, y) for x, y in part.coords]
                self._add_points(coords, False, stroke, out)

    # ----------------------------------------------------------------------------- fills
    def _add_fill(
        self, subpaths: list[SubPath], clip: pymupdf.Rect | None, layer: str, color: RGB, out: PageDrawing
    ) -> None:
        tp = self.transform.point
        boundaries: list[tuple[Edge, ...]] = []
        if clip is not None:
            for subpath in subpaths:
                ring = _flatten_segments(subpath.segments)
                if len(ring) < 3:
                    continue
                polygon = shapely.Polygon(ring).buffer(0)
                clipped = shapely.clip_by_rect(polygon, clip.x0, clip.y0, clip.x1, clip.y1)
                for poly in getattr(clipped, "geoms", [clipped]):
                    if isinstance(poly, shapely.Polygon) and not poly.is_empty:
                        for coords in [poly.exterior.coords, *(i.coords for i in poly.interiors)]:
                            pts = [tp(x, y) for x, y in coords]
                            boundaries.append(tuple((pts[i], pts[i + 1]) for i in range(len(pts) - 1)))
        else:
            for subpath in subpaths:
                edges: list[Edge] = [tuple(tp(*p) for p in seg[1:]) for seg in subpath.segments]
                first, last = subpath.segments[0][1], subpath.segments[-1][-1]
                if math.dist(first, last) > _JOIN_EPS:
                    edges.append((tp(*last), tp(*first)))
                if len(edges) >= 2 or (edges and len(edges[0]) == 4):
                    boundaries.append(tuple(edges))
        if boundaries:
            out.fills.append(Fill(tuple(boundaries), layer, color))


def _contains(outer: pymupdf.Rect, inner: pymupdf.Rect, eps: float = 0.5) -> bool:
    return (
        inner.x0 >= outer.x0 - eps
        and inner.y0 >= outer.y0 - eps
        and inner.x1 <= outer.x1 + eps
        and inner.y1 <= outer.y1 + eps
    )


def _intersects(a: pymupdf.Rect, b: pymupdf.Rect) -> bool:
    # Degenerate (zero-width) boxes of axis-parallel lines still count when they touch.
    return a.x0 <= b.x1 and b.x0 <= a.x1 and a.y0 <= b.y1 and b.y0 <= a.y1


def check_object_count(drawings: list[dict[str, Any]], limit: int, page_number: int) -> int:
    count = sum(len(d.get("items", ())) for d in drawings)
    if count > limit:
        raise ConversionError(
            "pdf_too_complex",
            f"page {page_number} has {count} path items, more than the limit of {limit}",
            ErrorKind.RESOURCE_EXHAUSTED,
        )
    return count
