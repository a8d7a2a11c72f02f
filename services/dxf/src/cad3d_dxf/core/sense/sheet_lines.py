"""The drawing's linework as flat arrays for the sheet step: every straight segment, every point.

Lines, open pieces and closed contours all become segments (x0, y0, x1, y1) with the index of
their layer, so frames and title-block grids are found however they were drawn: one closed
polyline, four LINEs, a polyline and a line, or lines exploded out of a block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entities import Collected


@dataclass
class Linework:
    segments: np.ndarray  # (n, 4) x0, y0, x1, y1
    layer_of: np.ndarray  # (n,) index into ``layers``
    layers: list[str]
    points: np.ndarray  # (m, 2) every vertex and line end
    point_layer: np.ndarray  # (m,) index into ``layers``

    def horizontal(self, tol: float) -> np.ndarray:
        s = self.segments
        return np.abs(s[:, 1] - s[:, 3]) <= tol

    def vertical(self, tol: float) -> np.ndarray:
        s = self.segments
        return np.abs(s[:, 0] - s[:, 2]) <= tol

    def lengths(self) -> np.ndarray:
        s = self.segments
        return np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1])


def _many_segments(rings: list[np.ndarray], closed: bool) -> np.ndarray:
    """Segments of many point lists at once (each closed back to its start when ``closed``)."""
    points = np.concatenate(rings)
    sizes = np.asarray([len(r) for r in rings])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    following = np.arange(1, len(points) + 1)
    last = starts + sizes - 1
    if closed:
        following[last] = starts
        index = np.arange(len(points))
    else:
        keep = np.ones(len(points), dtype=bool)
        keep[last] = False
        index = np.flatnonzero(keep)
    return np.column_stack([points[index], points[following[index]]])


def linework(collected: Collected) -> Linework:
    """All segments and points of the collected geometry (meshes are not linework)."""
    layers: dict[str, int] = {}
    segs: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    points: list[np.ndarray] = []
    point_owners: list[np.ndarray] = []

    def add(layer: str, rows: np.ndarray, pts: np.ndarray) -> None:
        index = layers.setdefault(layer, len(layers))
        if len(rows):
            segs.append(rows)
            owners.append(np.full(len(rows), index))
        if len(pts):
            points.append(pts)
            point_owners.append(np.full(len(pts), index))

    for layer in sorted(collected.line_layers()):
        rows = collected.line_array(layer)[:, :4]
        add(layer, rows, rows.reshape(-1, 2))
    for closed, items in ((True, collected.contours), (False, collected.pieces)):
        by_layer: dict[str, list[np.ndarray]] = {}
        for item in items:
            if len(item.points) >= 2:
                by_layer.setdefault(item.layer, []).append(item.points)
        for layer, rings in by_layer.items():
            add(layer, _many_segments(rings, closed), np.concatenate(rings))
    names = sorted(layers, key=layers.__getitem__)
    return Linework(
        np.concatenate(segs) if segs else np.zeros((0, 4)),
        np.concatenate(owners) if owners else np.zeros(0, dtype=int),
        names,
        np.concatenate(points) if points else np.zeros((0, 2)),
        np.concatenate(point_owners) if point_owners else np.zeros(0, dtype=int),
    )


def covered_fraction(intervals: np.ndarray, low: float, high: float) -> float:
    """How much of [low, high] the union of ``intervals`` (k, 2) covers, 0..1."""
    if high <= low or not len(intervals):
        return 0.0
    clipped = np.clip(np.sort(intervals, axis=1), low, high)
    clipped = clipped[np.argsort(clipped[:, 0])]
    total, reach = 0.0, low
    for start, end in clipped.tolist():
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total / (high - low)
