"""Open chains left after polygonising -> near-closed outlines closed, the rest described.

The global healing (chaining.heal_endpoints) snaps endpoints within a tolerance relative to the
whole drawing, so a 0.5 mm gap in a 100 mm cut-out on a 2 m sheet stays open and the cut-out would
be lost. Here each gap is judged against the chain it belongs to: two free ends are bridged when
each is the other's nearest free end (a chain never bridges to another chain's end when its own
end is closer) and the gap is at most CLOSE_RELATIVE of the chain's size (of the smaller chain when
two chains meet). Only bridges that end up bounding a face count as closures; what stays open is
returned with its ends and length, so the caller can warn about every piece of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from .regions import polygons_of

# A gap is bridged up to this fraction of its chain's bounding-box diagonal: a 100 mm cut-out
# closes over 2 mm, while a doorway (900 mm) in a 10 m single-line outline (14 m across) stays open.
CLOSE_RELATIVE = 0.02


@dataclass
class OpenChains:
    """Chains that stay open, longest first (drawing units)."""

    starts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    ends: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0))
    middles: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # halfway along each chain
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # the chains (LineStrings)

    def __len__(self) -> int:
        return len(self.lengths)

    def subset(self, keep: np.ndarray) -> OpenChains:
        return OpenChains(self.starts[keep], self.ends[keep], self.lengths[keep], self.middles[keep], self.lines[keep])


@dataclass
class Closure:
    faces: list[Polygon]  # the filled faces after closing (even-odd with the closed rings)
    closed: int = 0  # bridges that bound a face
    max_gap: float = 0.0
    max_relative_gap: float = 0.0  # largest closed gap over its chain's size
    new_holes: int = 0  # closed rings that cut a hole into a face
    open: OpenChains = field(default_factory=OpenChains)
    open_length: float = 0.0


def _components(a: np.ndarray, b: np.ndarray, count: int) -> np.ndarray:
    """Connected components of a graph given as edges a[i]-b[i] (label = smallest node index)."""
    labels = np.arange(count)
    while True:  # label propagation; chains are short paths, so it converges fast
        merged = labels.copy()
        np.minimum.at(merged, a, labels[b])
        np.minimum.at(merged, b, labels[a])
        merged = merged[merged]
        if np.array_equal(merged, labels):
            return labels
        labels = merged


def describe_open(edges: np.ndarray) -> tuple[OpenChains, float]:
    """Open edges merged into chains; their ends, lengths and middle points, longest first."""
    if len(edges) == 0:
        return OpenChains(), 0.0
    chains = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(edges)))
    lengths = shapely.length(chains)
    order = np.argsort(-lengths, kind="stable")
    chains, lengths = chains[order], lengths[order]
    return (
        OpenChains(
            shapely.get_coordinates(shapely.get_point(chains, 0)),
            shapely.get_coordinates(shapely.get_point(chains, -1)),
            lengths,
            shapely.get_coordinates(shapely.line_interpolate_point(chains, 0.5, normalized=True)),
            chains,
        ),
        float(lengths.sum()),
    )


@dataclass
class _Bridges:
    lines: np.ndarray  # LineStrings
    gaps: np.ndarray
    relative: np.ndarray


def _find_bridges(edges: np.ndarray, all_faces: list[Polygon]) -> _Bridges | None:
    """Gaps between mutually nearest free ends that are small against their chains' sizes."""
    ends = np.concatenate(
        [shapely.get_coordinates(shapely.get_point(edges, 0)), shapely.get_coordinates(shapely.get_point(edges, -1))]
    )
    nodes, node_of = np.unique(ends, axis=0, return_inverse=True)
    node_of = node_of.reshape(-1)
    half = len(edges)
    degree = np.bincount(node_of, minlength=len(nodes))
    free = np.flatnonzero(degree == 1)
    if len(free) < 2:
        return None
    component = _components(node_of[:half], node_of[half:], len(nodes))
    # Each chain's size: the diagonal of the box around all its edges.
    bounds = shapely.bounds(edges)
    edge_component = component[node_of[:half]]
    low = np.full((len(nodes), 2), np.inf)
    high = np.full((len(nodes), 2), -np.inf)
    np.minimum.at(low, edge_component, bounds[:, :2])
    np.maximum.at(high, edge_component, bounds[:, 2:])
    points = shapely.points(nodes[free])
    (source, target), distance = shapely.STRtree(points).query_nearest(
        points, exclusive=True, return_distance=True, all_matches=False
    )
    nearest = np.full(len(free), -1)
    gap = np.full(len(free), np.inf)
    nearest[source], gap[source] = target, distance
    pair = (nearest >= 0) & (nearest[np.maximum(nearest, 0)] == np.arange(len(free))) & (np.arange(len(free)) < nearest)
    first, second = np.flatnonzero(pair), nearest[pair]
    comp_a, comp_b = component[free[first]], component[free[second]]
    size_a = np.linalg.norm(high[comp_a] - low[comp_a], axis=1)
    size_b = np.linalg.norm(high[comp_b] - low[comp_b], axis=1)
    relative = gap[first] / np.maximum(np.minimum(size_a, size_b), 1e-300)
    keep = (relative <= CLOSE_RELATIVE) & (gap[first] > 0)
    first, second, relative = first[keep], second[keep], relative[keep]
    if len(first) and all_faces:
        # An end lying on a face's outline is attached there (a line touching a part), not free.
        on_face = np.zeros(len(free), dtype=bool)
        tree = shapely.STRtree(np.asarray(all_faces, dtype=object))
        probe = np.concatenate([first, second])
        hit, _ = tree.query(points[probe], predicate="touches")
        on_face[probe[hit]] = True
        keep = ~(on_face[first] | on_face[second])
        first, second, relative = first[keep], second[keep], relative[keep]
    if len(first) == 0:
        return None
    segments = np.stack([nodes[free[first]], nodes[free[second]]], axis=1)
    return _Bridges(shapely.linestrings(segments), gap[first], relative)


def _on_boundary(lines: np.ndarray, faces: list[Polygon], scale: float) -> np.ndarray:
    """Which lines run along a face's outline (tested at their middle)."""
    if len(lines) == 0 or not faces:
        return np.zeros(len(lines), dtype=bool)
    middles = shapely.line_interpolate_point(lines, 0.5, normalized=True)
    tree = shapely.STRtree(shapely.boundary(np.asarray(faces, dtype=object)))
    hit, _ = tree.query(middles, predicate="dwithin", distance=max(scale, 1e-300) * 1e-9)
    result = np.zeros(len(lines), dtype=bool)
    result[hit] = True
    return result


def even_odd(faces: list[Polygon]) -> tuple[list[Polygon], int]:
    """Faces inside an even number of other faces' hole rings are filled; the rest are holes."""
    hole_rings = [shapely.Polygon(ring) for face in faces for ring in face.interiors]
    if not hole_rings:
        return faces, 0
    probes = shapely.point_on_surface(np.asarray(faces, dtype=object))
    face_index, _ = shapely.STRtree(hole_rings).query(probes, predicate="within")
    depth = np.bincount(face_index, minlength=len(faces))
    return [face for face, d in zip(faces, depth, strict=True) if d % 2 == 0], int(np.count_nonzero(depth % 2))


def _xor_into(filled: list[Polygon], rings: list[Polygon]) -> tuple[list[Polygon], int]:
    """Even-odd of the filled faces with new closed areas: only the faces they meet change."""
    union = shapely.union_all(np.asarray(rings, dtype=object))
    hit = np.unique(shapely.STRtree(np.asarray(filled, dtype=object)).query(union, predicate="intersects"))
    if len(hit) == 0:
        return filled + rings, 0
    met = [filled[i] for i in hit.tolist()]
    met_union = shapely.union_all(np.asarray(met, dtype=object))
    holes = int(np.count_nonzero(shapely.within(shapely.point_on_surface(np.asarray(rings)), met_union)))
    untouched = np.ones(len(filled), dtype=bool)
    untouched[hit] = False
    result = [f for f, keep in zip(filled, untouched, strict=True) if keep]
    result += [p for face in met for p in polygons_of(face.difference(union))]
    result += polygons_of(union.difference(met_union))
    return result, holes


def close_chains(leftovers: np.ndarray, all_faces: list[Polygon], filled: list[Polygon], min_area: float) -> Closure:
    """Close near-closed chains among the noded ``leftovers`` (lines no face uses).

    ``all_faces`` are every face polygonize found, ``filled`` those the even-odd rule fills.
    """
    closure = Closure(filled)
    bridges = _find_bridges(leftovers, all_faces)
    if bridges is None:
        closure.open, closure.open_length = describe_open(leftovers)
        return closure
    local = shapely.get_parts(shapely.node(shapely.multilinestrings(np.concatenate([leftovers, bridges.lines]))))
    faces_geom = shapely.polygonize(local)
    new_faces = [p for p in polygons_of(faces_geom) if p.area > min_area]
    bounds = shapely.total_bounds(leftovers)
    scale = float(np.linalg.norm(bounds[2:] - bounds[:2]))
    used = _on_boundary(bridges.lines, new_faces, scale)
    if used.any():
        rings, _ = even_odd(new_faces)
        closure.faces, closure.new_holes = _xor_into(filled, rings) if filled else (rings, 0)
        closure.closed = int(used.sum())
        closure.max_gap = float(bridges.gaps[used].max())
        closure.max_relative_gap = float(bridges.relative[used].max())
    still_open = leftovers[~_on_boundary(leftovers, new_faces, scale)] if used.any() else leftovers
    closure.open, closure.open_length = describe_open(still_open)
    return closure
