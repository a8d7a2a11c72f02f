"""Closed rings -> filled regions: validity repair, hatch islands, and holes nested by containment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


@dataclass(slots=True)
class Region:
    """A filled area (may have holes) with the layer and colour of the outline that made it."""

    polygon: Polygon
    layer: str
    handle: str
    color: tuple[int, int, int] | None = None  # None: no single entity made it (loose lines)


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, MultiPolygon):
        return [p for p in geometry.geoms if not p.is_empty]
    if hasattr(geometry, "geoms"):
        return [p for g in geometry.geoms for p in polygons_of(g)]
    return []


def _usable_ring(ring: np.ndarray) -> np.ndarray | None:
    """The ring without a repeated closing point, or None when fewer than three distinct points remain."""
    if len(ring) >= 2 and np.array_equal(ring[0], ring[-1]):
        ring = ring[:-1]
    if len(ring) < 3 or not np.isfinite(ring).all() or len(np.unique(ring, axis=0)) < 3:
        return None
    return ring


# Rings are turned into polygons this many at a time: GEOS builds each one twice (ring, then the
# polygon's own copy), and in chunks that doubling stays small on drawings with 100,000 outlines.
_RINGS_PER_CHUNK = 4096


def ring_polygons(rings: list[np.ndarray], min_area: float) -> list[list[Polygon]]:
    """One list of valid polygons per input ring (a self-intersecting ring may give several)."""
    result: list[list[Polygon]] = [[] for _ in rings]
    for start in range(0, len(rings), _RINGS_PER_CHUNK):
        usable: list[tuple[int, np.ndarray]] = []
        for index in range(start, min(start + _RINGS_PER_CHUNK, len(rings))):
            cleaned = _usable_ring(rings[index])
            if cleaned is not None:
                usable.append((index, cleaned))
        if not usable:
            continue
        # Closed explicitly: GEOS needs first == last, and a ring that already ends on its start
        # would otherwise be taken as closed with too few points.
        closed = [np.vstack([ring, ring[:1]]) for _, ring in usable]
        polys = shapely.polygons(
            shapely.linearrings(
                np.concatenate(closed), indices=np.repeat(np.arange(len(closed)), [len(r) for r in closed])
            )
        )
        del closed
        valid = shapely.is_valid(polys)
        for (index, _), poly, ok in zip(usable, polys, valid, strict=True):
            parts = [poly] if ok else polygons_of(shapely.make_valid(poly))
            result[index] = [p for p in parts if p.area > min_area]
    return result


def nest_by_containment(regions: list[Region]) -> tuple[list[Region], int]:
    """Even-odd fill over every ring (outlines and the holes regions already have).

    A ring inside an odd number of other rings bounds a hole, inside an even number a filled
    area; each filled ring loses the hole rings directly inside it. So a plate outline with
    circles inside becomes a plate with holes, and a table drawn inside a room that is a hole of
    the wall region stays a table. Returns the filled regions and the number of exact duplicate
    rings dropped (an outline drawn twice must not turn itself into a hole).
    """
    rings: list[Polygon] = []
    owner: list[int] = []
    is_exterior: list[bool] = []
    for index, region in enumerate(regions):
        # A region without holes is its own outer ring: no copy (a plan has tens of thousands).
        rings.append(Polygon(region.polygon.exterior) if region.polygon.interiors else region.polygon)
        owner.append(index)
        is_exterior.append(True)
        for interior in region.polygon.interiors:
            rings.append(Polygon(interior))
            owner.append(index)
            is_exterior.append(False)
    if len(rings) <= 1:
        return regions, 0
    ring_array = np.asarray(rings, dtype=object)
    tree = shapely.STRtree(ring_array)
    inner, outer = tree.query(ring_array, predicate="within")
    off_diagonal = inner != outer
    inner, outer = inner[off_diagonal], outer[off_diagonal]
    # Mutual containment means equal rings: keep the first, drop the later copies.
    pair_keys = set(zip(inner.tolist(), outer.tolist(), strict=True))
    duplicates = {max(i, o) for i, o in pair_keys if (o, i) in pair_keys}
    if duplicates:
        keep_pair = np.array(
            [i not in duplicates and o not in duplicates for i, o in zip(inner, outer, strict=True)], dtype=bool
        )
        inner, outer = inner[keep_pair], outer[keep_pair]
    depth = np.bincount(inner, minlength=len(rings))
    areas = shapely.area(ring_array)
    # The immediate parent is the smallest container.
    parent = np.full(len(rings), -1)
    if len(inner):
        order = np.lexsort((areas[outer], inner))  # per inner ring, smallest container first
        first_inner, first_at = np.unique(inner[order], return_index=True)
        parent[first_inner] = outer[order][first_at]
    children: dict[int, list[int]] = {}
    for index in np.flatnonzero((depth % 2 == 1) & (parent >= 0)).tolist():
        if index not in duplicates:
            children.setdefault(int(parent[index]), []).append(index)
    filled: list[Region] = []
    for index in np.flatnonzero(depth % 2 == 0).tolist():
        if index in duplicates:
            continue
        region = regions[owner[index]]
        holes = children.get(index, [])
        own = [h for h in holes if owner[h] == owner[index] and not is_exterior[h]]
        others = [h for h in holes if not (owner[h] == owner[index] and not is_exterior[h])]
        if is_exterior[index] and len(own) == len(region.polygon.interiors):
            # The usual case: a region's holes are its own interior rings; no boolean operation.
            shell = region.polygon
        else:
            shell = Polygon(rings[index].exterior, [rings[h].exterior for h in own]) if own else rings[index]
        if others:
            cut = shell.difference(shapely.union_all(ring_array[others]))
            filled.extend(Region(p, region.layer, region.handle, region.color) for p in polygons_of(cut))
        else:
            filled.append(Region(shell, region.layer, region.handle, region.color))
    return filled, len(duplicates)


Colour = tuple[int, int, int] | None


def merge_overlapping(polygons: list[Polygon], colors: list[Colour]) -> list[tuple[Polygon, Colour]]:
    """Union only the polygons that touch or overlap; the rest pass through untouched.

    A cascaded union over thousands of separate parts (columns, furniture) costs far more than
    finding the few that actually meet. A union takes the colour of its largest polygon: the
    geometry does not depend on colours.
    """
    if len(polygons) <= 1:
        return list(zip(polygons, colors, strict=True))
    array = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(array)
    left, right = tree.query(array, predicate="intersects")
    mask = left < right
    left, right = left[mask], right[mask]
    if len(left) == 0:
        return list(zip(polygons, colors, strict=True))
    labels = np.arange(len(polygons))
    while True:  # connected components by label propagation
        merged = labels.copy()
        np.minimum.at(merged, left, labels[right])
        np.minimum.at(merged, right, labels[left])
        merged = merged[merged]
        if np.array_equal(merged, labels):
            break
        labels = merged
    result: list[tuple[Polygon, Colour]] = []
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    for group in groups:
        if len(group) == 1:
            result.append((polygons[int(group[0])], colors[int(group[0])]))
        else:
            color = colors[int(group[np.argmax(shapely.area(array[group]))])]
            result.extend((p, color) for p in polygons_of(shapely.union_all(array[group])))
    return result
