"""Rooms of a plan: the spaces walls enclose and the zone outlines drawn on their own layers,
named from the label inside, each with its floor slab, area and perimeter, plus the totals.

Everything here is in output units, recentred (the pipeline's ``(drawing - offset) * scale``).
Which texts can name a room is decided in labels.py.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from ..parts import ExtrusionKey, Part
from ..regions import polygons_of
from ..units import OUTPUT_UNITS
from .labels import Label, labels_from_texts

__all__ = [
    "Label",
    "Room",
    "find_rooms",
    "is_zone_layer",
    "labels_from_texts",
    "room_parts",
    "rooms_report",
    "stated_area_checks",
    "unplaced_labels",
]

# Layer names of zone / space outlines (English, Russian, Persian).
_ZONE_WORDS = re.compile(
    r"(^|[^a-z])(zone|zones|space|spaces|room|rooms|area|areas)([^a-z]|$)|помещ|зон|комнат|فضا|اتاق",
    re.IGNORECASE,
)
# Wall gaps up to this fraction of the largest wall thickness are closed before faces are read:
# wall pieces drawn a hair apart at a corner must not let a room leak to the outside.
_CLOSE_FRACTION = 0.125
# Two zone outlines overlapping by more than this share of the smaller, and of about the same
# size, are one room drawn twice (on two layers, or an old and a new outline): the larger stays.
# A small zone inside a much larger one is its own room (and the larger one, enclosing two or
# more rooms, an outline).
_SAME_ZONE_OVERLAP = 0.5
_SAME_ZONE_SIZE = 1.5
# A space this much inside a larger zone counts as enclosed by it (see _grouping).
_INSIDE_GROUP = 0.8
# A label's stated area this far off the computed one is reported as a mismatch.
STATED_AREA_TOLERANCE = 0.15


@dataclass
class Room:
    """One room: its floor outline, size and name. ``labels`` are the other labels inside it."""

    name: str
    polygon: Polygon
    area: float
    perimeter: float
    source: str  # "walls" | "zone"
    label: str = ""  # the whole label text used (first line = number/name)
    labels: list[str] = field(default_factory=list)
    stated_area_m2: float | None = None
    stated: str = ""
    layer: str = ""  # the zone's layer


def is_zone_layer(layer: str) -> bool:
    """Whether closed outlines on ``layer`` are room/space/zone/area outlines."""
    return bool(_ZONE_WORDS.search(layer))


def _faces(barrier: list[Polygon], max_wall_thickness: float) -> list[Polygon]:
    """The bounded faces of the plane minus the barrier: the holes of its union, less islands."""
    if not barrier:
        return []
    close = max_wall_thickness * _CLOSE_FRACTION
    merged = shapely.union_all(np.asarray(barrier, dtype=object))
    if close > 0:
        merged = merged.buffer(close, join_style="mitre").buffer(-close, join_style="mitre")
    pieces = polygons_of(merged)
    holes = [Polygon(ring) for piece in pieces for ring in piece.interiors]
    if not holes:
        return []
    # A piece lying inside a hole (a column, a free-standing wall) is an island in that room.
    tree = shapely.STRtree(np.asarray(pieces, dtype=object))
    faces: list[Polygon] = []
    for hole in holes:
        inside = [pieces[i] for i in tree.query(hole, predicate="contains_properly")]
        faces.extend(polygons_of(hole.difference(shapely.union_all(inside))) if inside else [hole])
    return faces


def _is_room_sized(face: Polygon, min_area: float, max_wall_thickness: float) -> bool:
    """Not a tiny face, and not a sliver (the gap between the two lines of a double wall)."""
    if face.area < min_area:
        return False
    return max_wall_thickness <= 0 or not face.buffer(-max_wall_thickness / 2.0, join_style="mitre").is_empty


def _distinct_zones(zones: list[tuple[str, Polygon]]) -> list[tuple[str, Polygon]]:
    """Zones less those drawn twice (the same room on two layers, or twice on one), largest first."""
    kept: list[tuple[str, Polygon]] = []
    for layer, poly in sorted(zones, key=lambda z: -z[1].area):
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
            parts = polygons_of(poly)
            if not parts:
                continue
            poly = max(parts, key=lambda p: p.area)
        same = any(
            other.area <= _SAME_ZONE_SIZE * poly.area
            and poly.intersection(other).area >= _SAME_ZONE_OVERLAP * poly.area
            for _, other in kept
            if poly.intersects(other)
        )
        if not same:
            kept.append((layer, poly))
    return kept


def _reading_order(rooms: list[Room], row: float) -> list[Room]:
    """Top-left first: by rows (``row`` apart, from the top), then left to right."""

    def key(room: Room) -> tuple[float, float]:
        minx, _, _, maxy = room.polygon.bounds
        return (-math.floor(maxy / row) if row > 0 else -maxy, minx)

    return sorted(rooms, key=key)


def _name_rooms(rooms: list[Room], labels: list[Label]) -> None:
    """Each room takes the tallest label inside it (ties: the one nearest its centroid)."""
    if not rooms or not labels:
        return
    tree = shapely.STRtree(np.asarray([room.polygon for room in rooms], dtype=object))
    inside: dict[int, list[Label]] = {}
    for label in labels:
        for x, y in label.anchors or [(label.x, label.y)]:
            hits = tree.query(Point(x, y), predicate="intersects")
            if len(hits):
                # Nested zones: the smallest room holding the point is the one it names.
                best = min(hits.tolist(), key=lambda i: rooms[i].area)
                inside.setdefault(best, []).append(label)
                break
    for index, found in inside.items():
        room = rooms[index]
        centre = room.polygon.centroid
        tallest = max(label.height for label in found)

        def rank(label: Label, centre: Point = centre, tallest: float = tallest) -> tuple[bool, float]:
            return (label.height < 0.95 * tallest, math.hypot(label.x - centre.x, label.y - centre.y))

        ordered = sorted(found, key=rank)
        room.name = ordered[0].text
        room.label = "\n".join(ordered[0].lines) or ordered[0].text
        room.stated_area_m2 = ordered[0].stated_area_m2
        room.stated = ordered[0].stated
        room.labels = [label.text for label in ordered[1:]]
        for label in found:
            label.room = room.name


def _grouping(zones: list[tuple[str, Polygon]], faces: list[Polygon]) -> list[bool]:
    """Which zones enclose two or more other spaces (smaller zones, wall faces): a department,
    a flat or the gross-area outline, not a room."""
    spaces = [poly for _, poly in zones] + faces
    if len(spaces) < 3:
        return [False] * len(zones)
    tree = shapely.STRtree(np.asarray(spaces, dtype=object))
    result = []
    for index, (_, zone) in enumerate(zones):
        inside = 0
        for other in tree.query(zone, predicate="intersects").tolist():
            space = spaces[other]
            if other != index and space.area < zone.area:
                inside += zone.intersection(space).area >= _INSIDE_GROUP * space.area
        result.append(inside >= 2)
    return result


def find_rooms(
    walls: list[Polygon],
    openings: list[Polygon],
    zones: list[tuple[str, Polygon]],
    labels: list[Label],
    *,
    min_area: float,
    max_wall_thickness: float,
    outlines: list[tuple[str, Polygon]] | None = None,
) -> list[Room]:
    """Rooms, top-left first: zone outlines, and faces enclosed by walls (door and window gaps
    closed by ``openings``) that no zone already covers. The outside is no room; faces under
    ``min_area`` or narrower than ``max_wall_thickness`` are none either. Rooms without a label
    are "room 1", "room 2"... in reading order.

    A zone enclosing two or more other spaces (a department, the gross-area outline) is no room:
    it is appended to ``outlines`` when given, for the caller to report."""
    distinct = [(layer, poly) for layer, poly in _distinct_zones(zones) if poly.area >= min_area]
    faces = [face for face in _faces([*walls, *openings], max_wall_thickness) if face.area >= min_area]
    zone_rooms: list[Room] = []
    for (layer, poly), grouping in zip(distinct, _grouping(distinct, faces), strict=True):
        if grouping:
            if outlines is not None:
                outlines.append((layer, poly))
            continue
        zone_rooms.append(Room("", poly, poly.area, poly.length, "zone", layer=layer))
    zone_cover = shapely.union_all([room.polygon for room in zone_rooms]) if zone_rooms else None
    wall_rooms: list[Room] = []
    for face in faces:
        # Where a zone outline and a wall face coincide they are one room: the zone, as drawn.
        rest = polygons_of(face.difference(zone_cover)) if zone_cover is not None else [face]
        wall_rooms.extend(
            Room("", poly, poly.area, poly.length, "walls")
            for poly in rest
            if _is_room_sized(poly, min_area, max_wall_thickness)
        )
    rooms = _reading_order(zone_rooms + wall_rooms, math.sqrt(min_area) if min_area > 0 else 0.0)
    _name_rooms(rooms, labels)
    unnamed = 0
    for room in rooms:
        if not room.name:
            unnamed += 1
            room.name = f"room {unnamed}"
    return rooms


def room_parts(rooms: list[Room], slab_key: ExtrusionKey) -> list[Part]:
    """One floor slab per room, its own GLB node "<name> floor" (names made unique: "KITCHEN
    (2) floor")."""
    used: set[str] = set()
    parts: list[Part] = []
    for room in rooms:
        name, count = room.name, 1
        while name in used:  # also when the drawing itself names a room "KITCHEN (2)"
            count += 1
            name = f"{room.name} ({count})"
        used.add(name)
        parts.append(Part(f"{name} floor", room.polygon, slab_key, "slab", None))
    return parts


def _wall_thickness(walls: list[Polygon]) -> float:
    """Area-weighted median thickness of the wall pieces, each 2 * area / perimeter (exact for a
    long straight wall, and for a wall network whose both faces make up the perimeter)."""
    pieces = [p for wall in walls for p in polygons_of(wall) if p.length > 0 and p.area > 0]
    if not pieces:
        return 0.0
    widths = np.asarray([2.0 * p.area / p.length for p in pieces])
    weights = np.asarray([p.area for p in pieces])
    order = np.argsort(widths)
    cumulative = np.cumsum(weights[order])
    return float(widths[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def _round(value: float) -> float:
    """Nine significant digits: exact enough for mm² and for m³ of a mm-sized plan alike."""
    return float(f"{value:.9g}")


def _metric(value: float, metres: float, power: int) -> float:
    return _round(value * metres**power)


def rooms_report(rooms: list[Room], walls: list[Polygon], wall_height: float, unit: str) -> dict[str, Any]:
    """The report's rooms and totals, in output units and in metres (``unit`` is the output unit)."""
    metres = OUTPUT_UNITS.get(unit, 1.0)
    rows = []
    for room in rooms:
        centre = room.polygon.centroid
        row: dict[str, Any] = {
            "name": room.name,
            "label": room.label,
            "area": _round(room.area),
            "perimeter": _round(room.perimeter),
            "area_m2": _metric(room.area, metres, 2),
            "perimeter_m": _metric(room.perimeter, metres, 1),
            "source": room.source,
            "centroid": [_round(centre.x), _round(centre.y)],
        }
        if room.layer:
            row["layer"] = room.layer
        if room.labels:
            row["other_labels"] = room.labels
        if room.stated_area_m2 is not None:
            area_m2 = room.area * metres**2
            row["stated"] = room.stated
            row["stated_area_m2"] = _round(room.stated_area_m2)
            row["stated_difference"] = round((area_m2 - room.stated_area_m2) / room.stated_area_m2, 4)
        rows.append(row)
    net = float(sum(room.area for room in rooms))
    outline = shapely.union_all([*walls, *(room.polygon for room in rooms)]) if walls or rooms else Polygon()
    gross = float(sum(Polygon(p.exterior).area for p in polygons_of(outline)))
    wall_area = float(sum(wall.area for wall in walls))
    thickness = _wall_thickness(walls)
    length = wall_area / thickness if thickness > 0 else 0.0
    volume = wall_area * wall_height
    totals = {
        "rooms": len(rooms),
        "net_floor_area": _round(net),
        "gross_floor_area": _round(gross),
        "wall_area": _round(wall_area),
        "wall_thickness": _round(thickness),
        "wall_length": _round(length),
        "wall_length_method": "wall footprint area / area-weighted median thickness (2 * area / perimeter per piece)",
        "wall_volume": _round(volume),
        "net_floor_area_m2": _metric(net, metres, 2),
        "gross_floor_area_m2": _metric(gross, metres, 2),
        "wall_length_m": _metric(length, metres, 1),
        "wall_volume_m3": _metric(volume, metres, 3),
    }
    return {"rooms": rows, "totals": totals}


def unplaced_labels(labels: list[Label], limit: int = 50) -> list[dict[str, Any]]:
    """Labels in the style of the room names (their text height within 20 % of the median placed
    one) that lie in no room: a named space the walls do not close (a porch, a deck, an open
    doorway into the outside), or a label in a wall. For the report: a room a person sees and the
    model lacks. Call after find_rooms."""
    placed = [label.height for label in labels if label.room and label.height > 0]
    if not placed:
        return []
    typical = float(np.median(placed))
    rows = []
    for label in labels:
        if not label.room and 0.8 * typical <= label.height <= 1.25 * typical:
            row: dict[str, Any] = {"text": label.text, "x": _round(label.x), "y": _round(label.y)}
            if label.stated_area_m2 is not None:
                row["stated_area_m2"] = _round(label.stated_area_m2)
            rows.append(row)
    return rows[:limit]


def stated_area_checks(rooms: list[Room], unit: str, tolerance: float = STATED_AREA_TOLERANCE) -> list[dict[str, Any]]:
    """Rooms whose label states an area more than ``tolerance`` (relative) off the computed one:
    a sign of a wrong unit or a room face that leaks. For the plan step to turn into warnings."""
    metres = OUTPUT_UNITS.get(unit, 1.0)
    found = []
    for room in rooms:
        if room.stated_area_m2 is None or room.stated_area_m2 <= 0:
            continue
        area_m2 = room.area * metres**2
        difference = (area_m2 - room.stated_area_m2) / room.stated_area_m2
        if abs(difference) > tolerance:
            found.append(
                {
                    "room": room.name,
                    "stated": room.stated,
                    "stated_area_m2": round(room.stated_area_m2, 3),
                    "area_m2": round(area_m2, 3),
                    "difference": round(difference, 4),
                }
            )
    return found
