"""Clip regions of one page: the active clip (``W`` / ``W*`` paths, nested) as exact geometry.

PyMuPDF's extended drawing list reports every clip path with its nesting ``level``; a clip stays
active for the entries after it until one at its level or lower appears. Nested clips intersect.
Curved clip paths are flattened, so "exact" means within the flattening tolerance.

Classifying path bounding boxes is vectorised per region (numpy for rectangles and for the box
inscribed in a curved region, one shapely call for the rest), so a page with many paths under one
clip costs no per-path shapely work unless a path really meets the clip boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from cad3d_pdf.core.fillrule import filled_area
from cad3d_pdf.core.model import Point
from cad3d_pdf.core.paths import build_subpaths, flatten_segments

# Paths within this distance (PDF points) of the clip boundary count as inside: drawings often
# put a frame exactly on their clip rectangle, and curves are compared after flattening.
CLIP_EPS = 0.5

INSIDE, OUTSIDE, CROSSING = 0, 1, 2

Box = tuple[float, float, float, float]


class ClipRegion:
    """One effective clip area in page space (y down), with fast tests for common cases.

    Rectangles (most clips) are tested with plain comparisons; their shapely geometry is only
    built when something needs it.
    """

    def __init__(self, area: shapely.Geometry | None = None, rect: Box | None = None) -> None:
        if area is None and rect is None:
            raise ValueError("a clip region needs an area or a rectangle")
        self._area = area
        self.rect = rect if rect is not None else _as_rect(area)
        self.empty = bool(area.is_empty) if area is not None else False
        self.bounds: Box = (0.0, 0.0, 0.0, 0.0)
        if self.rect is not None:
            self.bounds = self.rect
        elif area is not None and not self.empty:
            self.bounds = tuple(area.bounds)
        if area is not None:
            shapely.prepare(area)
        self._tolerant: shapely.Geometry | None = None
        self._inner: Box | None = None

    @classmethod
    def from_rect(cls, x0: float, y0: float, x1: float, y1: float) -> ClipRegion:
        if x1 <= x0 or y1 <= y0:
            return cls(shapely.Polygon())  # a clip without area hides everything
        return cls(rect=(x0, y0, x1, y1))

    @property
    def area(self) -> shapely.Geometry:
        if self._area is None:
            assert self.rect is not None
            self._area = shapely.box(*self.rect)
            shapely.prepare(self._area)
        return self._area

    @property
    def tolerant(self) -> shapely.Geometry:
        """The area grown by ``CLIP_EPS`` (for 'inside' tests)."""
        if self._tolerant is None:
            self._tolerant = self.area.buffer(CLIP_EPS, quad_segs=2)
            shapely.prepare(self._tolerant)
        return self._tolerant

    @property
    def inner(self) -> Box | None:
        """An axis-aligned box inside a curved area: boxes within it need no shapely test."""
        if self._inner is None and self.rect is None and not self.empty:
            x0, y0, x1, y1 = self.bounds
            radius_line = shapely.maximum_inscribed_circle(self.area, max(x1 - x0, y1 - y0) / 200)
            (cx, cy), _ = shapely.get_coordinates(radius_line)
            half = shapely.length(radius_line) / math.sqrt(2)
            self._inner = (cx - half, cy - half, cx + half, cy + half)
        return self._inner

    def intersect(self, other: ClipRegion) -> ClipRegion:
        if self.rect is not None and other.rect is not None:
            a, b = self.rect, other.rect
            return ClipRegion.from_rect(max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
        # Not clip_by_rect: it may return invalid polygons, and these areas are tested against later.
        return ClipRegion(shapely.intersection(self.area, other.area))

    # ------------------------------------------------------------------------------- tests
    def classify(self, boxes: Sequence[Box]) -> list[int]:
        """INSIDE / OUTSIDE / CROSSING for each bounding box (x0, y0, x1, y1)."""
        if self.empty or not boxes:
            return [OUTSIDE] * len(boxes)
        e = CLIP_EPS
        bx0, by0, bx1, by1 = self.bounds
        if self.rect is not None:  # plain comparisons beat numpy's call overhead on small groups
            return [
                INSIDE
                if x0 >= bx0 - e and y0 >= by0 - e and x1 <= bx1 + e and y1 <= by1 + e
                else CROSSING
                if x0 <= bx1 + e and x1 >= bx0 - e and y0 <= by1 + e and y1 >= by0 - e
                else OUTSIDE
                for x0, y0, x1, y1 in boxes
            ]
        array = np.asarray(boxes, dtype=float).reshape(-1, 4)
        x0, y0, x1, y1 = array[:, 0], array[:, 1], array[:, 2], array[:, 3]
        meets = (x0 <= bx1 + e) & (x1 >= bx0 - e) & (y0 <= by1 + e) & (y1 >= by0 - e)
        ix0, iy0, ix1, iy1 = self.inner or (math.inf, math.inf, -math.inf, -math.inf)
        inside = (x0 >= ix0) & (y0 >= iy0) & (x1 <= ix1) & (y1 <= iy1)
        todo = np.flatnonzero(meets & ~inside)
        if len(todo):
            geoms = _box_geometries(array[todo])
            covered = shapely.covers(self.tolerant, geoms)
            inside[todo[covered]] = True
            meets[todo[~covered]] = shapely.intersects(self.area, geoms[~covered])
        codes = np.where(inside, INSIDE, np.where(meets, CROSSING, OUTSIDE))
        return [int(c) for c in codes]

    def covers(self, points: Sequence[Point]) -> bool:
        """True when the polyline through ``points`` stays inside (within ``CLIP_EPS``)."""
        if self.empty:
            return False
        if self.rect is not None:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            x0, y0, x1, y1 = self.rect
            e = CLIP_EPS
            return min(xs) >= x0 - e and min(ys) >= y0 - e and max(xs) <= x1 + e and max(ys) <= y1 + e
        return bool(shapely.covers(self.tolerant, _polyline(points)))

    def meets(self, points: Sequence[Point]) -> bool:
        """True when the polyline through ``points`` touches the area at all."""
        if self.empty:
            return False
        if self.rect is not None:
            x0, y0, x1, y1 = self.rect
            if any(x0 <= x <= x1 and y0 <= y <= y1 for x, y in points):
                return True
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            if min(xs) > x1 or max(xs) < x0 or min(ys) > y1 or max(ys) < y0:
                return False
        return bool(shapely.intersects(self.area, _polyline(points)))

    def covers_area(self, area: shapely.Geometry) -> bool:
        return not self.empty and bool(shapely.covers(self.tolerant, area))

    def contains_point(self, x: float, y: float) -> bool:
        """True when the point lies in the area (boundary included)."""
        if self.empty:
            return False
        if self.rect is not None:
            x0, y0, x1, y1 = self.rect
            return x0 <= x <= x1 and y0 <= y <= y1
        return bool(shapely.intersects_xy(self.area, x, y))

    # ------------------------------------------------------------------------------- cutting
    def cut_polyline(self, points: Sequence[Point]) -> list[list[Point]]:
        """The parts of the polyline inside the area, each as its own point list."""
        if self.empty or len(points) < 2:
            return []
        line = shapely.LineString(points)
        inside = shapely.clip_by_rect(line, *self.rect) if self.rect is not None else self.area.intersection(line)
        if isinstance(inside, shapely.LineString):  # the common case: one piece
            return [list(inside.coords)] if inside.length > 0 else []
        lines = [g for g in shapely.get_parts(inside) if isinstance(g, shapely.LineString) and g.length > 0]
        if len(lines) > 1:  # overlay splits at the ring's seam and at vertices on the boundary
            merged = shapely.line_merge(shapely.MultiLineString(lines), directed=True)
            lines = [g for g in shapely.get_parts(merged) if isinstance(g, shapely.LineString)]
        return [list(g.coords) for g in lines]

    def cut_area(self, area: shapely.Geometry) -> list[shapely.Polygon]:
        if self.empty:
            return []
        inside = self.area.intersection(area)
        return [g for g in shapely.get_parts(inside) if isinstance(g, shapely.Polygon) and not g.is_empty]


class ClipStack:
    """The clips active while walking an extended drawing list, with each clip's effective region."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, ClipRegion]] = []
        self._memo: dict[Any, ClipRegion] = {}
        # The effective region after each clip entry, in order (text is matched to them later).
        self.regions: list[ClipRegion | None] = []

    @property
    def top(self) -> ClipRegion | None:
        return self._stack[-1][1] if self._stack else None

    def pop_to(self, level: int) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()

    def push(self, level: int, clip: dict[str, Any]) -> None:
        parent = self.top
        even_odd = clip.get("even_odd")
        if even_odd is None:
            # A stroke-outline clip (not produced by PDF content): not representable, inherit.
            region = parent
        else:
            items = clip.get("items") or ()
            # Producers often repeat one clip path for every object: build its region once.
            key = (id(parent), bool(even_odd), repr(items))
            region = self._memo.get(key)
            if region is None:
                own = region_of(items, bool(even_odd))
                region = own if parent is None else parent.intersect(own)
                self._memo[key] = region
        self.regions.append(region)
        if region is not None:
            self._stack.append((level, region))


def region_of(items: Sequence[tuple[Any, ...]], even_odd: bool) -> ClipRegion:
    """The region a clip path's items enclose (page space)."""
    if len(items) == 1 and items[0][0] == "re":
        x0, y0, x1, y1 = items[0][1]
        return ClipRegion.from_rect(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    rings = [flatten_segments(sub.segments) for sub in build_subpaths(list(items), True)]
    return ClipRegion(filled_area(rings, even_odd))


def _as_rect(area: shapely.Geometry) -> Box | None:
    """The area's bounds when the area is exactly its axis-aligned bounding box."""
    if area.is_empty or not isinstance(area, shapely.Polygon) or len(area.interiors):
        return None
    x0, y0, x1, y1 = area.bounds
    box_area = (x1 - x0) * (y1 - y0)
    return (x0, y0, x1, y1) if box_area > 0 and abs(area.area - box_area) <= 1e-9 * box_area else None


def _polyline(points: Sequence[Point]) -> shapely.Geometry:
    return shapely.Point(points[0]) if len(points) == 1 else shapely.LineString(points)


def _box_geometries(boxes: np.ndarray) -> np.ndarray:
    """Boxes as polygons; zero-width or zero-height ones (axis-parallel lines) as their diagonal."""
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    flat = (x1 <= x0) | (y1 <= y0)
    geoms = np.empty(len(boxes), dtype=object)
    if (~flat).any():
        geoms[~flat] = shapely.box(x0[~flat], y0[~flat], x1[~flat], y1[~flat])
    if flat.any():
        coords = np.stack([np.stack([x0[flat], y0[flat]], axis=1), np.stack([x1[flat], y1[flat]], axis=1)], axis=1)
        geoms[flat] = shapely.linestrings(coords)
    return geoms
