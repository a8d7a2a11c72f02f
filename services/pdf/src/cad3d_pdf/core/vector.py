"""Vector paths of one PDF page (PyMuPDF ``get_cdrawings``) -> drawing-space records.

Straight runs become LINE/LWPOLYLINE records, runs of cubic Béziers become one exact B-spline
(or points when flattening is requested), fills become solid-fill boundaries. Clip paths are
honoured with their own geometry (``core.clip``): what lies inside the clip is kept exactly,
what lies outside is dropped, and only what crosses the boundary is cut with shapely. A Bézier
is flattened only when the boundary crosses it; fills crossing it are intersected as areas.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pymupdf

from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_pdf.core import layers
from cad3d_pdf.core.bezier import flatten_cubic
from cad3d_pdf.core.clip import CROSSING, INSIDE, OUTSIDE, ClipRegion, ClipStack
from cad3d_pdf.core.deadline import PageDeadline
from cad3d_pdf.core.fillrule import filled_area
from cad3d_pdf.core.model import RGB, BezierSpline, Edge, Fill, Line, PageDrawing, Point, Polyline, Stroke
from cad3d_pdf.core.options import PdfOptions
from cad3d_pdf.core.paths import FLATTEN_STEP_PT, JOIN_EPS, Segment, SubPath, build_subpaths, flatten_segments
from cad3d_pdf.core.units import MM_PER_POINT, PageTransform

# A white fill covering this share of the page is the paper, not drawing content.
_BACKGROUND_SHARE = 0.9
_DASH_NUMBERS = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class VectorStats:
    paths: int = 0
    path_items: int = 0
    clipped_away: int = 0  # paths of which nothing is inside the clip
    clipped_partially: int = 0  # paths cut by the clip boundary
    curves_cut: int = 0  # Béziers flattened because the clip boundary crosses them
    background_fills: int = 0
    ocg_layers: int = 0


@dataclass
class _ClipOutcome:
    kept: bool = False
    cut: bool = False


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


class VectorExtractor:
    def __init__(
        self, page: pymupdf.Page, transform: PageTransform, options: PdfOptions, deadline: PageDeadline
    ) -> None:
        self.page = page
        self.transform = transform
        self.options = options
        self.deadline = deadline
        self.stats = VectorStats()
        # The effective region after each clip entry, in order (None: a clip that cannot be honoured).
        self.clip_regions: list[ClipRegion | None] = []
        self._ocgs: set[str] = set()

    def extract(self, drawings: list[dict[str, Any]], out: PageDrawing) -> VectorStats:
        clips = ClipStack()
        paths: list[dict[str, Any]] = []
        regions: list[ClipRegion | None] = []
        for index, drawing in enumerate(drawings):
            if index % 256 == 0:
                self.deadline.check()
            level = int(drawing.get("level", 0) or 0)
            clips.pop_to(level)
            kind = drawing.get("type")
            if kind == "clip":
                clips.push(level, drawing)
                continue
            if kind not in ("f", "s", "fs"):
                continue  # "group" entries carry blend modes only
            paths.append(drawing)
            regions.append(clips.top)
        self.clip_regions = clips.regions
        codes = _classify(paths, regions)
        page_area = abs(self.page.rect)
        for index, (drawing, region, code) in enumerate(zip(paths, regions, codes, strict=True)):
            if index % 256 == 0:
                self.deadline.check()
            self.stats.paths += 1
            self.stats.path_items += len(drawing["items"])
            self._add_path(drawing, region if code == CROSSING else None, code == OUTSIDE, page_area, out)
        self.stats.ocg_layers = len(self._ocgs)
        return self.stats

    def _add_path(
        self, drawing: dict[str, Any], clip: ClipRegion | None, outside: bool, page_area: float, out: PageDrawing
    ) -> None:
        """Add one path; ``clip`` is set only when the path's box crosses the clip boundary."""
        subpaths = build_subpaths(drawing["items"], bool(drawing.get("closePath")))
        if not subpaths:
            return
        ocg = str(drawing.get("layer") or "")
        if ocg:
            self._ocgs.add(ocg)
        if outside:
            self.stats.clipped_away += 1
            return
        outcome = _ClipOutcome()
        kind = drawing["type"]
        if "f" in kind:
            color = to_rgb(drawing.get("fill"))
            if color == (255, 255, 255) and abs(pymupdf.Rect(drawing["rect"])) >= _BACKGROUND_SHARE * page_area:
                self.stats.background_fills += 1
                outcome.kept = True
            else:
                layer = layers.fill_layer(self.options.layer_mode, ocg, color)
                self._add_fill(subpaths, clip, bool(drawing.get("even_odd")), layer, color, out, outcome)
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
            for subpath in subpaths:
                if clip is None:
                    self._add_subpath(subpath, stroke, out)
                else:
                    self._add_clipped_subpath(subpath, clip, stroke, out, outcome)
        if clip is not None:
            if not outcome.kept:
                self.stats.clipped_away += 1
            elif outcome.cut:
                self.stats.clipped_partially += 1

    # ----------------------------------------------------------------------------- strokes
    def _add_subpath(self, subpath: SubPath, stroke: Stroke, out: PageDrawing) -> None:
        tp = self.transform.point
        if self.options.flatten_curves or all(s[0] == "l" for s in subpath.segments):
            points = [tp(*p) for p in flatten_segments(subpath.segments)]
            self._add_points(points, subpath.closed, stroke, out)
            return
        # Mixed path: straight runs as polylines, Bézier runs as one exact spline each.
        run: list[Segment] = []
        for segment in [*subpath.segments, ("end",)]:
            if run and segment[0] != run[-1][0]:
                if run[0][0] == "l":
                    self._add_points([tp(*p) for p in flatten_segments(run)], False, stroke, out)
                else:
                    out.splines.append(self._spline(run, stroke))
                run = []
            if segment[0] != "end":
                run.append(segment)
        first, last = subpath.segments[0][1], subpath.segments[-1][-1]
        if subpath.closed and math.dist(first, last) > JOIN_EPS:
            out.lines.append(Line(tp(*last), tp(*first), stroke))

    def _spline(self, curves: list[Segment], stroke: Stroke) -> BezierSpline:
        tp = self.transform.point
        control = [tp(*curves[0][1])]
        for curve in curves:
            control.extend(tp(*p) for p in curve[2:5])
        return BezierSpline(tuple(control), stroke)

    def _add_points(self, points: list[Point], closed: bool, stroke: Stroke, out: PageDrawing) -> None:
        if closed and len(points) > 2 and math.dist(points[0], points[-1]) <= 1e-9:
            points = points[:-1]
        if len(points) == 2 and not closed:
            out.lines.append(Line(points[0], points[1], stroke))
        elif len(points) >= 2:
            out.polylines.append(Polyline(tuple(points), closed and len(points) > 2, stroke))

    def _add_clipped_subpath(
        self, subpath: SubPath, clip: ClipRegion, stroke: Stroke, out: PageDrawing, outcome: _ClipOutcome
    ) -> None:
        segments = list(subpath.segments)
        first, last = segments[0][1], segments[-1][-1]
        if subpath.closed and math.dist(first, last) > JOIN_EPS:
            segments.append(("l", last, first))
        points = flatten_segments(segments)
        if clip.covers(points):
            self._add_subpath(subpath, stroke, out)
            outcome.kept = True
            return
        outcome.cut = True
        if self.options.flatten_curves or all(s[0] == "l" for s in segments):
            outcome.kept |= self._add_cut(clip.cut_polyline(points), stroke, out)
            return
        if not clip.meets(points):
            return
        # Curves wholly inside stay exact, curves outside go, curves the boundary crosses are
        # flattened and cut together with the straight segments around them.
        pending: list[Point] = []
        run: list[Segment] = []
        for segment in [*segments, ("end",)]:
            flat = flatten_cubic(*segment[1:5], step=FLATTEN_STEP_PT) if segment[0] == "c" else []
            inside = bool(flat) and clip.covers(flat)
            crossing = bool(flat) and not inside and clip.meets(flat)
            if run and not inside:
                out.splines.append(self._spline(run, stroke))
                outcome.kept = True
                run = []
            if pending and segment[0] != "l" and not crossing:
                outcome.kept |= self._add_cut(clip.cut_polyline(pending), stroke, out)
                pending = []
            if segment[0] == "l":
                pending.extend([segment[2]] if pending else [segment[1], segment[2]])
            elif inside:
                run.append(segment)
            elif crossing:
                self.stats.curves_cut += 1
                pending.extend(flat[1:] if pending else flat)

    def _add_cut(self, parts: list[list[Point]], stroke: Stroke, out: PageDrawing) -> bool:
        tp = self.transform.point
        for part in parts:
            self._add_points([tp(*p) for p in part], False, stroke, out)
        return bool(parts)

    # ----------------------------------------------------------------------------- fills
    def _add_fill(
        self,
        subpaths: list[SubPath],
        clip: ClipRegion | None,
        even_odd: bool,
        layer: str,
        color: RGB,
        out: PageDrawing,
        outcome: _ClipOutcome,
    ) -> None:
        tp = self.transform.point
        if clip is not None:
            area = filled_area([flatten_segments(sp.segments) for sp in subpaths], even_odd)
            if not clip.covers_area(area):
                outcome.cut = True
                cut: list[tuple[Edge, ...]] = []
                for polygon in clip.cut_area(area):
                    for ring in [polygon.exterior, *polygon.interiors]:
                        pts = [tp(x, y) for x, y in ring.coords]
                        cut.append(tuple((pts[i], pts[i + 1]) for i in range(len(pts) - 1)))
                if cut:
                    out.fills.append(Fill(tuple(cut), layer, color))
                    outcome.kept = True
                return
        outcome.kept = True
        boundaries: list[tuple[Edge, ...]] = []
        for subpath in subpaths:
            edges: list[Edge] = [tuple(tp(*p) for p in seg[1:]) for seg in subpath.segments]
            first, last = subpath.segments[0][1], subpath.segments[-1][-1]
            if math.dist(first, last) > JOIN_EPS:
                edges.append((tp(*last), tp(*first)))
            if len(edges) >= 2 or (edges and len(edges[0]) == 4):
                boundaries.append(tuple(edges))
        if boundaries:
            out.fills.append(Fill(tuple(boundaries), layer, color))


def _classify(paths: list[dict[str, Any]], regions: list[ClipRegion | None]) -> list[int]:
    """INSIDE / OUTSIDE / CROSSING per path from its box, one vectorised call per clip region."""
    codes = [INSIDE] * len(paths)
    groups: dict[int, list[int]] = {}
    for index, region in enumerate(regions):
        if region is not None:
            groups.setdefault(id(region), []).append(index)
    for indices in groups.values():
        region = regions[indices[0]]
        assert region is not None
        boxes = [paths[i]["rect"] for i in indices]
        for index, code in zip(indices, region.classify(boxes), strict=True):
            codes[index] = code
    return codes


def check_object_count(drawings: list[dict[str, Any]], limit: int, page_number: int) -> int:
    count = sum(len(d.get("items", ())) for d in drawings)
    if count > limit:
        raise ConversionError(
            "pdf_too_complex",
            f"page {page_number} has {count} path items, more than the limit of {limit}",
            ErrorKind.RESOURCE_EXHAUSTED,
        )
    return count
