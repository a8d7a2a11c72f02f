"""Loose LINE/ARC/open-polyline pieces -> enclosed faces: heal small gaps, node, polygonise.

Endpoints closer than the healing tolerance are snapped to one point (each such cluster is a
healed gap, reported). The linework is then noded and polygonised by GEOS, which finds every
enclosed face even where lines cross, touch or dangle (a dimension line touching an outline does
not lose the outline). Faces inside a hole of another face are holes themselves (even-odd), so a
plate drawn with loose lines keeps its holes. Chains still open afterwards are closed where their
own gap is small against their own size, and what stays open is described (closing.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from .closing import OpenChains, close_chains, even_odd
from .regions import polygons_of


@dataclass
class LooseResult:
    faces: list[Polygon] = field(default_factory=list)  # filled faces (even depth)
    hole_faces: int = 0
    healed_gaps: int = 0
    max_healed_gap: float = 0.0
    open_chains: int = 0
    open_length: float = 0.0
    chains_closed: int = 0  # gaps bridged relative to their own chain (closing.py)
    max_closed_gap: float = 0.0
    max_closed_relative: float = 0.0
    open: OpenChains = field(default_factory=OpenChains)  # what stays open, longest first


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
    del faces_geom
    # Even-odd over faces: a face inside a hole ring of another face is a hole (a cut-out).
    filled, result.hole_faces = even_odd(faces)
    leftovers = np.concatenate([shapely.get_parts(g) for g in (cuts, dangles, invalid)])
    if len(leftovers) == 0:  # the usual case for clean outlines: nothing more to do
        result.faces = filled
        return result
    closure = close_chains(leftovers, faces, filled, min_area)
    result.faces = closure.faces
    result.hole_faces += closure.new_holes
    result.chains_closed = closure.closed
    result.max_closed_gap = closure.max_gap
    result.max_closed_relative = closure.max_relative_gap
    result.open = closure.open
    result.open_chains = len(closure.open)
    result.open_length = closure.open_length
    return result
