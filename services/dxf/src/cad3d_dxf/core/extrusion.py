"""Extrude polygons (with holes) into closed, outward-facing triangle meshes, all numpy.

Each ring contributes its vertices twice (bottom, top). Caps come from earcut over the same
vertices and side walls are quads between consecutive ring vertices, so every edge is shared by
exactly two triangles by construction: the solid is watertight even where earcut emits slivers.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
from shapely.geometry import Polygon


@dataclass
class MeshArrays:
    vertices: np.ndarray  # (n, 3) float64
    faces: np.ndarray  # (m, 3) int64

    @staticmethod
    def empty() -> MeshArrays:
        return MeshArrays(np.zeros((0, 3)), np.zeros((0, 3), np.int64))

    @staticmethod
    def concatenate(parts: list[MeshArrays]) -> MeshArrays:
        if not parts:
            return MeshArrays.empty()
        offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
        return MeshArrays(
            np.concatenate([p.vertices for p in parts]),
            np.concatenate([p.faces + off for p, off in zip(parts, offsets, strict=True)]),
        )


def _ring_coords(ring: shapely.LinearRing) -> np.ndarray:
    coords = np.asarray(ring.coords, dtype=float)[:-1, :2]
    if len(coords) < 2:
        return coords
    # Earcut and the side walls both dislike repeated consecutive points.
    keep = np.any(coords != np.roll(coords, 1, axis=0), axis=1)
    return coords[keep]


def extrude_polygon(polygon: Polygon, base: float, height: float) -> MeshArrays:
    """Closed mesh of ``polygon`` extruded from z=base to z=base+height (height > 0)."""
    polygon = shapely.orient_polygons(polygon)  # exterior CCW, holes CW: outward side walls
    rings = [_ring_coords(polygon.exterior)] + [_ring_coords(r) for r in polygon.interiors]
    rings = [r for r in rings if len(r) >= 3]
    if not rings:
        return MeshArrays.empty()
    flat = np.concatenate(rings)
    n = len(flat)
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    cap = mapbox_earcut.triangulate_float64(flat, ends).astype(np.int64).reshape(-1, 3)
    if len(cap):
        # Earcut's winding is not specified: make every top triangle counter-clockwise (+Z).
        a, b, c = flat[cap[:, 0]], flat[cap[:, 1]], flat[cap[:, 2]]
        cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        flip = cross < 0
        cap[flip] = cap[flip][:, ::-1]
    vertices = np.empty((2 * n, 3))
    vertices[:n, :2] = flat
    vertices[n:, :2] = flat
    vertices[:n, 2] = base
    vertices[n:, 2] = base + height
    # Side walls: for ring edge i -> next(i), bottom (i, j) and top (i+n, j+n).
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    idx = np.arange(n, dtype=np.int64)
    nxt = idx + 1
    ring_of = np.repeat(np.arange(len(rings)), [len(r) for r in rings])
    last = ends.astype(np.int64)[ring_of] - 1
    nxt[idx == last] = starts[ring_of[idx == last]]
    sides = np.concatenate([np.column_stack([idx, nxt, nxt + n]), np.column_stack([idx, nxt + n, idx + n])])
    faces = np.concatenate([cap[:, ::-1], cap + n, sides])
    return MeshArrays(vertices, faces)


def signed_volume(mesh: MeshArrays) -> float:
    tri = mesh.vertices[mesh.faces]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def is_watertight(faces: np.ndarray) -> bool:
    """Every directed edge appears once and its reverse appears once (closed, consistently wound)."""
    if len(faces) == 0:
        return False
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    size = int(faces.max()) + 1
    forward = edges[:, 0] * size + edges[:, 1]
    backward = edges[:, 1] * size + edges[:, 0]
    forward_sorted = np.sort(forward)
    if np.any(forward_sorted[1:] == forward_sorted[:-1]):
        return False
    return bool(np.array_equal(forward_sorted, np.sort(backward)))
