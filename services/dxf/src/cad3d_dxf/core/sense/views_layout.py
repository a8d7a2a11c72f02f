"""Which filled regions of a mechanical sheet form one view, and which views show one object.

Views are clusters of parts separated by empty paper. Orthographic views of one object line up:
a view above or below the main view spans the same x-extent, one beside it the same y-extent.
Identical shapes lined up (a nesting sheet of copies) are separate objects, not views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from ..parts import Part
from ..regions import polygons_of

# Parts closer than this fraction of the sheet's diagonal belong to one view.
VIEW_GAP_RELATIVE = 0.004
# Clusters smaller than this fraction of the largest view are marks (arrowheads, symbols), not views.
MARK_RELATIVE = 0.04
# Extents line up when their ends differ by less than this fraction of the longer one.
ALIGN_RELATIVE = 0.02
# A view at most this thin (short side / long side) shows a plate edge-on.
THIN_RATIO = 0.25


@dataclass
class View:
    """One cluster of parts (output units, recentred)."""

    parts: list[Part]
    footprint: Polygon  # union of the parts' outer rings

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.footprint.bounds
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        return x1 - x0, y1 - y0

    @property
    def holes(self) -> int:
        return sum(len(p.polygon.interiors) for p in self.parts)

    @property
    def layers(self) -> set[str]:
        return {p.layer for p in self.parts}

    @property
    def thin_ratio(self) -> float:
        w, h = self.size
        return min(w, h) / max(w, h, 1e-12)


@dataclass
class ViewLink:
    view: View
    role: str  # "front" (stacked, same x-extent), "side" (beside, same y-extent), "section"
    aligned_with: int  # index of the view it lines up with in ObjectViews.views (0: the main view)
    axis: str  # "x" or "y": the extent it shares


@dataclass
class ObjectViews:
    main: View
    others: list[ViewLink] = field(default_factory=list)

    @property
    def views(self) -> list[View]:
        return [self.main, *(link.view for link in self.others)]


def _outer(part: Part) -> Polygon:
    return Polygon(part.polygon.exterior)


def cluster_views(parts: list[Part], gap: float) -> list[View]:
    """Parts touching, nested or within ``gap`` of each other, as views (largest first)."""
    if not parts:
        return []
    outers = np.asarray([_outer(p) for p in parts], dtype=object)
    blobs = polygons_of(shapely.union_all(shapely.buffer(outers, gap / 2.0, quad_segs=2)))
    tree = shapely.STRtree(np.asarray(blobs, dtype=object))
    points = shapely.point_on_surface(outers)
    members: dict[int, list[int]] = {}
    for index, point in enumerate(points):
        hits = tree.query(point, predicate="intersects")
        members.setdefault(int(hits[0]) if len(hits) else -1 - index, []).append(index)
    views = [
        View([parts[i] for i in indices], shapely.union_all(outers[indices]).buffer(0)) for indices in members.values()
    ]
    views.sort(key=lambda v: -v.footprint.area)
    return views


def split_marks(views: list[View]) -> tuple[list[View], list[View]]:
    """Views, and marks: clusters far smaller than the largest view (arrowheads, symbols)."""
    if not views:
        return [], []
    largest = max(max(v.size) for v in views)
    kept = [v for v in views if max(v.size) >= MARK_RELATIVE * largest]
    marks = [v for v in views if max(v.size) < MARK_RELATIVE * largest]
    return kept, marks


def _same(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= ALIGN_RELATIVE * scale


def shared_axis(a: View, b: View) -> str:
    """ "x" when b is above or below a over the same x-extent, "y" when beside it over the same
    y-extent, "" when they do not line up."""
    ax0, ay0, ax1, ay1 = a.bbox
    bx0, by0, bx1, by1 = b.bbox
    span_x = max(ax1 - ax0, bx1 - bx0)
    span_y = max(ay1 - ay0, by1 - by0)
    if _same(ax0, bx0, span_x) and _same(ax1, bx1, span_x) and (by1 <= ay0 or by0 >= ay1):
        return "x"
    if _same(ay0, by0, span_y) and _same(ay1, by1, span_y) and (bx1 <= ax0 or bx0 >= ax1):
        return "y"
    return ""


def congruent(a: View, b: View) -> bool:
    """Copies of one shape (same size and area): separate objects, not two views of one."""
    (aw, ah), (bw, bh) = a.size, b.size
    scale = max(aw, ah, bw, bh)
    area = max(a.footprint.area, b.footprint.area, 1e-12)
    return _same(aw, bw, scale) and _same(ah, bh, scale) and abs(a.footprint.area - b.footprint.area) <= 0.02 * area


def _role(axis: str) -> str:
    return "front" if axis == "x" else "side"


def group_objects(views: list[View]) -> list[ObjectViews]:
    """Each object's main view and the views that line up with it.

    Views are taken most holes first, then largest: an unclaimed one becomes an object's main
    view and claims the unclaimed views lined up with it. A claimed view that is not thin (a
    front view of a housing) may claim in turn (its section beside it); a thin one does not, so
    two plates' edge views that happen to line up never join the plates into one object.
    """
    order = sorted(range(len(views)), key=lambda i: (-views[i].holes, -views[i].footprint.area))
    claimed: set[int] = set()
    objects: list[ObjectViews] = []
    for index in order:
        if index in claimed:
            continue
        claimed.add(index)
        item = ObjectViews(views[index])
        frontier = [(index, 0)]
        while frontier:
            source, source_pos = frontier.pop(0)
            for other in order:
                if other in claimed or congruent(views[source], views[other]):
                    continue
                if views[other].footprint.area > views[index].footprint.area:
                    continue
                axis = shared_axis(views[source], views[other])
                if not axis:
                    continue
                claimed.add(other)
                item.others.append(ViewLink(views[other], _role(axis), source_pos, axis))
                if views[other].thin_ratio > THIN_RATIO:
                    frontier.append((other, len(item.others)))
        objects.append(item)
    return objects
