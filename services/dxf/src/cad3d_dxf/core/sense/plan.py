"""Architecture plans: walls, door and window openings, rooms with names, storeys.

Walls come from the layers that say so ("A-WALL", "Стены"...), or, when no layer does, from the
geometry itself: pairs of parallel lines a wall-thickness apart and thin closed outlines. Door
swings and window symbols cut openings through the walls (lintels above, sills below windows);
furniture, plants, opening symbols and footprints are no walls. Rooms are the spaces the walls
enclose (rooms.py). Plans side by side are separate storeys, each its own set of nodes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionWarning

from ..entities import Collected
from ..options import DxfOptions
from ..parts import ExtrusionKey, Part, RegionStats
from ..regions import polygons_of
from ..rules import LayerResolver
from ..walls import storey_clusters, storey_title, union_colours
from .decisions import PartsOutcome
from .openings import Opening, Swing, classify_gap, door_from_swing, swing_of, window_in_walls, window_symbols
from .rooms import (
    find_rooms,
    is_zone_layer,
    labels_from_texts,
    room_parts,
    rooms_report,
    stated_area_checks,
    unplaced_labels,
)
from .wall_geometry import (
    Band,
    band_of_polygon,
    bands_from_segments,
    find_gaps,
    join_corners,
    median_thickness,
    thin_width,
)

# Layers whose drawing is never a wall: outlines of the whole building, landscaping, furniture...
_FOOTPRINT = re.compile(r"footprint|outline|perimeter|контур|габарит", re.IGNORECASE)
_NOT_WALL = re.compile(
    r"plant|tree|shrub|landscap|topo|furn|fixt|equip|case|applian|hatch|pattern|textur|project|"
    r"elev|nivel|symbol|mebel|растен|дерев|мебел|оборуд",
    re.IGNORECASE,
)
_FOUNDATION = re.compile(r"stem|foot|found|фундам", re.IGNORECASE)
# Layers of openings that name neither doors nor windows ("A-OPENING"): window evidence in a gap.
_OPENING_LAYER = re.compile(r"opening|проем|проём|bazshow|بازشو", re.IGNORECASE)
_LANDSCAPE = re.compile(r"plant|tree|shrub|landscap|topo|растен|дерев", re.IGNORECASE)
_DOOR_BLOCK = re.compile(r"door|двер|(^|[^a-z])(dr|puerta)([^a-z]|$)|در", re.IGNORECASE)
_WINDOW_BLOCK = re.compile(r"window|окн|окон|پنجره|ventana|fenster", re.IGNORECASE)

DOOR_RADIUS_MM = (350.0, 1500.0)
GAP_WIDTH_MM = (500.0, 2500.0)
WINDOW_LENGTH_MM = (300.0, 3000.0)
STOREY_GAP_MM = 4000.0
# A hinge lies on its wall: within this share of the thickest wall from a wall piece.
HINGE_REACH = 0.25
# A leaf at least this share of the thickest wall (600 mm of 600) is a doorway's, not a cupboard's.
DOORWAY_LEAF = 1.0


@dataclass
class _Sorted:
    """The incoming parts, sorted by what they are in a plan."""

    walls: dict[tuple[str, ExtrusionKey], list[Part]] = field(default_factory=lambda: defaultdict(list))
    kept: list[Part] = field(default_factory=list)
    zones: list[tuple[str, Polygon]] = field(default_factory=list)
    footprints: list[Part] = field(default_factory=list)
    door_shapes: list[tuple[Polygon, str]] = field(default_factory=list)
    window_shapes: list[tuple[Polygon, str]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_layers: Counter[str] = field(default_factory=Counter)


def _wall_layers(parts: list[Part], collected: Collected, resolve: LayerResolver) -> set[str]:
    """Layers of the storey's walls; foundation walls ("S-STEM-WALL") only when nothing else is."""
    layers = collected.line_layers() | {p.layer for p in collected.pieces} | {p.layer for p in parts}
    walls = {name for name in layers if resolve(name).include and resolve(name).role == "wall"}
    storey = {name for name in walls if not _FOUNDATION.search(name)}
    return storey or walls


def _candidate(layer: str, resolve: LayerResolver, wall_layers: set[str]) -> bool:
    """Whether a layer's linework may be walls: a wall layer, or any plain layer when none is."""
    resolved = resolve(layer)
    if not resolved.include:
        return False
    if wall_layers:
        return layer in wall_layers
    return (
        resolved.role == ""
        and not _NOT_WALL.search(layer)
        and not _FOOTPRINT.search(layer)
        and not (is_zone_layer(layer))
    )


def _sort_parts(parts: list[Part], resolve: LayerResolver, wall_layers: set[str], max_wall: float) -> _Sorted:
    found = _Sorted()
    for part in parts:
        role, layer = part.role, part.layer
        if role == "" and _OPENING_LAYER.search(layer):
            found.window_shapes.append((part.polygon, f"layer {layer!r}"))
            found.dropped["opening symbols (door/window layers)"] += 1
        elif role in ("door", "window"):
            (found.door_shapes if role == "door" else found.window_shapes).append((part.polygon, f"layer {layer!r}"))
            found.dropped["opening symbols (door/window layers)"] += 1
        elif role not in ("", "wall"):
            found.kept.append(part)
        elif is_zone_layer(layer):
            found.zones.append((layer, part.polygon))
        elif _FOOTPRINT.search(layer):
            found.footprints.append(part)
        elif _candidate(layer, resolve, wall_layers) and thin_width(part.polygon) <= max_wall:
            found.walls[(layer, part.key)].append(part)
        elif _candidate(layer, resolve, wall_layers):
            found.dropped["enclosed faces (rooms are read from the walls)"] += 1
        else:
            found.dropped["not walls (furniture, plants, symbols or layers that are not wall layers)"] += 1
            found.dropped_layers[layer] += 1
    return found


def _segments(collected: Collected, layers: set[str], offset: np.ndarray, scale: float) -> np.ndarray:
    chunks = [collected.line_array(layer)[:, :4].reshape(-1, 2, 2) for layer in sorted(layers)]
    chunks += [np.stack([p.points[:-1], p.points[1:]], axis=1) for p in collected.pieces if p.layer in layers]
    if not chunks:
        return np.zeros((0, 2, 2))
    return (np.concatenate(chunks) - offset) * scale


def _swings(
    collected: Collected, resolve: LayerResolver, offset: np.ndarray, scale: float
) -> tuple[list[Swing], set[int]]:
    """Door swings among the open pieces of included layers, and the ids of the pieces drawing them."""
    low, high = (v * resolve.mm_to_output for v in DOOR_RADIUS_MM)
    swings: list[Swing] = []
    used: set[int] = set()
    for piece in collected.pieces:
        if not resolve(piece.layer).include or _LANDSCAPE.search(piece.layer):
            continue
        swing = swing_of((piece.points - offset) * scale, low, high)
        if swing is not None:
            swings.append(swing)
            used.add(id(piece))
    return swings, used


def _is_opening_layer(layer: str, resolve: LayerResolver) -> bool:
    return resolve(layer).include and (resolve(layer).role in ("door", "window") or bool(_OPENING_LAYER.search(layer)))


def _opening_lines(
    collected: Collected, resolve: LayerResolver, offset: np.ndarray, scale: float
) -> tuple[list[tuple[Polygon, str]], list[tuple[Polygon, str]]]:
    """Lines on door and window layers, as thin shapes: what a wall gap may be explained by."""
    doors: list[tuple[Polygon, str]] = []
    windows: list[tuple[Polygon, str]] = []
    layers = collected.line_layers() | {p.layer for p in collected.pieces}
    for layer in sorted(name for name in layers if _is_opening_layer(name, resolve)):
        segments = _segments(collected, {layer}, offset, scale)
        if not len(segments):
            continue
        shape = shapely.union_all(shapely.linestrings(segments)).buffer(1e-6 * scale + 1e-9)
        target = doors if resolve(layer).role == "door" else windows
        target.append((shape, f"drawing on layer {layer!r}"))
    return doors, windows


def _not_door_drawing(segments: np.ndarray, swings: list[Swing], tol: float) -> np.ndarray:
    """Mask of segments that are no door drawing: not a leaf (from the hinge to an end of the
    arc) and not wholly inside a swing."""
    keep = np.ones(len(segments), dtype=bool)
    if not swings or not len(segments):
        return keep
    for swing in swings:
        centre = np.asarray(swing.centre)
        leaf = np.zeros(len(segments), dtype=bool)
        for end in (swing.points[0], swing.points[-1]):
            for a, b in ((0, 1), (1, 0)):
                at_hinge = np.linalg.norm(segments[:, a] - centre, axis=1) <= tol
                at_end = np.linalg.norm(segments[:, b] - end, axis=1) <= 0.1 * swing.radius
                leaf |= at_hinge & at_end
        area = swing.sector.buffer(tol)
        inside = shapely.contains_xy(area, segments[:, 0, 0], segments[:, 0, 1]) & shapely.contains_xy(
            area, segments[:, 1, 0], segments[:, 1, 1]
        )
        keep &= ~(leaf | inside)
    return keep


def _outside_symbols(segments: np.ndarray, symbols: list[Polygon], tol: float) -> np.ndarray:
    keep = np.ones(len(segments), dtype=bool)
    for symbol in symbols:
        area = symbol.buffer(tol)
        keep &= ~(
            shapely.contains_xy(area, segments[:, 0, 0], segments[:, 0, 1])
            & shapely.contains_xy(area, segments[:, 1, 0], segments[:, 1, 1])
        )
    return keep


@dataclass
class _Walls:
    groups: dict[tuple[str, ExtrusionKey], list[tuple[Polygon, tuple[int, int, int] | None]]]
    bands: list[Band]
    thickness: float


def _build_walls(
    collected: Collected,
    resolve: LayerResolver,
    sorted_parts: _Sorted,
    candidates: set[str],
    swings: tuple[list[Swing], set[int]],
    offset: np.ndarray,
    scale: float,
) -> tuple[_Walls, list[Polygon]]:
    """Wall pieces per (layer, key) from line pairs and thin outlines, and window symbols found."""
    preset = resolve.preset
    assert preset is not None
    mm = resolve.mm_to_output
    min_wall, max_wall = preset.min_wall_thickness_mm * mm, preset.max_wall_thickness_mm * mm
    tol = 0.25 * min_wall
    opening_layers = {name for name in collected.line_layers() if _is_opening_layer(name, resolve)}
    everything = _segments(collected, candidates | opening_layers, offset, scale)
    everything = everything[_not_door_drawing(everything, swings[0], tol)]
    symbols = window_symbols(everything, min_wall, max_wall, (WINDOW_LENGTH_MM[0] * mm, WINDOW_LENGTH_MM[1] * mm))
    groups: dict[tuple[str, ExtrusionKey], list[tuple[Polygon, tuple[int, int, int] | None]]] = defaultdict(list)
    bands: list[Band] = []
    min_overlap = 2.0 * min_wall
    for layer in sorted(candidates):
        segs = _segments(collected, {layer}, offset, scale)
        if not len(segs):
            continue
        segs = segs[_not_door_drawing(segs, swings[0], tol) & _outside_symbols(segs, symbols, tol)]
        found = [
            b
            for b in bands_from_segments(segs, min_wall, max_wall, min_overlap)
            if not any(b.polygon.intersection(s.sector).area > 0.5 * b.polygon.area for s in swings[0])
        ]
        resolved = resolve(layer)
        key = ExtrusionKey(round(resolved.base, 9), round(resolved.height, 9))
        groups[(layer, key)].extend((poly, None) for poly in join_corners(found))
        bands.extend(found)
    for group_key, parts in sorted_parts.walls.items():
        groups[group_key].extend((p.polygon, p.color) for p in parts)
        for part in parts:
            # A straight strip stands for a band; a wall ring or an L has no single axis.
            band = band_of_polygon(part.polygon)
            if band.thickness <= max_wall and part.polygon.area >= 0.9 * band.polygon.area > 0:
                bands.append(band)
    polys = [p for parts in sorted_parts.walls.values() for p in (q.polygon for q in parts)]
    return _Walls(groups, bands, median_thickness(bands, polys)), symbols


def _openings(
    walls: _Walls, symbols: list[Polygon], swings: list[Swing], door_blocks: list[tuple[Polygon, str]], max_wall: float
) -> list[Opening]:
    """Doors from swings hinged on a wall, windows from symbols. Walls drawn straight through a
    door are cut too, but only for a leaf of doorway size (a cupboard door is smaller)."""
    solid = shapely.union_all([p for items in walls.groups.values() for p, _ in items])
    openings: list[Opening] = []
    for swing in swings:
        door = door_from_swing(swing, walls.bands, HINGE_REACH * max_wall)
        if door is None:
            continue
        drawn_through = solid.intersection(door.polygon).area > 0.5 * door.polygon.area
        if drawn_through and swing.radius < DOORWAY_LEAF * max_wall:
            continue
        if any(o.polygon.intersection(door.polygon).area > 0.8 * door.polygon.area for o in openings):
            continue  # the same swing drawn twice
        blocks = [what for box, what in door_blocks if box.intersects(door.polygon)]
        if blocks:
            door.evidence += f" ({blocks[0]})"
        openings.append(door)
    for symbol in symbols:
        if window_in_walls(symbol, walls.bands, 0.5 * max_wall):
            coords = np.asarray(symbol.exterior.coords)
            width = float(np.linalg.norm(coords[1] - coords[0]))
            openings.append(Opening("window", symbol, width, "window symbol: parallel lines across the wall"))
    return openings


def _evidence(
    collected: Collected, offset: np.ndarray, scale: float
) -> tuple[list[tuple[Polygon, str]], list[tuple[Polygon, str]]]:
    """Door and window blocks, as boxes (output units)."""
    doors: list[tuple[Polygon, str]] = []
    windows: list[tuple[Polygon, str]] = []
    for insert in collected.inserts:
        low = (np.asarray(insert.low) - offset) * scale
        high = (np.asarray(insert.high) - offset) * scale
        box = shapely.box(*low, *high)
        if _DOOR_BLOCK.search(insert.name):
            doors.append((box, f"door block {insert.name!r}"))
        elif _WINDOW_BLOCK.search(insert.name):
            windows.append((box, f"window block {insert.name!r}"))
    return doors, windows


def _opening_heights(resolve: LayerResolver) -> tuple[float, float, float]:
    """Door head, window sill and window head (output units) from the preset's opening categories."""
    preset = resolve.preset
    assert preset is not None
    mm = resolve.mm_to_output
    door_height, _, _ = preset.categories.get("door", (2100.0, 0.0, "door"))
    window_height, sill, _ = preset.categories.get("window", (1200.0, 900.0, "window"))
    return door_height * mm, sill * mm, (sill + window_height) * mm


def _wall_parts(walls: _Walls, openings: list[Opening]) -> list[Part]:
    """Merged wall pieces per layer and height, openings cut out."""
    cut = shapely.union_all([o.polygon for o in openings]) if openings else None
    result: list[Part] = []
    for (layer, key), items in walls.groups.items():
        polys = [p for p, _ in items]
        merged = polygons_of(shapely.union_all(np.asarray(polys, dtype=object)))
        colours = union_colours(polys, [c for _, c in items], merged)
        for poly, colour in zip(merged, colours, strict=True):
            pieces = polygons_of(poly.difference(cut)) if cut is not None and poly.intersects(cut) else [poly]
            result.extend(Part(layer, piece, key, "wall", colour) for piece in pieces if piece.area > 0)
    return result


def _opening_parts(openings: list[Opening], walls: list[Part], resolve: LayerResolver) -> list[Part]:
    """Lintels over doors and windows, sills under windows, each in the node of the wall it cuts."""
    door_head, sill, window_head = _opening_heights(resolve)
    if not walls:
        return []
    tree = shapely.STRtree(np.asarray([w.polygon for w in walls], dtype=object))
    parts: list[Part] = []
    for opening in openings:
        wall = walls[int(tree.nearest(opening.polygon))]
        base, top = wall.key.base, wall.key.base + wall.key.height
        opening.head = door_head if opening.kind == "door" else window_head
        opening.sill = 0.0 if opening.kind == "door" else sill
        if top - (base + opening.head) > 1e-9:
            key = ExtrusionKey(round(base + opening.head, 9), round(top - base - opening.head, 9))
            parts.append(Part(wall.layer, opening.polygon, key, "lintel", wall.color))
        if opening.sill > 0:
            parts.append(
                Part(wall.layer, opening.polygon, ExtrusionKey(base, round(opening.sill, 9)), "sill", wall.color)
            )
    return parts


def _gap_openings(
    walls: _Walls, wall_parts: list[Part], openings: list[Opening], evidence: tuple[list[Any], list[Any]], mm: float
) -> tuple[list[Opening], list[ConversionWarning]]:
    """Wall gaps no swing or symbol explained: an opening when a door/window layer or block lies
    in it, otherwise left open with a warning."""
    union = shapely.union_all([p.polygon for p in wall_parts]) if wall_parts else Polygon()
    taken = shapely.union_all([o.polygon for o in openings]) if openings else Polygon()
    found: list[Opening] = []
    warnings: list[ConversionWarning] = []
    for gap in find_gaps(walls.bands, union, GAP_WIDTH_MM[0] * mm, GAP_WIDTH_MM[1] * mm):
        if gap.polygon.buffer(0.1 * gap.width).intersection(taken).area > 0.3 * gap.polygon.area:
            continue
        opening = classify_gap(gap, *evidence)
        if opening is not None:
            found.append(opening)
            continue
        warnings.append(
            ConversionWarning(
                "wall_gap_open",
                f"a wall gap of {gap.width / (1000 * mm):.2f} m at ({gap.centre[0]:.6g}, {gap.centre[1]:.6g}) "
                "has no door or window symbol: it was left open",
            )
        )
    return found, warnings


def read_plan(
    parts: list[Part],
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """Walls with openings, rooms with floor slabs; ``parts`` are in output units, recentred."""
    preset = resolve.preset
    assert preset is not None
    mm = resolve.mm_to_output
    max_wall = preset.max_wall_thickness_mm * mm
    wall_layers = _wall_layers(parts, collected, resolve)
    sorted_parts = _sort_parts(parts, resolve, wall_layers, max_wall)
    layers = collected.line_layers() | {p.layer for p in collected.pieces}
    candidates = {name for name in layers if _candidate(name, resolve, wall_layers)}
    swings = _swings(collected, resolve, offset, scale)
    walls, symbols = _build_walls(collected, resolve, sorted_parts, candidates, swings, offset, scale)
    if not walls.groups:
        return _no_walls(parts, sorted_parts, collected, resolve, options, offset, scale, stats)
    blocks = _evidence(collected, offset, scale)
    openings = _openings(walls, symbols, swings[0], blocks[0], max_wall)
    wall_parts = _wall_parts(walls, openings)
    lines = _opening_lines(collected, resolve, offset, scale)
    evidence = (
        sorted_parts.door_shapes + blocks[0] + lines[0],
        sorted_parts.window_shapes + blocks[1] + lines[1],
    )
    more, warnings = _gap_openings(walls, wall_parts, openings, evidence, mm)
    if more:
        openings += more
        wall_parts = _wall_parts(walls, openings)
    stats.walls_from_lines += len(wall_parts)
    result = wall_parts + _opening_parts(openings, wall_parts, resolve) + sorted_parts.kept
    room_section, room_slabs, room_warnings = _rooms(
        collected, resolve, options, sorted_parts, wall_parts, openings, offset, scale
    )
    stats.rooms += len(room_slabs)
    result += room_slabs
    if not room_slabs and sorted_parts.footprints:
        result += _footprint_slabs(sorted_parts.footprints, resolve)
    elif sorted_parts.footprints:
        sorted_parts.dropped["footprints (the rooms are the floor)"] += len(sorted_parts.footprints)
    result, storeys = _split_storeys(result, wall_parts, collected, offset, scale, mm)
    report = {
        "walls": _walls_report(wall_parts, walls, "layers" if wall_layers else "geometry"),
        "openings": [o.as_report() for o in openings],
        "storeys": storeys,
        **room_section,
        "not_walls": {"dropped": dict(sorted_parts.dropped), "layers": dict(sorted_parts.dropped_layers)},
    }
    warnings += room_warnings + _dropped_warnings(sorted_parts)
    return PartsOutcome(result, report, warnings)


def _slab_key(resolve: LayerResolver) -> ExtrusionKey:
    assert resolve.preset is not None
    thickness = resolve.preset.slab_thickness_mm * resolve.mm_to_output
    return ExtrusionKey(round(-thickness, 9), round(thickness, 9))


def _rooms(
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    sorted_parts: _Sorted,
    wall_parts: list[Part],
    openings: list[Opening],
    offset: np.ndarray,
    scale: float,
) -> tuple[dict[str, Any], list[Part], list[ConversionWarning]]:
    """Rooms enclosed by the walls (doorways closed), their floor slabs, report and warnings."""
    assert resolve.preset is not None
    max_wall = resolve.preset.max_wall_thickness_mm * resolve.mm_to_output
    walls = [p.polygon for p in wall_parts]
    labels = labels_from_texts(collected.texts, offset, scale)
    outlines: list[tuple[str, Polygon]] = []
    rooms = find_rooms(
        walls,
        [o.polygon for o in openings],
        sorted_parts.zones,
        labels,
        min_area=2.0 * max_wall**2,
        max_wall_thickness=max_wall,
        outlines=outlines,
    )
    heights = Counter({p.key.height: p.polygon.area for p in wall_parts})
    wall_height = heights.most_common(1)[0][0] if heights else 0.0
    section = rooms_report(rooms, walls, wall_height, options.output_unit)
    warnings = [
        ConversionWarning(
            "room_area_mismatch",
            f"room {c['room']!r} states {c['stated']!r} ({c['stated_area_m2']} m²) but its outline encloses "
            f"{c['area_m2']} m² ({c['difference']:+.0%}): check the unit or a wall gap the room leaks through",
        )
        for c in stated_area_checks(rooms, options.output_unit)
    ]
    section["zone_outlines"] = [{"layer": layer, "area": float(poly.area)} for layer, poly in outlines]
    unplaced = unplaced_labels(labels)
    section["unplaced_labels"] = unplaced
    if unplaced:
        names = ", ".join(repr(row["text"]) for row in unplaced[:8])
        warnings.append(
            ConversionWarning(
                "room_not_closed",
                f"{len(unplaced)} room label(s) lie in no closed room ({names}): the walls around them leave "
                "a gap (an opening too wide, a missing wall), so they have no floor slab",
            )
        )
    return section, room_parts(rooms, _slab_key(resolve)), warnings


def _footprint_slabs(footprints: list[Part], resolve: LayerResolver) -> list[Part]:
    """A footprint is the floor when no room was found: one slab, not a storey-high block."""
    key = _slab_key(resolve)
    return [Part(f"{p.layer} floor", p.polygon, key, "slab", p.color) for p in footprints]


def _split_storeys(
    result: list[Part], wall_parts: list[Part], collected: Collected, offset: np.ndarray, scale: float, mm: float
) -> tuple[list[Part], list[dict[str, Any]]]:
    """Plans drawn side by side: each cluster of walls is a storey whose nodes carry its name."""
    walls = [p.polygon for p in wall_parts]
    clusters = storey_clusters(walls, STOREY_GAP_MM * mm)
    if len(clusters) < 2:
        return result, []
    texts = [
        (t.text, (t.x - offset[0]) * scale, (t.y - offset[1]) * scale, t.height * scale)
        for t in collected.texts
        if t.kind in ("TEXT", "MTEXT")
    ]
    boxes = [shapely.union_all([walls[i] for i in group]).bounds for group in clusters]
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0], -boxes[i][3]))
    names: list[str] = []
    for rank, index in enumerate(order):
        title = storey_title(boxes[index], texts) or f"plan {rank + 1}"
        names.append(title if title not in names else f"{title} ({rank + 1})")
    hulls = [shapely.box(*boxes[i]).buffer(STOREY_GAP_MM * mm / 2.0) for i in order]
    tree = shapely.STRtree(np.asarray(hulls, dtype=object))
    for part in result:
        point = part.polygon.representative_point()
        hits = tree.query(point, predicate="intersects")
        index = int(hits[0]) if len(hits) else int(tree.nearest(point))
        part.layer = f"{names[index]}: {part.layer}"
    storeys = [
        {"name": name, "bbox": [round(v, 6) for v in boxes[i]], "wall_pieces": len(clusters[i])}
        for name, i in zip(names, order, strict=True)
    ]
    return result, storeys


def _walls_report(wall_parts: list[Part], walls: _Walls, source: str) -> dict[str, Any]:
    area = float(sum(p.polygon.area for p in wall_parts))
    return {
        "count": len(wall_parts),
        "source": source,
        "layers": sorted({p.layer for p in wall_parts}),
        "thickness_median": round(walls.thickness, 6),
        "area": round(area, 6),
        "length": round(area / walls.thickness, 6) if walls.thickness > 0 else 0.0,
        "length_method": "wall footprint area / median thickness",
        "from_line_pairs": len([b for b in walls.bands]),
    }


def _dropped_warnings(sorted_parts: _Sorted) -> list[ConversionWarning]:
    if not sorted_parts.dropped_layers:
        return []
    listed = ", ".join(f"{layer!r} ({count})" for layer, count in sorted_parts.dropped_layers.most_common(8))
    total = sum(sorted_parts.dropped_layers.values())
    return [
        ConversionWarning(
            "plan_not_walls",
            f"{total} outline(s) on layers {listed} are not walls (furniture, plants, symbols, or plain layers "
            "beside the plan's wall layers): left out of the model; give their layers a rule to keep them",
        )
    ]


def _no_walls(
    parts: list[Part],
    sorted_parts: _Sorted,
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """No wall anywhere: a space plan's zone outlines are still its rooms (facility plans often
    have no walls at all); anything else is extruded as drawn, and the report says so."""
    report: dict[str, Any] = {"walls": {"count": 0, "source": "none"}, "openings": [], "storeys": []}
    if sorted_parts.zones:
        section, slabs, warnings = _rooms(collected, resolve, options, sorted_parts, [], [], offset, scale)
        stats.rooms += len(slabs)
        zone_layers = {layer for layer, _ in sorted_parts.zones}
        kept = [p for p in parts if p.layer not in zone_layers]
        return PartsOutcome(kept + slabs, {**report, **section}, warnings)
    warning = ConversionWarning(
        "no_walls_found",
        "no wall layer and no parallel wall lines were found: the plan is extruded as drawn, without "
        "walls, openings or rooms",
    )
    return PartsOutcome(parts, report, [warning])
