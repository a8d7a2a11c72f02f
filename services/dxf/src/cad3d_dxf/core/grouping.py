"""Closed outlines, hatches and loose linework -> filled regions, grouped by how they are extruded."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import shapely

from cad3d_kit.conversion import ConversionWarning, SourceLocation

from .chaining import LooseResult, polygonize_pieces
from .closing import OpenChains
from .entities import Collected, Piece
from .parts import ExtrusionKey, RegionStats, extrusion_key
from .regions import Region, nest_by_containment, ring_polygons
from .rules import LayerResolver, Preset
from .walls import parallel_wall_bands

# Open outlines are warned one by one up to this many per layer and in all (the longest first);
# the rest of a layer is one summary warning, so 10,000 loose lines do not make 10,000 warnings.
OPEN_WARNINGS_PER_LAYER = 50
OPEN_WARNINGS_TOTAL = 200
MAX_OPEN_LISTED = 100  # RegionStats.open_outlines entries kept for the report


def _segments(points: np.ndarray) -> np.ndarray:
    return np.stack([points[:-1], points[1:]], axis=1)


def _point(xy: np.ndarray) -> str:
    return f"({xy[0]:.6g}, {xy[1]:.6g})"


def _paired_into_walls(chains: OpenChains, segments: np.ndarray, preset: Preset, mm_per_unit: float) -> np.ndarray:
    """Which open chains of a wall layer the plan step will pair into walls (walls.py): they are
    not lost, so they get no warning. ``mm_per_unit``: millimetres per drawing unit."""
    min_gap = preset.min_wall_thickness_mm / mm_per_unit
    bands = parallel_wall_bands(segments, min_gap, preset.max_wall_thickness_mm / mm_per_unit, min_gap)
    paired = np.zeros(len(chains), dtype=bool)
    if bands:
        hit, _ = shapely.STRtree(np.asarray(bands, dtype=object)).query(
            shapely.points(chains.middles), predicate="dwithin", distance=min_gap * 1e-3
        )
        paired[hit] = True
    return paired


def _record_closing(layer: str, result: LooseResult, stats: RegionStats, warned_before: int) -> int:
    """Closed gaps and what stays open on one layer: counters, report entries and warnings.

    Returns how many open outlines were warned one by one."""
    where = SourceLocation(layer=layer)
    if result.chains_closed:
        stats.chains_closed += result.chains_closed
        stats.max_closed_gap = max(stats.max_closed_gap, result.max_closed_gap)
        stats.max_closed_relative = max(stats.max_closed_relative, result.max_closed_relative)
        stats.warnings.append(
            ConversionWarning(
                "chains_closed",
                f"layer {layer!r}: {result.chains_closed} gap(s) up to {result.max_closed_gap:.6g} drawing units "
                f"({result.max_closed_relative:.2%} of the outline's size) bridged to close open outlines",
                where,
            )
        )
    chains = result.open
    for index in range(len(chains)):
        if len(stats.open_outlines) >= MAX_OPEN_LISTED:
            break
        stats.open_outlines.append(
            {
                "layer": layer,
                "x": float(chains.middles[index, 0]),
                "y": float(chains.middles[index, 1]),
                "length": float(chains.lengths[index]),
                "start": chains.starts[index].tolist(),
                "end": chains.ends[index].tolist(),
            }
        )
    listed = min(len(chains), OPEN_WARNINGS_PER_LAYER, max(OPEN_WARNINGS_TOTAL - warned_before, 0))
    for index in range(listed):
        stats.warnings.append(
            ConversionWarning(
                "open_outline",
                f"open outline on layer {layer!r} at {_point(chains.middles[index])}, "
                f"{chains.lengths[index]:.6g} drawing units long, ends {_point(chains.starts[index])} and "
                f"{_point(chains.ends[index])}: it encloses nothing, so it is not in the model",
                where,
            )
        )
    if len(chains) > listed:
        rest = chains.lengths[listed:]
        stats.warnings.append(
            ConversionWarning(
                "open_outline",
                f"{len(rest)} {'more ' if listed else ''}open outline(s) on layer {layer!r}, "
                f"{rest.sum():.6g} drawing units long in all (the longest {rest[0]:.6g}): they enclose nothing, "
                "so they are not in the model",
                where,
            )
        )
    return listed


def build_regions(
    collected: Collected, resolve: LayerResolver, scale: float, heal_tol: float, min_area: float, stats: RegionStats
) -> dict[ExtrusionKey, list[Region]]:
    """Filled regions grouped by how they are extruded (nesting happens inside a group only).

    ``collected.contours`` is emptied once its rings are polygons, before the loose linework is
    polygonised: on a large plan the two would otherwise be alive together.
    """
    groups: dict[ExtrusionKey, list[Region]] = defaultdict(list)

    plain = [c for c in collected.contours if c.hatch_group < 0 and resolve(c.layer).include]
    for contour, polys in zip(plain, ring_polygons([c.points for c in plain], min_area), strict=True):
        key = extrusion_key(resolve(contour.layer), contour.z, contour.thickness, scale)
        groups[key].extend(Region(p, contour.layer, contour.handle, contour.color) for p in polys)
        stats.closed_contours += 1

    hatch_rings: dict[int, list[Any]] = defaultdict(list)
    for contour in collected.contours:
        if contour.hatch_group >= 0 and resolve(contour.layer).include:
            hatch_rings[contour.hatch_group].append(contour)
    for rings in hatch_rings.values():
        first = rings[0]
        polys = [p for ps in ring_polygons([r.points for r in rings], min_area) for p in ps]
        key = extrusion_key(resolve(first.layer), first.z, 0.0, scale)
        # A hatch fills its own boundary paths by even-odd (islands are holes) before it meets
        # the other outlines of its group.
        filled, _ = nest_by_containment([Region(p, first.layer, first.handle, first.color) for p in polys])
        groups[key].extend(filled)
        stats.hatch_regions += len(filled)
    del plain, hatch_rings
    collected.contours.clear()

    pieces_by_layer: dict[str, list[Piece]] = defaultdict(list)
    for piece in collected.pieces:
        pieces_by_layer[piece.layer].append(piece)
    open_warned = 0
    for layer in sorted(collected.line_layers() | set(pieces_by_layer)):
        resolved = resolve(layer)
        if not resolved.include:
            continue
        lines = collected.line_array(layer)
        pieces = pieces_by_layer.get(layer, [])
        zs = np.concatenate([lines[:, 4], [p.z for p in pieces]])
        result = polygonize_pieces(lines[:, :4].reshape(-1, 2, 2), [p.points for p in pieces], heal_tol, min_area)
        stats.loose_faces += len(result.faces)
        stats.hole_faces += result.hole_faces
        stats.healed_gaps += result.healed_gaps
        stats.max_healed_gap = max(stats.max_healed_gap, result.max_healed_gap)
        if len(result.open) and resolved.role == "wall" and resolve.plan_inference and resolve.preset is not None:
            segments = np.concatenate([lines[:, :4].reshape(-1, 2, 2), *(_segments(p.points) for p in pieces)])
            walls = _paired_into_walls(result.open, segments, resolve.preset, scale / resolve.mm_to_output)
            stats.open_chains_in_walls += int(walls.sum())
            result.open = result.open.subset(~walls)
            result.open_chains = len(result.open)
            result.open_length = float(result.open.lengths.sum())
        stats.open_chains += result.open_chains
        stats.open_length += result.open_length
        open_warned += _record_closing(layer, result, stats, open_warned)
        if result.healed_gaps:
            stats.warnings.append(
                ConversionWarning(
                    "gaps_healed",
                    f"{result.healed_gaps} gap(s) up to {result.max_healed_gap:.6g} drawing units closed between "
                    "line ends",
                    SourceLocation(layer=layer),
                )
            )
        key = extrusion_key(resolved, float(np.median(zs)) if len(zs) else 0.0, 0.0, scale)
        groups[key].extend(Region(face, layer, "") for face in result.faces)
    return groups
