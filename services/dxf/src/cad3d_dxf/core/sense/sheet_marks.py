"""Annotation drawn as plain geometry: exploded dimensions (arrowheads and the lines that end at
their tips) and symbol bubbles (a small circle with a short text inside: section and elevation
marks, grid bubbles, balloons), with the small flags drawn against them.

Both are judged conservatively: an arrowhead counts only when a line ends at its tip along its
axis (a lone sharp triangle may be a part), a bubble only when its text fills it (a room or a hole
has its name far smaller than itself).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon, box

from ..annotations import TextItem
from ..entities import Collected
from .prune import prune, remove_lines

# Arrowheads: longest side at most this share of the drawing diagonal, and at least this sharp.
_ARROW_SIZE = 0.03
_ARROW_NARROW = 0.6  # shortest side / longest side
_ALONG = 0.95  # |cos| between a dimension line and the arrow's axis
# Bubbles: at most this share of the drawing diagonal, text at least this share of the bubble.
_BUBBLE_SIZE = 0.04
_BUBBLE_TEXT = 0.15
_BUBBLE_CHARS = 6
_ROUND = 0.85  # area / area of the circle of the same diameter


@dataclass
class Arrow:
    index: int  # in collected.contours
    tip: np.ndarray
    axis: np.ndarray  # unit vector from the base towards the tip
    base: float  # length of the short side
    narrow: bool  # sharp enough for a dimension arrowhead (any small triangle may be a symbol)


def _arrow(points: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray, float, bool] | None:
    seen: dict[tuple[float, float], np.ndarray] = {}
    for point in points:
        seen.setdefault((round(float(point[0]), 12), round(float(point[1]), 12)), point)
    if len(seen) != 3:
        return None
    unique = np.asarray(list(seen.values()))
    sides = np.asarray([np.linalg.norm(unique[(i + 1) % 3] - unique[(i + 2) % 3]) for i in range(3)])
    short = int(np.argmin(sides))
    if sides.max() > limit or sides.max() <= 0:
        return None
    tip = unique[short]
    base_mid = (unique[(short + 1) % 3] + unique[(short + 2) % 3]) / 2.0
    axis = tip - base_mid
    length = float(np.linalg.norm(axis))
    if length <= 0:
        return None
    return tip, axis / length, float(sides[short]), bool(sides[short] <= _ARROW_NARROW * sides.max())


def _rings(points: np.ndarray) -> list[np.ndarray]:
    """A small closed outline split where it passes a vertex twice (two arrowheads tip to tip)."""
    rounded = [tuple(p) for p in np.round(points, 9).tolist()]
    for i, point in enumerate(rounded):
        if point in rounded[i + 1 :]:
            j = rounded.index(point, i + 1)
            return [points[i:j], np.concatenate([points[j:], points[:i]])]
    return [points]


def arrows(collected: Collected, diagonal: float) -> list[Arrow]:
    found: list[Arrow] = []
    limit = _ARROW_SIZE * diagonal
    for index, contour in enumerate(collected.contours):
        if len(contour.points) > 8 or np.ptp(contour.points, axis=0).max() > limit:
            continue
        shapes = [_arrow(ring, _ARROW_SIZE * diagonal) for ring in _rings(contour.points)]
        if all(shape is not None for shape in shapes):
            found.extend(Arrow(index, *shape) for shape in shapes if shape is not None)
    return found


def _along(segs: np.ndarray, tip: np.ndarray, axis: np.ndarray, reach: float) -> np.ndarray:
    """Segments (x0, y0, x1, y1) running along ``axis`` that pass within ``reach`` of ``tip``."""
    if not len(segs):
        return np.zeros(0, dtype=bool)
    start, vectors = segs[:, 0:2], segs[:, 2:4] - segs[:, 0:2]
    lengths2 = np.einsum("ij,ij->i", vectors, vectors)
    t = np.clip(np.einsum("ij,ij->i", tip - start, vectors) / np.maximum(lengths2, 1e-300), 0, 1)
    nearest = start + vectors * t[:, None]
    distance = np.hypot(*(nearest - tip).T)
    cos = np.abs(vectors @ axis) / np.sqrt(np.maximum(lengths2, 1e-300))
    return (distance <= reach) & (cos >= _ALONG) & (lengths2 > 0)


def _piece_segments(collected: Collected) -> tuple[np.ndarray, np.ndarray]:
    """Segments of the straight open pieces (all segments in one direction) and their owners."""
    rows: list[np.ndarray] = []
    owners: list[int] = []
    for index, piece in enumerate(collected.pieces):
        points = piece.points
        if len(points) < 2 or len(points) > 8:
            continue
        vectors = np.diff(points, axis=0)
        norms = np.hypot(vectors[:, 0], vectors[:, 1])
        if (norms <= 0).any():
            continue
        units = vectors / norms[:, None]
        if (np.abs(units @ units[0]) < _ALONG).any():
            continue
        rows.append(np.column_stack([points[:-1], points[1:]]))
        owners.extend([index] * (len(points) - 1))
    if not rows:
        return np.zeros((0, 4)), np.zeros(0, dtype=int)
    return np.concatenate(rows), np.asarray(owners)


def _labelled(found: list[Arrow], collected: Collected, texts: list[TextItem]) -> set[int]:
    """Arrowheads with a short label beside them (section and view arrows: "A", "B")."""
    if not texts:
        return set()
    points = np.asarray([(t.x, t.y) for t in texts])
    short = np.asarray([0 < len(t.text.strip()) <= _BUBBLE_CHARS for t in texts])
    labelled: set[int] = set()
    for arrow in found:
        ring = collected.contours[arrow.index].points
        centre = ring.mean(axis=0)
        size = float(np.max(np.ptp(ring, axis=0)))
        if (short & (np.hypot(*(points - centre).T) <= 2.0 * size)).any():
            labelled.add(arrow.index)
    return labelled


def _outlines_of(collected: Collected, indices: set[int], reason: str, counts: Counter[str], diagonal: float) -> int:
    """Lines and pieces drawing the outline of the given arrowheads (a hatch and its border):
    removed before the arrowheads themselves, which keeps ``indices`` valid."""
    removed = 0
    tol = 1e-4 * diagonal
    for index in sorted(indices):
        contour = collected.contours[index]
        region = Polygon(contour.points).buffer(tol)
        removed += prune(collected, region, reason, counts, tol, layers={contour.layer}, keep_contours=True)
    return removed


def remove_dimensions(collected: Collected, diagonal: float, counts: Counter[str], texts: list[TextItem]) -> int:
    """Exploded dimensions: arrowheads with a line running from their tip, and those lines;
    arrowheads with a short label beside them and no such line are symbols (section arrows)."""
    found = arrows(collected, diagonal)
    if not found:
        return 0
    confirmed: set[int] = set()
    layer_rows = {layer: collected.line_array(layer) for layer in collected.line_layers()}
    masks = {layer: np.zeros(len(rows), dtype=bool) for layer, rows in layer_rows.items()}
    piece_rows, owners = _piece_segments(collected)
    piece_mask = np.zeros(len(piece_rows), dtype=bool)
    for arrow in found:
        if not arrow.narrow:
            continue
        reach = max(0.5 * arrow.base, 1e-9 * diagonal)
        hit = False
        for layer, rows in layer_rows.items():
            at = _along(rows[:, :4], arrow.tip, arrow.axis, reach)
            if at.any():
                masks[layer] |= at
                hit = True
        at = _along(piece_rows, arrow.tip, arrow.axis, reach)
        if at.any():
            piece_mask |= at
            hit = True
        if hit:
            confirmed.add(arrow.index)
    symbols = _labelled(found, collected, texts) - confirmed
    removed = sum(remove_lines(collected, layer, mask, "dimension", counts) for layer, mask in masks.items())
    drop = set(owners[piece_mask].tolist())
    if drop:
        collected.pieces = [p for i, p in enumerate(collected.pieces) if i not in drop]
        counts["dimension"] += len(drop)
        collected.excluded["dimension"] += len(drop)
        removed += len(drop)
    removed += _outlines_of(collected, symbols, "symbol", counts, diagonal)
    removed += _outlines_of(collected, confirmed, "dimension", counts, diagonal)
    gone = symbols | confirmed
    if gone:
        collected.contours = [c for i, c in enumerate(collected.contours) if i not in gone]
        for reason, count in (("symbol", len(symbols)), ("dimension", len(confirmed))):
            if count:
                counts[reason] += count
                collected.excluded[reason] += count
    return removed + len(gone)


def _round(points: np.ndarray) -> bool:
    if len(points) < 12:
        return False
    x, y = points[:, 0], points[:, 1]
    area = 0.5 * abs(float(x[:-1] @ y[1:] - y[:-1] @ x[1:] + x[-1] * y[0] - y[-1] * x[0]))
    diameter = float(max(x.max() - x.min(), y.max() - y.min()))
    return diameter > 0 and area >= _ROUND * np.pi * diameter**2 / 4.0


def remove_bubbles(
    collected: Collected, texts: list[TextItem], diagonal: float, tol: float, counts: Counter[str]
) -> int:
    """Symbol bubbles whose short text fills them, with small geometry against them on their layer."""
    labels = [t for t in texts if 0 < len(t.text.strip()) <= _BUBBLE_CHARS and t.height > 0]
    if not labels or not collected.contours:
        return 0
    order = np.argsort([t.x for t in labels])  # texts by x: each bubble looks at a slice only
    points = np.asarray([(labels[i].x, labels[i].y) for i in order])
    heights = np.asarray([labels[i].height for i in order])
    lows = np.asarray([c.points.min(axis=0) for c in collected.contours])
    highs = np.asarray([c.points.max(axis=0) for c in collected.contours])
    sizes = (highs - lows).max(axis=1)
    regions: list[tuple[str, tuple[float, float, float, float]]] = []
    for index in np.flatnonzero((sizes > 0) & (sizes <= _BUBBLE_SIZE * diagonal)).tolist():
        low, high, size = lows[index], highs[index], float(sizes[index])
        start = int(np.searchsorted(points[:, 0], low[0], side="left"))
        stop = int(np.searchsorted(points[:, 0], high[0], side="right"))
        near, tall = points[start:stop, 1], heights[start:stop]
        held = (near >= low[1]) & (near <= high[1]) & (tall >= _BUBBLE_TEXT * size)
        contour = collected.contours[index]
        if not held.any() or not _round(contour.points):
            continue
        grow = 0.6 * size
        regions.append((contour.layer, (low[0] - grow, low[1] - grow, high[0] + grow, high[1] + grow)))
    removed = 0
    for layer, rect in regions:
        removed += prune(collected, box(*rect), "symbol", counts, tol, layers={layer})
    return removed
