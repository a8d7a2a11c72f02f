"""Shared value types of the pipeline: how a part is extruded, the part itself, region counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionWarning

from .rules import ResolvedLayer

# Bump whenever the output for the same input and options changes: it is part of the result-cache key.
CONVERTER_VERSION = "cad3d-dxf/0.3.0"
FLATTEN_RELATIVE = 1e-4  # curve sagitta as a fraction of the drawing diagonal
HEAL_RELATIVE = 1e-5  # endpoint gaps healed up to this fraction of the drawing diagonal


@dataclass(frozen=True, slots=True)
class ExtrusionKey:
    base: float  # output units
    height: float  # output units, > 0


@dataclass(slots=True)
class Part:
    layer: str
    polygon: Polygon  # output units, recentred
    key: ExtrusionKey
    role: str
    color: tuple[int, int, int] | None = None  # the entity's; None: the layer decides (colours.py)


@dataclass
class RegionStats:
    """Counters the region steps fill in for the report."""

    closed_contours: int = 0
    hatch_regions: int = 0
    loose_faces: int = 0
    hole_faces: int = 0
    duplicates_dropped: int = 0
    healed_gaps: int = 0
    max_healed_gap: float = 0.0
    open_chains: int = 0
    open_length: float = 0.0
    # Gaps bridged relative to their own chain's size (closing.py), the largest in drawing units
    # and as a fraction of that chain's bounding-box diagonal.
    chains_closed: int = 0
    max_closed_gap: float = 0.0
    max_closed_relative: float = 0.0
    # Open chains that stayed open, longest first per layer, at most MAX_OPEN_LISTED in all:
    # {"layer", "x", "y" (halfway along it), "length", "start": [x, y], "end": [x, y]}, drawing units.
    open_outlines: list[dict[str, Any]] = field(default_factory=list)
    open_chains_in_walls: int = 0  # open chains of wall layers that pair into walls: not lost, not warned
    rooms: int = 0
    walls_from_lines: int = 0
    warnings: list[ConversionWarning] = field(default_factory=list)


def extrusion_key(resolved: ResolvedLayer, z: float, thickness: float, scale: float) -> ExtrusionKey:
    """Base and height (output units) of an outline: its layer rule, elevation and thickness."""
    base = resolved.base + z * scale
    height = resolved.height
    if thickness and not resolved.height_from_user:
        height = abs(thickness) * scale
        if thickness < 0:
            base -= height
    return ExtrusionKey(round(base, 9), round(height, 9))
