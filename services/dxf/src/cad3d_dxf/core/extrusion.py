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

_INT32_MAX = int(np.iinfo(np.int32).max)


@dataclass(slots=True)
class MeshArrays:
    vertices: np.ndarray  # (n, 3) float64
    faces: np.ndarray  # (m, 3) int64, or int32 in finished meshes (see _compact)

    @staticmethod
    def empty() -> MeshArrays:
        return MeshArrays(np.zeros((0, 3)), np.zeros((0, 3), np.int64))

    @staticmethod
    def concatenate(parts: list[MeshArrays], *, consume: bool = False) -> MeshArrays:
        """One mesh of all ``parts``. With ``consume`` the list is emptied while the result is
        filled, each part dropped once copied, so a layer's geometry is never held twice."""
        if not parts:
            return MeshArrays.empty()
        if not consume:
            offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
            return MeshArrays(
                np.concatenate([p.vertices for p in parts]),
                np.concatenate([p.faces + off for p, off in zip(parts, offsets, strict=True)]),
            )
        vertex_total = sum(len(p.vertices) for p in parts)
        vertices = np.empty((vertex_total, 3), dtype=np.result_type(*(p.vertices for p in parts)))
        index_type = np.int32 if vertex_total <= _INT32_MAX else np.int64  # as _compact
        faces = np.empty((sum(len(p.faces) for p in parts), 3), dtype=index_type)
        vertex_end, face_end = len(vertices), len(faces)
        while parts:  # from the back, so popping is cheap
            part = parts.pop()
            vertex_start, face_start = vertex_end - len(part.vertices), face_end - len(part.faces)
            vertices[vertex_start:vertex_end] = part.vertices
            faces[face_start:face_end] = part.faces
            faces[face_start:face_end] += vertex_start
            vertex_end, face_end = vertex_start, face_start
        return MeshArrays(vertices, faces)


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


def _solid_from_cap(points: np.ndarray, cap: np.ndarray, base: float, height: float) -> MeshArrays | None:
    """Caps plus side walls on the cap's boundary edges; None when the result is not closed."""
    if len(cap) == 0:
        return None
    n = len(points)
    cap = cap.copy()
    # Triangle winding is not specified: make every top triangle counter-clockwise (+Z).
    flip = _cross(points[cap[:, 0]], points[cap[:, 1]], points[cap[:, 2]]) < 0
    cap[flip] = cap[flip][:, ::-1]
    boundary = _boundary_edges(cap, n)
    i, j = boundary[:, 0], boundary[:, 1]
    # Counter-clockwise boundary edge i -> j has the solid on its left: the wall faces right (outward).
    sides = np.concatenate([np.column_stack([i, j, j + n]), np.column_stack([i, j + n, i + n])])
    faces = np.concatenate([cap[:, ::-1], cap + n, sides])
    if not is_watertight(faces):
        return None
    vertices = np.empty((2 * n, 3))
    vertices[:n, :2] = points
    vertices[n:, :2] = points
    vertices[:n, 2] = base
    vertices[n:, 2] = base + height
    return MeshArrays(vertices, faces)


def extrude_polygon(polygon: Polygon, base: float, height: float) -> MeshArrays:
    """Closed mesh of ``polygon`` extruded from z=base to z=base+height (height > 0).

    Side walls are built on the boundary edges of the cap triangulation itself (edges used by one
    triangle only), so the solid is closed whatever the triangulator did with odd vertices.
    Earcut on the ring vertices handles nearly everything; rings touching at a vertex or spikes
    fall back to merged vertices with GEOS's constrained Delaunay, and last to Manifold.
    """
    coords, ring_of = shapely.get_coordinates(shapely.get_rings(polygon), return_index=True)
    closing = np.r_[ring_of[1:] != ring_of[:-1], True]
    coords, ring_of = coords[~closing], ring_of[~closing]
    keep = _clean_rings(coords, ring_of)
    flat, ring_of = coords[keep], ring_of[keep]
    sizes = np.bincount(ring_of, minlength=int(ring_of.max()) + 1 if len(ring_of) else 0)
    if len(sizes) == 0 or sizes[0] < 3:
        return MeshArrays.empty()
    if np.any(sizes[1:] < 3):  # a hole that collapsed to nothing: drop it
        valid = sizes >= 3
        flat, ring_of = flat[valid[ring_of]], ring_of[valid[ring_of]]
        sizes = sizes[valid]
    ends = np.cumsum(sizes).astype(np.uint32)
    starts = np.r_[0, ends[:-1]].astype(np.int64)
    rings = [flat[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    target = polygon.area
    cap = _earcut_cap(flat, ends)
    area_ok = len(cap) > 0 and math.isclose(_cap_area(flat, cap), target, rel_tol=1e-9)
    if area_ok:
        mesh = _solid_from_cap(flat, cap, base, height)
        if mesh is not None:
            return mesh
    # Merge coincident ring vertices (rings touching at a point) and try again.
    unique, inverse = np.unique(flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    merged = inverse[cap]
    if not area_ok:
        fallback = _delaunay_cap(Polygon(rings[0], rings[1:]), unique)
        if len(fallback) and math.isclose(_cap_area(unique, fallback), target, rel_tol=1e-9):
            merged = fallback
    mesh = _solid_from_cap(unique, merged, base, height)
    if mesh is not None:
        return mesh
    # Rings pinched at a vertex make a vertical edge shared by four walls: Manifold splits it.
    return _manifold_extrude(rings, base, height)


def _manifold_extrude(rings: list[np.ndarray], base: float, height: float) -> MeshArrays:
    section = manifold3d.CrossSection(rings, manifold3d.FillRule.EvenOdd)
    solid = manifold3d.Manifold.extrude(section, height).translate((0.0, 0.0, base))
    mesh = solid.to_mesh64()
    return MeshArrays(np.asarray(mesh.vert_properties, dtype=float)[:, :3], np.asarray(mesh.tri_verts, dtype=np.int64))


def _boundary_edges(cap: np.ndarray, n: int) -> np.ndarray:
    """Directed cap edges whose reverse is not a cap edge: the outline of the triangulation."""
    edges = np.concatenate([cap[:, [0, 1]], cap[:, [1, 2]], cap[:, [2, 0]]])
    forward = edges[:, 0] * n + edges[:, 1]
    backward = np.sort(edges[:, 1] * n + edges[:, 0])
    # Sorted search rather than np.isin: numpy's hash-based isin is several times slower here.
    position = np.minimum(np.searchsorted(backward, forward), len(backward) - 1)
    return edges[backward[position] != forward]


def _face_volumes(vertices: np.ndarray, faces: np.ndarray, z_reference: np.ndarray | float) -> np.ndarray:
    """Each face's share of the enclosed volume (divergence theorem with the field (0, 0, z)).

    Exact for any closed mesh: the sum over faces of (mean z - reference) x signed XY area. It
    needs no (faces, 3, 3) temporaries, so it stays cheap on meshes with millions of faces, and
    measuring z from each part's own reference keeps far-away parts precise.
    """
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    doubled_area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    mean_z = (a[:, 2] + b[:, 2] + c[:, 2]) / 3.0 - z_reference
    return np.asarray(doubled_area * mean_z / 2.0)


def signed_volume(mesh: MeshArrays) -> float:
    if len(mesh.faces) == 0:
        return 0.0
    return float(_face_volumes(mesh.vertices, mesh.faces, float(mesh.vertices[:, 2].min())).sum())


def is_watertight(faces: np.ndarray) -> bool:
    """Every directed edge appears once and its reverse appears once (closed, consistently wound)."""
    if len(faces) == 0:
        return False
    size = int(faces.max()) + 1
    # Edge keys a * size + b straight from the face columns, sorted in place: no edge-pair array
    # and no sorted copies (a few times less temporary memory on a large part).
    a, b, c = (faces[:, i].astype(np.int64, copy=False) for i in range(3))
    forward = np.concatenate([a * size + b, b * size + c, c * size + a])
    forward.sort()
    if np.any(forward[1:] == forward[:-1]):
        return False
    backward = np.concatenate([b * size + a, c * size + b, a * size + c])
    backward.sort()
    return bool(np.array_equal(forward, backward))


_BATCH_VERTICES = 20_000


@dataclass
class ExtrudedParts:
    pieces: list[MeshArrays]  # the parts' meshes, in batches
    volumes: np.ndarray  # (parts,) signed volume of each part's mesh
    watertight: np.ndarray  # (parts,) bool

    @property
    def mesh(self) -> MeshArrays:
        """All parts of one call as one mesh (a copy)."""
        return MeshArrays.concatenate(self.pieces)


def _ring_neighbours(keep_index: np.ndarray, ring_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Previous/next position of each kept point within its own ring (wrapping around)."""
    count = len(keep_index)
    positions = np.arange(count)
    ring = ring_of[keep_index]
    first = np.r_[True, ring[1:] != ring[:-1]]
    last = np.r_[ring[1:] != ring[:-1], True]
    starts = np.maximum.accumulate(np.where(first, positions, 0))
    ends = np.minimum.accumulate(np.where(last, positions, count)[::-1])[::-1]
    prev = np.where(first, ends, positions - 1)
    nxt = np.where(last, starts, positions + 1)
    return prev, nxt


def _clean_rings(points: np.ndarray, ring_of: np.ndarray) -> np.ndarray:
    """Indices of ring points to keep: no repeated and no exactly collinear points.

    Earcut silently drops collinear vertices from the caps; walls would still use them and the
    solid would get T-junctions. Repeated points go first (keeping one of each run), then collinear
    ones: doing both at once would drop every copy of a repeated corner.
    """
    keep = np.arange(len(points))
    for _ in range(16):
        prev, _nxt = _ring_neighbours(keep, ring_of)
        p = points[keep]
        keep = keep[np.any(p != p[prev], axis=1)]
        prev, nxt = _ring_neighbours(keep, ring_of)
        p = points[keep]
        cross = _cross(p[prev], p, p[nxt])
        if np.all(cross != 0):
            return keep
        keep = keep[cross != 0]
    return keep


def extrude_many(polygons: list[Polygon], bases: np.ndarray, heights: np.ndarray) -> ExtrudedParts:
    """Extrude many polygons at once: hole-free ones in one numpy pass, the rest one by one.

    Floor plans and site plans have thousands of small parts; per-part numpy overhead would
    dominate the conversion, so simple parts share every array operation and only earcut runs
    per ring.
    """
    count = len(polygons)
    volumes = np.zeros(count)
    watertight = np.zeros(count, dtype=bool)
    pieces: list[MeshArrays] = []
    array = np.asarray(polygons, dtype=object)
    simple = shapely.get_num_interior_rings(array) == 0 if count else np.zeros(0, dtype=bool)
    simple_index = np.flatnonzero(simple)
    done = np.zeros(count, dtype=bool)
    # Batches of a bounded number of vertices keep the temporary index arrays small.
    vertex_counts = shapely.get_num_coordinates(array[simple_index]) if len(simple_index) else np.zeros(0)
    batch_of = np.cumsum(vertex_counts) // _BATCH_VERTICES
    for batch_index in np.split(simple_index, np.flatnonzero(np.diff(batch_of)) + 1) if len(simple_index) else []:
        batch = _extrude_simple(array[batch_index], bases[batch_index], heights[batch_index])
        if batch is not None:
            mesh, batch_volumes = batch
            pieces.append(_compact(mesh))
            volumes[batch_index] = batch_volumes
            watertight[batch_index] = True
            done[batch_index] = True
    for index in np.flatnonzero(~done):
        mesh = extrude_polygon(polygons[index], float(bases[index]), float(heights[index]))
        if len(mesh.faces) == 0:
            continue
        volumes[index] = signed_volume(mesh)
        watertight[index] = is_watertight(mesh.faces)
        pieces.append(_compact(mesh))
    return ExtrudedParts(pieces, volumes, watertight)


def _compact(mesh: MeshArrays) -> MeshArrays:
    """The mesh with 32-bit face indices: a third of a large model's memory is its face indices,
    and once a part's volume and closedness are known they are only looked up, never multiplied."""
    if len(mesh.vertices) > _INT32_MAX:
        return mesh
    return MeshArrays(mesh.vertices, mesh.faces.astype(np.int32))


def _extrude_simple(
    polygons: np.ndarray, bases: np.ndarray, heights: np.ndarray
) -> tuple[MeshArrays, np.ndarray] | None:
    """All hole-free polygons in one pass; None if any of them needs the careful path."""
    coords, ring_of = shapely.get_coordinates(shapely.get_exterior_ring(polygons), return_index=True)
    closing = np.r_[ring_of[1:] != ring_of[:-1], True]  # each ring repeats its first point last
    coords, ring_of = coords[~closing], ring_of[~closing]
    keep = _clean_rings(coords, ring_of)
    points, ring_of = coords[keep], ring_of[keep]
    sizes = np.bincount(ring_of, minlength=len(polygons))
    if np.any(sizes < 3):
        return None
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    caps = []
    for start, size in zip(offsets.tolist(), sizes.tolist(), strict=True):
        ring_points = points[start : start + size]
        cap = mapbox_earcut.triangulate_float64(ring_points, np.array([size], dtype=np.uint32))
        if len(cap) != 3 * (size - 2):  # a simple ring of n points always gives n - 2 triangles
            return None
        caps.append(cap.astype(np.int64) + start)
    cap = np.concatenate(caps).reshape(-1, 3)
    cap_ring = ring_of[cap[:, 0]]
    a, b, c = points[cap[:, 0]], points[cap[:, 1]], points[cap[:, 2]]
    cross = _cross(a, b, c)
    areas = np.bincount(cap_ring, weights=np.abs(cross) / 2.0, minlength=len(polygons))
    if not np.allclose(areas, shapely.area(polygons), rtol=1e-9, atol=0.0):
        return None
    flip = cross < 0
    cap[flip] = cap[flip][:, ::-1]
    n = len(points)
    boundary = _boundary_edges(cap, n)
    i, j = boundary[:, 0], boundary[:, 1]
    sides = np.concatenate([np.column_stack([i, j, j + n]), np.column_stack([i, j + n, i + n])])
    faces = np.concatenate([cap[:, ::-1], cap + n, sides])
    if not is_watertight(faces):
        return None
    vertices = np.empty((2 * n, 3))
    vertices[:n, :2] = points
    vertices[n:, :2] = points
    vertices[:n, 2] = bases[ring_of]
    vertices[n:, 2] = (bases + heights)[ring_of]
    vertex_part = np.concatenate([ring_of, ring_of])
    face_part = vertex_part[faces[:, 0]]
    shares = _face_volumes(vertices, faces, bases[face_part])
    volumes = np.bincount(face_part, weights=shares, minlength=len(polygons))
    return MeshArrays(vertices, faces), volumes
