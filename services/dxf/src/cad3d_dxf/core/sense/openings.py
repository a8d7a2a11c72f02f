"""Door and window openings of a plan: door swings (an arc about a jamb), window symbols (three or
more parallel lines across a wall gap) and wall gaps explained by door/window layers or blocks.

An opening is a rectangle through the wall it cuts. Nothing stands in a door from the floor to
its head; a window keeps a sill below and both get a lintel above (parts made in plan.py).
Output units, recentred, throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from .wall_geometry import Band, Gap, band_polygon, canonical

# A swing arc: radius this close to constant (relative), sweeping 60..120 degrees.
_ARC_ROUNDNESS = 0.02
_SWEEP_DEGREES = (60.0, 120.0)
_PARALLEL_SINE = float(np.sin(np.radians(10.0)))


@dataclass(frozen=True)
class Swing:
    """A door swing arc: hinge ``centre``, ``radius`` (the leaf), the arc's points and ends."""

    centre: tuple[float, float]
    radius: float
    points: np.ndarray
    sector: Polygon


@dataclass
class Opening:
    kind: str  # "door" | "window"
    polygon: Polygon
    width: float
    evidence: str
    head: float = 0.0
    sill: float = 0.0

    def as_report(self) -> dict[str, object]:
        centre = self.polygon.centroid
        return {
            "kind": self.kind,
            "x": round(centre.x, 6),
            "y": round(centre.y, 6),
            "width": round(self.width, 6),
            "head": round(self.head, 6),
            "sill": round(self.sill, 6),
            "evidence": self.evidence,
        }


def swing_of(points: np.ndarray, min_radius: float, max_radius: float) -> Swing | None:
    """The swing an open polyline draws, or None when it is no quarter-circle-like arc."""
    if len(points) < 4:
        return None
    a, b, c = points[0], points[len(points) // 2], points[-1]
    d = 2.0 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]))
    if abs(d) < 1e-12:
        return None
    sa, sb, sc = a @ a, b @ b, c @ c
    centre = np.array(
        [
            (sa * (b[1] - c[1]) + sb * (c[1] - a[1]) + sc * (a[1] - b[1])) / d,
            (sa * (c[0] - b[0]) + sb * (a[0] - c[0]) + sc * (b[0] - a[0])) / d,
        ]
    )
    radii = np.linalg.norm(points - centre, axis=1)
    radius = float(radii.mean())
    if not min_radius <= radius <= max_radius or np.abs(radii - radius).max() > _ARC_ROUNDNESS * radius:
        return None
    va, vc = a - centre, c - centre
    sweep = np.degrees(np.arccos(np.clip(va @ vc / (radius * radius), -1.0, 1.0)))
    if not _SWEEP_DEGREES[0] <= sweep <= _SWEEP_DEGREES[1]:
        return None
    sector = Polygon([tuple(centre), *map(tuple, points)])
    if not sector.is_valid:
        sector = sector.buffer(0)
    return Swing((float(centre[0]), float(centre[1])), radius, points, sector)


def door_from_swing(swing: Swing, bands: list[Band], reach: float) -> Opening | None:
    """The doorway a swing opens: from the hinge along the wall (the arc end lying along a wall
    band near the hinge) for one leaf width, through that band's thickness."""
    centre = np.asarray(swing.centre)
    hinge = shapely.Point(swing.centre)
    best: tuple[float, Band, np.ndarray] | None = None
    for end in (swing.points[0], swing.points[-1]):
        direction = (end - centre) / swing.radius
        for band in bands:
            if abs(direction[0] * band.u[1] - direction[1] * band.u[0]) > _PARALLEL_SINE:
                continue
            distance = band.polygon.distance(hinge)
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, band, direction)
    if best is None:
        return None
    _, band, direction = best
    u = np.asarray(band.u)
    start = float(centre @ u)
    stop = start + swing.radius * float(np.sign(direction @ u))
    along = (min(start, stop), max(start, stop))
    polygon = band_polygon(canonical(u), along, _through(band, bands, along))
    return Opening("door", polygon, swing.radius, f"door swing: arc of radius {swing.radius:.4g} about a jamb")


def _through(band: Band, bands: list[Band], along: tuple[float, float]) -> tuple[float, float]:
    """The cross extent of the whole wall at a doorway: ``band``'s, grown by the parallel pieces
    beside it there (a wall drawn twice, or a lining on another layer)."""
    low, high = band.across
    tol = 0.1 * band.thickness
    parallel = [
        b
        for b in bands
        if abs(b.u[0] * band.u[1] - b.u[1] * band.u[0]) <= 1e-3 and b.along[0] < along[1] and b.along[1] > along[0]
    ]
    grown = True
    while grown:
        grown = False
        for other in parallel:
            touches = other.across[0] <= high + tol and other.across[1] >= low - tol
            if touches and (other.across[0] < low or other.across[1] > high):
                low, high = min(low, other.across[0]), max(high, other.across[1])
                grown = True
    return low, high


def window_symbols(
    segments: np.ndarray, min_span: float, max_span: float, lengths: tuple[float, float]
) -> list[Polygon]:
    """Rectangles of window symbols: three or more parallel lines of the same extent, ``lengths``
    long, spread ``min_span``..``max_span`` across (the wall thickness)."""
    if len(segments) < 3:
        return []
    vectors = segments[:, 1] - segments[:, 0]
    length = np.linalg.norm(vectors, axis=1)
    keep = np.flatnonzero((length >= lengths[0]) & (length <= lengths[1]))
    if len(keep) < 3:
        return []
    axes = np.asarray([canonical(v) for v in vectors[keep]])
    middles = segments[keep].mean(axis=1)
    tree = shapely.STRtree(shapely.points(middles))
    found: list[Polygon] = []
    used: set[int] = set()
    for i in range(len(keep)):
        if i in used:
            continue
        u = axes[i]
        n = np.array([-u[1], u[0]])
        ends = np.sort(segments[keep[i]] @ u)
        tol = max(0.25 * min_span, 0.02 * (ends[1] - ends[0]))
        group = [i]
        for j in tree.query(shapely.Point(middles[i]), predicate="dwithin", distance=max_span).tolist():
            if j == i or abs(u[0] * axes[j][1] - u[1] * axes[j][0]) > 1e-3:
                continue
            other = np.sort(segments[keep[j]] @ u)
            if np.abs(other - ends).max() <= tol:
                group.append(j)
        across = np.unique(np.round(middles[group] @ n / (0.1 * min_span)))
        span = (across.max() - across.min()) * 0.1 * min_span if len(across) else 0.0
        if len(across) >= 3 and min_span <= span <= max_span * 1.05:
            used.update(group)
            w = middles[group] @ n
            found.append(band_polygon(u, (float(ends[0]), float(ends[1])), (float(w.min()), float(w.max()))))
    return found


def window_in_walls(symbol: Polygon, bands: list[Band], reach: float) -> bool:
    """Whether a window symbol sits in a wall: a band of its own direction at one end or both."""
    coords = np.asarray(symbol.exterior.coords)[:4]
    u = canonical(coords[1] - coords[0])
    ends = [shapely.Point((coords[0] + coords[3]) / 2.0), shapely.Point((coords[1] + coords[2]) / 2.0)]
    for band in bands:
        if abs(u[0] * band.u[1] - u[1] * band.u[0]) > _PARALLEL_SINE:
            continue
        if any(band.polygon.distance(end) <= reach for end in ends):
            return True
    return False


def classify_gap(
    gap: Gap, door_evidence: list[tuple[Polygon, str]], window_evidence: list[tuple[Polygon, str]]
) -> Opening | None:
    """A wall gap with door or window drawing in it (an opening layer's geometry, a door block)."""
    probe = gap.polygon.buffer(0.05 * gap.width)
    for kind, evidence in (("window", window_evidence), ("door", door_evidence)):
        for shape, what in evidence:
            if shape.intersects(probe):
                return Opening(kind, gap.polygon, gap.width, f"wall gap with {what}")
    return None
