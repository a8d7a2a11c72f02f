"""The solid of an object's main view: its outline, every inner loop cut through, and the ink
that only looks like a loop (dimension arrowheads, faces closed by extension lines, the second
line of a chamfered edge) left as material."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from ..entities import Collected
from ..parts import Part
from ..regions import polygons_of
from .views_layout import View

# A loop at least this share of the outline's area is a second edge line (chamfer), not a hole.
EDGE_LINE_SHARE = 0.8
# Arrowheads: a slim triangle fills about half of its smallest enclosing rectangle.
ARROW_FILL = (0.35, 0.65)
ARROW_ASPECT = 2.5
# ... and is short beside the outline (a fraction of its longer side).
ARROW_SHARE = 0.1


@dataclass
class MainSolid:
    outline: Part  # the view's largest part: its layer, key and colour go to the solid
    polygons: list[Polygon]
    holes: int
    not_holes: Counter[str] = field(default_factory=Counter)  # reason -> loops left as material
    left_out: Counter[str] = field(default_factory=Counter)  # reason -> faces of the view left out


def _arrowhead(ring: Polygon, outline_extent: float) -> bool:
    """A small slim triangle: a dimension arrowhead, not a cut-out (a decorative slot is curved
    or far larger)."""
    box = ring.minimum_rotated_rectangle
    if box.area <= 0:
        return True
    coords = np.asarray(box.exterior.coords)[:4]
    sides = np.linalg.norm(np.diff(coords[:3], axis=0), axis=1)
    long_side = float(sides.max())
    if long_side > ARROW_SHARE * outline_extent:
        return False
    corners = len(ring.exterior.simplify(0.03 * long_side).coords) - 1
    aspect = long_side / max(float(sides.min()), 1e-12)
    return corners <= 4 and ARROW_FILL[0] <= ring.area / box.area <= ARROW_FILL[1] and aspect >= ARROW_ASPECT


def loose_segments(collected: Collected, offset: np.ndarray, scale: float, skip_layer: str) -> np.ndarray:
    """Loose LINE and open polyline segments of every layer but ``skip_layer`` (the outline's own
    pen), (n, 2, 2) in output units, recentred."""
    chunks = [
        collected.line_array(layer)[:, :4].reshape(-1, 2, 2) for layer in collected.line_layers() if layer != skip_layer
    ]
    chunks += [
        np.stack([p.points[:-1], p.points[1:]], axis=1)
        for p in collected.pieces
        if len(p.points) > 1 and p.layer != skip_layer
    ]
    if not chunks:
        return np.zeros((0, 2, 2))
    return (np.concatenate(chunks) - offset) * scale


def _construction_face(ring: Polygon, tree: shapely.STRtree, segments: np.ndarray, tol: float) -> bool:
    """A face closed by lines that run on past its corners (extension and dimension lines
    crossing): straight sides making up half its perimeter lie on lines that overshoot them.

    The sides are those of the loop simplified by ``tol``; a side counts when a line holds it
    within a tenth of ``tol`` (a line only tangent to an arc does not) and runs on beyond it."""
    coords = np.asarray(ring.exterior.simplify(tol).coords)
    edges = np.stack([coords[:-1], coords[1:]], axis=1)
    lengths = np.linalg.norm(edges[:, 1] - edges[:, 0], axis=1)
    on_lines = 0.0
    for edge, length in zip(edges, lengths, strict=True):
        if length < 4 * tol:
            continue
        side = LineString(edge)
        for index in tree.query(side, predicate="dwithin", distance=tol / 10):
            line = LineString(segments[index])
            if line.length - length > 2 * tol and side.within(line.buffer(tol / 10, quad_segs=1)):
                on_lines += length
                break
    return on_lines >= 0.5 * float(lengths.sum())


def _loop_reason(loop: Polygon, shell: Polygon, tree: shapely.STRtree | None, segments: np.ndarray, tol: float) -> str:
    """Why a loop inside the outline is not a hole, or "" when it is one."""
    if loop.area >= EDGE_LINE_SHARE * shell.area:
        return "edge_line"
    x0, y0, x1, y1 = shell.bounds
    if _arrowhead(loop, max(x1 - x0, y1 - y0)):
        return "arrowhead"
    if tree is not None and _construction_face(loop, tree, segments, tol):
        return "construction_lines"
    return ""


def main_solid(view: View, collected: Collected, offset: np.ndarray, scale: float, tol: float) -> MainSolid:
    """The outline (largest part) with every real inner loop cut through it.

    Loops are the outline's own holes and the other parts lying on it (a circle on another
    layer is a hole too). Parts inside a hole (centre marks) and outside the outline (faces of
    dimension lines) are left out and counted."""
    outline = max(view.parts, key=lambda p: Polygon(p.polygon.exterior).area)
    shell = Polygon(outline.polygon.exterior)
    loops = [Polygon(ring) for ring in outline.polygon.interiors]
    solid = MainSolid(outline, [], 0)
    for part in view.parts:
        if part is outline:
            continue
        outer = Polygon(part.polygon.exterior)
        if not outer.representative_point().within(shell):
            solid.left_out["outside_outline"] += 1
        elif any(outer.within(loop.buffer(tol)) for loop in loops):
            solid.left_out["inside_hole"] += 1
        else:
            loops.append(outer)
    tree = None
    segments = loose_segments(collected, offset, scale, outline.layer)
    if len(segments):
        x0, y0, x1, y1 = shell.buffer(tol).bounds
        near = segments[
            (segments[:, :, 0].max(axis=1) >= x0)
            & (segments[:, :, 0].min(axis=1) <= x1)
            & (segments[:, :, 1].max(axis=1) >= y0)
            & (segments[:, :, 1].min(axis=1) <= y1)
        ]
        segments = near
        tree = shapely.STRtree(shapely.linestrings(near)) if len(near) else None
    kept: list[Polygon] = []
    for loop in loops:
        reason = _loop_reason(loop, shell, tree, segments, tol)
        if reason:
            solid.not_holes[reason] += 1
        else:
            kept.append(loop)
    cut = shell.difference(shapely.union_all(kept)) if kept else shell
    solid.polygons = [p for p in polygons_of(cut) if p.area > 0]
    solid.holes = sum(len(p.interiors) for p in solid.polygons)
    return solid
