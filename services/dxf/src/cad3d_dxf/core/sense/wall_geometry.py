"""Wall pieces of a plan as oriented bands: built from parallel line pairs, joined at corners and
T-junctions, and the gaps between collinear pieces (where doors and windows go).

Everything here is in output units, recentred. A band keeps its axis so openings can be laid
along the wall they cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from ..walls import parallel_wall_quads

# Two pieces are parallel when their axes differ by less than this.
_PARALLEL_SINE = float(np.sin(np.radians(2.0)))


@dataclass(frozen=True)
class Band:
    """A straight wall piece: ``along`` is its extent on the axis ``u``, ``across`` on ``n``."""

    polygon: Polygon
    u: tuple[float, float]
    along: tuple[float, float]
    across: tuple[float, float]

    @property
    def n(self) -> tuple[float, float]:
        return (-self.u[1], self.u[0])

    @property
    def thickness(self) -> float:
        return self.across[1] - self.across[0]


def canonical(direction: np.ndarray) -> np.ndarray:
    """A unit direction pointing right (or up when vertical), so parallel pieces share one axis."""
    unit = direction / max(float(np.linalg.norm(direction)), 1e-300)
    if unit[0] < -1e-12 or (abs(unit[0]) <= 1e-12 and unit[1] < 0):
        unit = -unit
    return unit


def band_polygon(u: np.ndarray, along: tuple[float, float], across: tuple[float, float]) -> Polygon:
    """The rectangle of an axis extent and a cross extent, back in plan coordinates."""
    n = np.array([-u[1], u[0]])
    corners = [a * u + w * n for a, w in ((along[0], across[0]), (along[1], across[0]), (along[1], across[1]))]
    corners.append(along[0] * u + across[1] * n)
    return Polygon(corners)


def band_of_quad(quad: np.ndarray) -> Band:
    """A Band from a parallel_wall_quads corner array."""
    u = canonical(quad[1] - quad[0])
    n = np.array([-u[1], u[0]])
    a = quad @ u
    w = quad @ n
    along = (float(a.min()), float(a.max()))
    across = (float(w.min()), float(w.max()))
    return Band(band_polygon(u, along, across), (float(u[0]), float(u[1])), along, across)


def bands_from_segments(segments: np.ndarray, min_gap: float, max_gap: float, min_overlap: float) -> list[Band]:
    """Wall bands between parallel segments (k, 2, 2)."""
    quads = parallel_wall_quads(segments, min_gap, max_gap, min_overlap)
    return [band for band in (band_of_quad(q) for q in quads) if band.polygon.area > 0]


def band_of_polygon(poly: Polygon) -> Band:
    """The band a thin closed outline stands for (its minimum rotated rectangle)."""
    rect = np.asarray(poly.minimum_rotated_rectangle.exterior.coords)[:4]
    sides = np.linalg.norm(np.roll(rect, -1, axis=0) - rect, axis=1)
    start = int(np.argmax(sides))
    quad = np.roll(rect, -start, axis=0)
    return band_of_quad(quad)


def _end_pieces(band: Band) -> list[Polygon]:
    """Squares one thickness long beyond each end of a band."""
    t = band.thickness
    u = np.asarray(band.u)
    low, high = band.along
    return [band_polygon(u, (low - t, low), band.across), band_polygon(u, (high, high + t), band.across)]


def join_corners(bands: list[Band]) -> list[Polygon]:
    """Each band grown by the end squares that meet another wall (one polygon per band): two
    bands of a double-line L stop one thickness short of the outer corner, so the square fills
    it; a free end (a door jamb) meets nothing and stays where it is."""
    if not bands:
        return []
    tree = shapely.STRtree(np.asarray([b.polygon for b in bands], dtype=object))
    joined: list[Polygon] = []
    for index, band in enumerate(bands):
        pieces = [band.polygon]
        for piece in _end_pieces(band):
            hits = tree.query(piece, predicate="dwithin", distance=0.05 * band.thickness)
            if any(int(h) != index and _across(bands[int(h)], band) for h in hits):
                pieces.append(piece)
        joined.append(pieces[0] if len(pieces) == 1 else shapely.union_all(pieces))
    return joined


def _across(other: Band, band: Band) -> bool:
    """Whether ``other`` is a different wall than ``band``'s own continuation (not collinear)."""
    cross = abs(other.u[0] * band.u[1] - other.u[1] * band.u[0])
    return cross > _PARALLEL_SINE


@dataclass(frozen=True)
class Gap:
    """The empty stretch between two collinear wall pieces, facing each other."""

    polygon: Polygon
    width: float
    centre: tuple[float, float]
    u: tuple[float, float]


def _collinear(a: Band, b: Band) -> bool:
    cross = abs(a.u[0] * b.u[1] - a.u[1] * b.u[0])
    if cross > _PARALLEL_SINE or float(np.dot(a.u, b.u)) < 0:
        return False
    overlap = min(a.across[1], b.across[1]) - max(a.across[0], b.across[0])
    return overlap >= 0.5 * min(a.thickness, b.thickness)


def find_gaps(bands: list[Band], walls: BaseGeometry, min_width: float, max_width: float) -> list[Gap]:
    """Gaps ``min_width``..``max_width`` wide between facing ends of collinear bands, where no
    other wall fills the stretch between them."""
    if len(bands) < 2:
        return []
    tree = shapely.STRtree(np.asarray([b.polygon for b in bands], dtype=object))
    found: dict[tuple[int, ...], Gap] = {}
    for index, band in enumerate(bands):
        best: tuple[float, Band] | None = None
        for hit in tree.query(band.polygon, predicate="dwithin", distance=max_width):
            other = bands[int(hit)]
            if int(hit) == index or not _collinear(band, other):
                continue
            width = other.along[0] - band.along[1]
            if min_width <= width <= max_width and (best is None or width < best[0]):
                best = (width, other)
        if best is None:
            continue
        width, other = best
        across = (max(band.across[0], other.across[0]), min(band.across[1], other.across[1]))
        u = np.asarray(band.u)
        poly = band_polygon(u, (band.along[1], other.along[0]), across)
        if poly.area <= 0 or walls.intersection(poly).area > 0.5 * poly.area:
            continue
        centre = poly.centroid
        key = tuple(round(v / (0.1 * min_width)) for v in poly.bounds)
        found.setdefault(key, Gap(poly, width, (centre.x, centre.y), band.u))
    return list(found.values())


def thin_width(poly: Polygon) -> float:
    """Mean width of an outline, 2 * area / perimeter (exact for a long strip or a wall ring)."""
    return 2.0 * poly.area / poly.length if poly.length > 0 else 0.0


def median_thickness(bands: list[Band], polys: list[Polygon]) -> float:
    """Area-weighted median thickness of the wall pieces."""
    widths = [b.thickness for b in bands] + [thin_width(p) for p in polys]
    weights = [b.polygon.area for b in bands] + [p.area for p in polys]
    if not widths:
        return 0.0
    order = np.argsort(widths)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(widths)[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])
