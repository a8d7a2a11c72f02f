"""Architecture plans: walls from pairs of parallel lines, the way people draft them.

A wall is usually two parallel lines a wall-thickness apart, often left open at door and window
openings, so polygonising alone misses it. Each segment is paired with its nearest parallel
partner between ``min_gap`` and ``max_gap`` away; the band between their overlapping stretches is
a wall piece.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

_PARALLEL_SINE = np.sin(np.radians(1.0))


def parallel_wall_bands(segments: np.ndarray, min_gap: float, max_gap: float, min_overlap: float) -> list[Polygon]:
    """Wall bands between parallel segments (k, 2, 2); drawing units in and out."""
    if len(segments) < 2:
        return []
    start, end = segments[:, 0], segments[:, 1]
    direction = end - start
    length = np.linalg.norm(direction, axis=1)
    usable = length >= min_overlap
    if usable.sum() < 2:
        return []
    index = np.flatnonzero(usable)
    start, end, direction, length = start[index], end[index], direction[index], length[index]
    unit = direction / length[:, None]
    lines = shapely.linestrings(segments[index])
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="dwithin", distance=max_gap)
    mask = left != right
    left, right = left[mask], right[mask]
    if len(left) == 0:
        return []
    u = unit[left]
    parallel = np.abs(u[:, 0] * unit[right, 1] - u[:, 1] * unit[right, 0]) <= _PARALLEL_SINE
    middle = (start[right] + end[right]) / 2.0 - start[left]
    offset = u[:, 0] * middle[:, 1] - u[:, 1] * middle[:, 0]  # signed distance along the left normal
    gap = np.abs(offset)
    t1 = np.einsum("ij,ij->i", start[right] - start[left], u)
    t2 = np.einsum("ij,ij->i", end[right] - start[left], u)
    low = np.maximum(0.0, np.minimum(t1, t2))
    high = np.minimum(length[left], np.maximum(t1, t2))
    ok = parallel & (gap >= min_gap) & (gap <= max_gap) & (high - low >= min_overlap)
    left, right, offset, gap, low, high, u = left[ok], right[ok], offset[ok], gap[ok], low[ok], high[ok], u[ok]
    if len(left) == 0:
        return []
    # Nearest partner only: a third parallel line (furniture along a wall) must not widen it.
    order = np.lexsort((gap, left))
    _, first = np.unique(left[order], return_index=True)
    pick = order[first]
    base = start[left[pick]]
    along = u[pick]
    normal = np.column_stack([-along[:, 1], along[:, 0]])
    p_low = base + along * low[pick, None]
    p_high = base + along * high[pick, None]
    shift = normal * offset[pick, None]
    quads = np.stack([p_low, p_high, p_high + shift, p_low + shift], axis=1)
    bands = shapely.polygons(quads)
    return [band for band in bands if band.area > 0]
