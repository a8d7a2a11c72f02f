"""Closed rings + a PDF fill rule (non-zero winding or even-odd) -> the shapely area they enclose.

Used for clip paths (``W`` / ``W*``) and for fills that a clip cuts. shapely alone cannot apply a
fill rule to overlapping or self-intersecting rings, so the rings' linework is noded and
polygonised into faces, and each face is kept when its winding number passes the rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from cad3d_pdf.core.model import Point

# Faces x edges evaluated per numpy batch: bounds memory for large (or hostile) paths.
_BATCH_CELLS = 2_000_000


def filled_area(rings: Sequence[Sequence[Point]], even_odd: bool) -> shapely.Geometry:
    """The area a PDF viewer fills for these rings (each implicitly closed) under the rule."""
    closed = [np.asarray(ring, dtype=float) for ring in rings if len(ring) >= 3]
    if not closed:
        return shapely.Polygon()
    if len(closed) == 1:
        single = shapely.Polygon(closed[0])
        if single.is_valid:  # a simple ring encloses the same area under both rules
            return single
    linework = shapely.union_all([shapely.LinearRing(ring) for ring in closed])  # nodes every crossing
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    if len(faces) == 0:
        return shapely.Polygon()
    inside = shapely.get_coordinates(shapely.point_on_surface(faces))
    winding = winding_numbers(inside, closed)
    keep = (winding % 2 == 1) if even_odd else (winding != 0)
    if not keep.any():
        return shapely.Polygon()
    # Faces of one polygonised linework never overlap, so their union is a coverage union.
    return shapely.coverage_union_all(faces[keep])


def winding_numbers(points: np.ndarray, rings: Sequence[np.ndarray]) -> np.ndarray:
    """Winding number of each point (n x 2) around the closed rings taken together."""
    starts = np.concatenate(rings)
    ends = np.concatenate([np.roll(ring, -1, axis=0) for ring in rings])
    result = np.zeros(len(points), dtype=np.int64)
    batch = max(1, _BATCH_CELLS // max(len(starts), 1))
    x0, y0, x1, y1 = starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1]
    for first in range(0, len(points), batch):
        px = points[first : first + batch, 0:1]
        py = points[first : first + batch, 1:2]
        # Sign of the cross product: > 0 when the point is left of the edge.
        side = (x1 - x0) * (py - y0) - (px - x0) * (y1 - y0)
        upward = (y0 <= py) & (y1 > py) & (side > 0)
        downward = (y0 > py) & (y1 <= py) & (side < 0)
        result[first : first + batch] = upward.sum(axis=1) - downward.sum(axis=1)
    return result
