"""Closed rings -> filled regions: validity repair, hatch islands, and holes nested by containment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


@dataclass
class Region:
    """A filled area (may have holes) with the layer of the outline that made it."""

    polygon: Polygon
    layer: str
    handle: str


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, MultiPolygon):
        return [p for p in geometry.geoms if not p.is_empty]
    if hasattr(geometry, "geoms"):
        return [p for g in geometry.geoms for p in polygons_of(g)]
    return []


def ring_polygons(rings: list[np.ndarray], min_area: float) -> list[list[Polygon]]:
    """One list of valid polygons per input ring (a self-intersecting ring may give several)."""
    result: list[list[Polygon]] = []
    if not rings:
        return result
    closed = [np.vstack([r, r[:1]]) for r in rings]
    polys = shapely.polygons(
        shapely.linearrings(np.concatenate(closed), indices=np.repeat(np.arange(len(closed)), [len(c) for c in closed]))
    )
    valid = shapely.is_valid(polys)
    for poly, ok in zip(polys, valid, strict=True):
        parts = [poly] if ok else polygons_of(shapely.make_valid(poly))
        result.append([p for p in parts if p.area > min_area])
    return result


def even_odd(polygons: list[Polygon]) -> list[Polygon]:
    """Fill rule of a HATCH: the symmetric difference of its boundary rings."""
    if not polygons:
        return []
    acc: BaseGeometry = polygons[0]
    for poly in polygons[1:]:
        acc = acc.symmetric_difference(poly)
    return polygons_of(acc)


def nest_by_containment(regions: list[Region]) -> tuple[list[Region], int]:
    """Apply the even-odd rule over outlines: a region inside an odd number of others is a hole.

    Returns the filled regions (holes cut out of their immediate parent) and the number of exact
    duplicates dropped (an outline drawn twice must not turn itself into a hole).
    """
    if len(regions) <= 1:
        return regions, 0
    outlines = shapely.polygons([r.polygon.exterior for r in regions])
    tree = shapely.STRtree(outlines)
    inner, outer = tree.query(outlines, predicate="within")
    off_diagonal = inner != outer
    inner, outer = inner[off_diagonal], outer[off_diagonal]
    # Mutual containment means equal outlines: keep the first, drop the later copies.
    pair_keys = set(zip(inner.tolist(), outer.tolist(), strict=True))
    duplicates = {max(i, o) for i, o in pair_keys if (o, i) in pair_keys}
    keep_pair = np.array(
        [i not in duplicates and o not in duplicates for i, o in zip(inner, outer, strict=True)], dtype=bool
    )
    inner, outer = inner[keep_pair], outer[keep_pair]
    depth = np.bincount(inner, minlength=len(regions))
    areas = shapely.area(outlines)
    # The immediate parent is the smallest container.
    parent = np.full(len(regions), -1)
    best = np.full(len(regions), np.inf)
    for i, o in zip(inner.tolist(), outer.tolist(), strict=True):
        if areas[o] < best[i]:
            best[i], parent[i] = areas[o], o
    children: dict[int, list[int]] = {}
    for index in range(len(regions)):
        if index in duplicates:
            continue
        if depth[index] % 2 == 1 and parent[index] >= 0:
            children.setdefault(int(parent[index]), []).append(index)
    filled: list[Region] = []
    for index, region in enumerate(regions):
        if index in duplicates or depth[index] % 2 == 1:
            continue
        holes = children.get(index)
        if holes:
            cut = region.polygon.difference(shapely.union_all([regions[h].polygon for h in holes]))
            filled.extend(Region(p, region.layer, region.handle) for p in polygons_of(cut))
        else:
            filled.append(region)
    return filled, len(duplicates)
