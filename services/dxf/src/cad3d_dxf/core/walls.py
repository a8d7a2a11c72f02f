"""Wall bands from pairs of parallel lines, the colours of merged walls, and storey clusters.

A wall is usually two parallel lines a wall-thickness apart, often left open at door and window
openings, so polygonising alone misses it. Each segment is paired with its nearest parallel
partner between ``min_gap`` and ``max_gap`` away; the band between their overlapping stretches is
a wall piece. The plan step (sense/plan.py) builds walls, openings and rooms on top of this.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import Polygon

from .regions import polygons_of

_PARALLEL_SINE = np.sin(np.radians(1.0))


def parallel_wall_bands(segments: np.ndarray, min_gap: float, max_gap: float, min_overlap: float) -> list[Polygon]:
    """Wall bands between parallel segments (k, 2, 2); drawing units in and out."""
    quads = parallel_wall_quads(segments, min_gap, max_gap, min_overlap)
    bands = shapely.polygons(quads) if len(quads) else []
    return [band for band in bands if band.area > 0]


def parallel_wall_quads(segments: np.ndarray, min_gap: float, max_gap: float, min_overlap: float) -> np.ndarray:
    """The bands of parallel_wall_bands as corner arrays (k, 4, 2): corners 0->1 run along the
    segment, 0->3 across the wall, so each band's axis and thickness can be read back."""
    empty = np.zeros((0, 4, 2))
    if len(segments) < 2:
        return empty
    start, end = segments[:, 0], segments[:, 1]
    direction = end - start
    length = np.linalg.norm(direction, axis=1)
    usable = length >= min_overlap
    if usable.sum() < 2:
        return empty
    index = np.flatnonzero(usable)
    start, end, direction, length = start[index], end[index], direction[index], length[index]
    unit = direction / length[:, None]
    lines = shapely.linestrings(segments[index])
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="dwithin", distance=max_gap)
    mask = left != right
    left, right = left[mask], right[mask]
    if len(left) == 0:
        return empty
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
        return empty
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
    return np.stack([p_low, p_high, p_high + shift, p_low + shift], axis=1)


Colour = tuple[int, int, int] | None


def union_colours(polys: list[Polygon], colors: list[Colour], merged: list[Polygon]) -> list[Colour]:
    """The colour of each polygon of a union: that of the largest input inside it that has one
    (None when none has: the layer decides, colours.py)."""
    if len(set(colors)) == 1:
        return [colors[0]] * len(merged)
    coloured = np.asarray([i for i, c in enumerate(colors) if c is not None])
    result: list[Colour] = [None] * len(merged)
    if not len(coloured) or not merged:
        return result
    inputs = np.asarray(polys, dtype=object)[coloured]
    points, areas = shapely.point_on_surface(inputs), shapely.area(inputs)
    source, target = shapely.STRtree(np.asarray(merged, dtype=object)).query(points, predicate="intersects")
    best = np.full(len(merged), -1.0)
    for s, t in zip(source.tolist(), target.tolist(), strict=True):
        if areas[s] > best[t]:
            best[t] = areas[s]
            result[t] = colors[int(coloured[s])]
    return result


def storey_clusters(walls: list[Polygon], gap: float, min_share: float = 0.2) -> list[list[int]]:
    """Indices of ``walls`` grouped into separate buildings: pieces closer than ``gap`` are one
    group; a group with less than ``min_share`` of the largest group's wall area joins the group
    nearest to it (an outbuilding or a stray wall is no storey of its own)."""
    if not walls:
        return []
    grown = shapely.union_all(np.asarray([w.buffer(gap / 2.0) for w in walls], dtype=object))
    blobs = polygons_of(grown)
    tree = shapely.STRtree(np.asarray(blobs, dtype=object))
    groups: list[list[int]] = [[] for _ in blobs]
    for index, wall in enumerate(walls):
        hits = tree.query(wall.representative_point(), predicate="intersects")
        groups[int(hits[0]) if len(hits) else 0].append(index)
    areas = [sum(walls[i].area for i in g) for g in groups]
    largest = max(areas)
    big = [g for g, a in zip(groups, areas, strict=True) if a >= min_share * largest]
    small = [g for g, a in zip(groups, areas, strict=True) if a < min_share * largest]
    for group in small:
        here = shapely.union_all([walls[i] for i in group])
        nearest = min(big, key=lambda g: shapely.union_all([walls[i] for i in g]).distance(here))
        nearest.extend(group)
    return big


_TITLE_WORDS = ("plan", "floor", "level", "storey", "story", "stage", "этаж", "план", "طبقه", "پلان")


def storey_title(bbox: tuple[float, float, float, float], texts: list[tuple[str, float, float, float]]) -> str:
    """The tallest text near a storey's bounds (within a third of its size) that reads like a
    plan title ("GROUND FLOOR PLAN", "План 1 этажа"); "" when none does. ``texts`` are
    (text, x, y, height) in the same coordinates as ``bbox``."""
    x0, y0, x1, y1 = bbox
    margin = max(x1 - x0, y1 - y0) / 3.0
    best = ("", 0.0)
    for text, x, y, height in texts:
        words = text.casefold()
        inside = x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin
        if inside and any(w in words for w in _TITLE_WORDS) and len(text) <= 40 and height > best[1]:
            best = (" ".join(text.split()), height)
    return best[0]
