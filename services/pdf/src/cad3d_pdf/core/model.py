"""Intermediate drawing model between PDF extraction and DXF writing.

Everything here is already in drawing space (output units, y up), so the DXF writer only maps
records to entities and the clean-up passes (dedupe, dash merging) work on plain numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Stroke:
    """How a path is drawn; two paths with equal strokes may be merged."""

    layer: str
    color: RGB
    width_mm: float  # on paper, not scaled by the drawing scale: it maps to a DXF lineweight
    dashes: tuple[float, ...] = ()  # dash pattern in drawing units, alternating on/off


@dataclass(frozen=True)
class Line:
    start: Point
    end: Point
    stroke: Stroke


@dataclass(frozen=True)
class Polyline:
    points: tuple[Point, ...]
    closed: bool
    stroke: Stroke


@dataclass(frozen=True)
class BezierSpline:
    """A run of cubic Béziers joined end to start: 3n+1 control points, exact as a B-spline."""

    control_points: tuple[Point, ...]
    stroke: Stroke

    @property
    def knots(self) -> list[float]:
        # Knot multiplicity 3 at every joint keeps each Bézier piece exact, whatever the continuity.
        pieces = (len(self.control_points) - 1) // 3
        inner = [float(i) for i in range(1, pieces) for _ in range(3)]
        return [0.0] * 4 + inner + [float(pieces)] * 4


# One edge of a fill boundary: 2 points for a line, 4 control points for a cubic Bézier.
Edge = tuple[Point, ...]


@dataclass(frozen=True)
class Fill:
    boundaries: tuple[tuple[Edge, ...], ...]
    layer: str
    color: RGB


@dataclass(frozen=True)
class Text:
    text: str
    insert: Point  # baseline start
    height: float  # DXF cap height in drawing units
    rotation: float  # degrees, counter-clockwise
    font: str
    color: RGB
    layer: str


@dataclass(frozen=True)
class MText:
    lines: tuple[str, ...]
    insert: Point  # top-left corner of the first line
    char_height: float
    line_spacing: float  # distance between baselines in drawing units
    rotation: float
    font: str
    color: RGB
    layer: str


@dataclass
class PageDrawing:
    """Everything extracted from one page, ready for DXF."""

    width: float  # page size in drawing units
    height: float
    lines: list[Line] = field(default_factory=list)
    polylines: list[Polyline] = field(default_factory=list)
    splines: list[BezierSpline] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    mtexts: list[MText] = field(default_factory=list)
    raster_lines: list[tuple[Point, Point]] = field(default_factory=list)
    raster_circles: list[tuple[Point, float]] = field(default_factory=list)
