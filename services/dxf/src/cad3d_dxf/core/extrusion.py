"""Extrude polygons (with holes) into closed, outward-facing triangle meshes, all numpy.

Each ring contributes its vertices twice (bottom, top). Caps come from earcut over the same
vertices and side walls are quads between consecutive ring vertices, so every edge is shared by
exactly two triangles by construction: the solid is watertight even where earcut emits slivers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import manifold3d
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
    """Ring vertices without the closing point, repeated points or exactly collinear points.

    Earcut silently drops collinear vertices from the caps; the side walls would still use them
    and the solid would get T-junctions (not watertight). Dropping them here keeps both in step
    and does not change the area.
    """
    coords = np.asarray(ring.coords, dtype=float)[:-1, :2]
    for _ in range(16):
        if len(coords) < 3:
            return coords
        # Repeated points first (keeping one of each run), then collinear points: doing both at
        # once would drop every copy of a repeated corner.
        coords = coords[np.any(coords != np.roll(coords, 1, axis=0), axis=1)]
        if len(coords) < 3:
            return coords
        prev, nxt = np.roll(coords, 1, axis=0), np.roll(coords, -1, axis=0)
        cross = (coords[:, 0] - prev[:, 0]) * (nxt[:, 1] - prev[:, 1]) - (coords[:, 1] - prev[:, 1]) * (
            nxt[:, 0] - prev[:, 0]
        )
        keep = cross != 0
        if keep.all():
            return coords
        coords = coords[keep]
    return coords


def _earcut_cap(flat: np.ndarray, ends: np.ndarray) -> np.ndarray:
    return mapbox_earcut.triangulate_float64(flat, ends).astype(np.int64).reshape(-1, 3)


def _delaunay_cap(polygon: Polygon, points: np.ndarray) -> np.ndarray:
    """Fallback cap from GEOS's constrained Delaunay triangulation, mapped back onto ``points``."""
    triangles = shapely.get_parts(shapely.constrained_delaunay_triangles(polygon))
    if len(triangles) == 0:
        return np.zeros((0, 3), np.int64)
    corners = shapely.get_coordinates(shapely.get_exterior_ring(triangles)).reshape(len(triangles), 4, 2)[:, :3]
    lookup = {tuple(point): index for index, point in enumerate(points.tolist())}
    try:
        return np.asarray([[lookup[tuple(p)] for p in tri] for tri in corners.tolist()], dtype=np.int64)
    except KeyError:  # GEOS introduced a vertex we do not have: keep earcut's result instead
        return np.zeros((0, 3), np.int64)


def _cap_area(points: np.ndarray, cap: np.ndarray) -> float:
    a, b, c = points[cap[:, 0]], points[cap[:, 1]], points[cap[:, 2]]
    return float(np.abs(_cross(a, b, c)).sum() / 2.0)


def _cross(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _cap(polygon: Polygon, flat: np.ndarray, ends: np.ndarray, unique: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """Cap triangles as indices into ``unique``; earcut first, GEOS when earcut loses area.

    Earcut skips parts of degenerate input (rings touching at a vertex, spikes): the cap then
    covers less than the polygon. GEOS's constrained Delaunay is slower but handles those.
    """
    cap = inverse[_earcut_cap(flat, ends)]
    target = polygon.area
    area = _cap_area(unique, cap) if len(cap) else 0.0
    if not math.isclose(area, target, rel_tol=1e-9, abs_tol=0.0):
        fallback = _delaunay_cap(polygon, unique)
        if len(fallback) and abs(_cap_area(unique, fallback) - target) < abs(area - target):
            cap = fallback
    return cap


def extrude_polygon(polygon: Polygon, base: float, height: float) -> MeshArrays:
    """Closed mesh of ``polygon`` extruded from z=base to z=base+height (height > 0).

    Side walls are built on the boundary edges of the cap triangulation itself (edges used by one
    triangle only), so the solid is closed whatever the triangulator did with odd vertices.
    """
    polygon = shapely.orient_polygons(polygon)
    rings = [_ring_coords(polygon.exterior)] + [_ring_coords(r) for r in polygon.interiors]
    if len(rings[0]) < 3:
        return MeshArrays.empty()
    rings = [rings[0]] + [r for r in rings[1:] if len(r) >= 3]
    flat = np.concatenate(rings)
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    # Rings may touch at a vertex (valid for shapely): one vertex per position keeps edges manifold.
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(unique)
    cap = _cap(Polygon(rings[0], rings[1:]), flat, ends, unique, inverse)
    if len(cap) == 0:
        return MeshArrays.empty()
    # Triangle winding is not specified: make every top triangle counter-clockwise (+Z).
    flip = _cross(unique[cap[:, 0]], unique[cap[:, 1]], unique[cap[:, 2]]) < 0
    cap[flip] = cap[flip][:, ::-1]
    edges = np.concatenate([cap[:, [0, 1]], cap[:, [1, 2]], cap[:, [2, 0]]])
    forward = edges[:, 0] * n + edges[:, 1]
    backward = edges[:, 1] * n + edges[:, 0]
    boundary = edges[~np.isin(forward, backward)]
    i, j = boundary[:, 0], boundary[:, 1]
    # Counter-clockwise boundary edge i -> j has the solid on its left: the wall faces right (outward).
    sides = np.concatenate([np.column_stack([i, j, j + n]), np.column_stack([i, j + n, i + n])])
    vertices = np.empty((2 * n, 3))
    vertices[:n, :2] = unique
    vertices[n:, :2] = unique
    vertices[:n, 2] = base
    vertices[n:, 2] = base + height
    faces = np.concatenate([cap[:, ::-1], cap + n, sides])
    if not is_watertight(faces):
        # Rare (rings touching along overlapping triangles): Manifold's robust extrusion instead.
        return _manifold_extrude(rings, base, height)
    return MeshArrays(vertices, faces)


def _manifold_extrude(rings: list[np.ndarray], base: float, height: float) -> MeshArrays:
    section = manifold3d.CrossSection(rings, manifold3d.FillRule.EvenOdd)
    solid = manifold3d.Manifold.extrude(section, height).translate((0.0, 0.0, base))
    mesh = solid.to_mesh64()
    return MeshArrays(np.asarray(mesh.vert_properties, dtype=float)[:, :3], np.asarray(mesh.tri_verts, dtype=np.int64))


def signed_volume(mesh: MeshArrays) -> float:
    # Relative to the mesh's own centre: far from the origin the tetrahedra would cancel badly.
    tri = (mesh.vertices - mesh.vertices.mean(axis=0))[mesh.faces]
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
