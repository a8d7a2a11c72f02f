"""Closed outlines, hatches and loose linework -> filled regions, grouped by how they are extruded."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from cad3d_kit.conversion import ConversionWarning, SourceLocation

from .chaining import polygonize_pieces
from .entities import Collected, Piece
from .parts import ExtrusionKey, RegionStats, extrusion_key
from .regions import Region, nest_by_containment, ring_polygons
from .rules import LayerResolver


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
        stats.open_chains += result.open_chains
        stats.open_length += result.open_length
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
