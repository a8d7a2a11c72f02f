"""Architecture plans: walls (thin regions, pairs of parallel lines) and rooms with floor slabs.

A wall is usually two parallel lines a wall-thickness apart, often left open at door and window
openings, so polygonising alone misses it. Each segment is paired with its nearest parallel
partner between ``min_gap`` and ``max_gap`` away; the band between their overlapping stretches is
a wall piece.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry import Polygon

from .entities import Collected
from .parts import ExtrusionKey, Part, RegionStats
from .regions import polygons_of
from .rules import LayerResolver, Preset

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


Colour = tuple[int, int, int] | None


def _union_colours(polys: list[Polygon], colors: list[Colour], merged: list[Polygon]) -> list[Colour]:
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


def classify_plan(
    parts: list[Part], bands: dict[str, list[Polygon]], preset: Preset, resolve: LayerResolver, stats: RegionStats
) -> list[Part]:
    """Architecture: thin regions and parallel-line bands are walls; rooms get a floor slab."""
    max_width = preset.max_wall_thickness_mm * resolve.mm_to_output
    slab = ExtrusionKey(
        -preset.slab_thickness_mm * resolve.mm_to_output, preset.slab_thickness_mm * resolve.mm_to_output
    )
    min_room_area = (preset.max_wall_thickness_mm * resolve.mm_to_output) ** 2
    result: list[Part] = []
    walls: dict[tuple[str, ExtrusionKey], list[Polygon]] = defaultdict(list)
    wall_colors: dict[tuple[str, ExtrusionKey], list[Colour]] = defaultdict(list)
    room_polys: list[tuple[str, Polygon]] = []
    for part in parts:
        if part.role not in ("", "wall"):
            result.append(part)
            continue
        poly = part.polygon
        width = 2.0 * poly.area / poly.length if poly.length > 0 else 0.0
        if width <= max_width:
            walls[(part.layer, part.key)].append(poly)
            wall_colors[(part.layer, part.key)].append(part.color)
            # Spaces enclosed by a wall ring are rooms.
            room_polys.extend(
                (part.layer, Polygon(ring)) for ring in poly.interiors if Polygon(ring).area >= min_room_area
            )
        else:
            room_polys.append((part.layer, poly))
    for layer, layer_bands in bands.items():
        resolved = resolve(layer)
        wall_key = (layer, ExtrusionKey(round(resolved.base, 9), round(resolved.height, 9)))
        walls[wall_key].extend(layer_bands)
        wall_colors[wall_key].extend([None] * len(layer_bands))  # lines carry no colour here
    for (layer, key), polys in walls.items():
        merged = polygons_of(shapely.union_all(polys))
        for wall, color in zip(merged, _union_colours(polys, wall_colors[(layer, key)], merged), strict=True):
            stats.walls_from_lines += 1
            result.append(Part(layer, wall, key, "wall", color))
    for layer, room in room_polys:
        stats.rooms += 1
        result.append(Part(f"{layer} floor", room, slab, "slab"))
    return result


def wall_bands(
    collected: Collected, resolve: LayerResolver, preset: Preset, offset: np.ndarray, scale: float
) -> dict[str, list[Polygon]]:
    """Bands between parallel lines on wall layers, in output units (recentred)."""
    bands: dict[str, list[Polygon]] = {}
    layers = {layer for layer in collected.line_layers() | {p.layer for p in collected.pieces}}
    for layer in sorted(layers):
        if resolve(layer).role != "wall" or not resolve(layer).include:
            continue
        chunks = [collected.line_array(layer)[:, :4].reshape(-1, 2, 2)]
        chunks += [np.stack([p.points[:-1], p.points[1:]], axis=1) for p in collected.pieces if p.layer == layer]
        segments = (np.concatenate(chunks) - offset) * scale
        found = parallel_wall_bands(
            segments,
            min_gap=preset.min_wall_thickness_mm * resolve.mm_to_output,
            max_gap=preset.max_wall_thickness_mm * resolve.mm_to_output,
            min_overlap=preset.min_wall_thickness_mm * resolve.mm_to_output,
        )
        if found:
            bands[layer] = found
    return bands
