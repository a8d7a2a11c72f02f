"""Loose LINE/ARC/open-polyline pieces -> enclosed faces: heal small gaps, node, polygonise.

Endpoints closer than the healing tolerance are snapped to one point (each such cluster is a
healed gap, reported). The linework is then noded and polygonised by GEOS, which finds every
enclosed face even where lines cross, touch or dangle (a dimension line touching an outline does
not lose the outline). Faces inside a hole of another face are holes themselves (even-odd), so a
plate drawn with loose lines keeps its holes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from .regions import polygons_of


@dataclass
class LooseResult:
    faces: list[Polygon] = field(default_factory=list)  # filled faces (even depth)
    hole_faces: int = 0
    healed_gaps: int = 0
    max_healed_gap: float = 0.0
    open_chains: int = 0
    open_length: float = 0.0


def _cluster_labels(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Connected components of 'closer than tolerance' among points (label = smallest index)."""
    labels = np.arange(len(points))
    if tolerance <= 0 or len(points) < 2:
        return labels
    geometries = shapely.points(points)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="dwithin", distance=tolerance)
    del tree, geometries
    mask = left != right
    left, right = left[mask], right[mask]
    if len(left) == 0:
        return labels
    while True:  # label propagation; converges in a few rounds for real gap clusters
        merged = labels.copy()
        np.minimum.at(merged, left, labels[right])
        merged = merged[merged]
        if np.array_equal(merged, labels):
            return labels
        labels = merged


def heal_endpoints(
    segments: np.ndarray, polylines: list[np.ndarray], tolerance: float
) -> tuple[np.ndarray, list[np.ndarray], int, float]:
    """Snap endpoints of segments (k, 2, 2) and polylines lying within ``tolerance`` onto one point."""
    ends = np.concatenate([segments.reshape(-1, 2)] + [np.stack([p[0], p[-1]]) for p in polylines])
    if len(ends) == 0:
        return segments, polylines, 0, 0.0
    labels = _cluster_labels(ends, tolerance)
    targets = ends[labels]
    moved = np.linalg.norm(ends - targets, axis=1)
    # Float noise (an arc end at cos(90 deg) = 6e-17) is snapped too but is not worth reporting.
    moved_mask = moved > tolerance * 1e-3
    if not (moved > 0).any():
        return segments, polylines, 0, 0.0
    healed = len(np.unique(labels[moved_mask]))
    segment_ends = 2 * len(segments)
    segments = targets[:segment_ends].reshape(-1, 2, 2)
    poly_targets = targets[segment_ends:]
    snapped = []
    for index, line in enumerate(polylines):
        line = line.copy()
        line[0], line[-1] = poly_targets[2 * index], poly_targets[2 * index + 1]
        snapped.append(line)
    return segments, snapped, healed, float(moved.max())


def polygonize_pieces(
    segments: np.ndarray, polylines: list[np.ndarray], tolerance: float, min_area: float
) -> LooseResult:
    """Faces enclosed by straight segments (k, 2, 2) and open polylines of one layer."""
    result = LooseResult()
    polylines = [p for p in polylines if len(p) >= 2]
    if len(segments) == 0 and not polylines:
        return result
    segments, polylines, result.healed_gaps, result.max_healed_gap = heal_endpoints(segments, polylines, tolerance)
    parts = [shapely.linestrings(segments)] if len(segments) else []
    if polylines:
        coords = np.concatenate(polylines)
        indices = np.repeat(np.arange(len(polylines)), [len(p) for p in polylines])
        parts.append(shapely.linestrings(coords, indices=indices))
    lines = np.concatenate(parts)
    del parts
    lines = lines[shapely.length(lines) > 0]
    if len(lines) == 0:
        return result
    # Each step below copies the whole linework; dropping every input once used keeps at most two
    # copies alive (a plan's walls are tens of thousands of lines).
    collection = shapely.multilinestrings(lines)
    del lines
    noded = shapely.node(collection)
    del collection
    noded_parts = shapely.get_parts(noded)
    del noded
    faces_geom, cuts, dangles, invalid = shapely.polygonize_full(noded_parts)
    del noded_parts
    faces = [p for p in polygons_of(faces_geom) if p.area > min_area]
    leftovers = np.concatenate([shapely.get_parts(g) for g in (cuts, dangles, invalid)])
    if len(leftovers):
        # line_merge on the collection, without a costly union: the pieces are already noded.
        result.open_chains = len(shapely.get_parts(shapely.line_merge(shapely.multilinestrings(leftovers))))
        result.open_length = float(shapely.length(leftovers).sum())
    if not faces:
        return result
    # Even-odd over faces: count the hole-rings of other faces that contain each face.
    hole_rings = [shapely.Polygon(ring) for face in faces for ring in face.interiors]
    depth = np.zeros(len(faces), dtype=int)
    if hole_rings:
        probes = shapely.point_on_surface(np.asarray(faces, dtype=object))
        tree = shapely.STRtree(hole_rings)
        face_index, _ = tree.query(probes, predicate="within")
        depth = np.bincount(face_index, minlength=len(faces))
    result.faces = [face for face, d in zip(faces, depth, strict=True) if d % 2 == 0]
    result.hole_faces = int(np.count_nonzero(depth % 2))
    return result
