"""PyMuPDF path items (``get_cdrawings``) -> connected sub-paths of line and cubic segments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cad3d_pdf.core.bezier import flatten_cubic
from cad3d_pdf.core.model import Point

# Points closer than this (PDF points) are the same point when chaining path items.
JOIN_EPS = 1e-3
# Curve flattening step in PDF points (about 0.7 mm on paper).
FLATTEN_STEP_PT = 2.0

# A segment in page space: ("l", p0, p1) or ("c", p0, c1, c2, p1).
Segment = tuple[Any, ...]


@dataclass
class SubPath:
    segments: list[Segment]
    closed: bool


def _points_of(item: tuple[Any, ...]) -> list[Segment]:
    """Segments of one ``get_cdrawings`` item (coordinates are plain tuples there)."""
    kind = item[0]
    if kind == "l":
        return [("l", item[1], item[2])]
    if kind == "c":
        return [("c", item[1], item[2], item[3], item[4])]
    # Rectangles and quads keep the winding of the lines they replace (the non-zero fill rule
    # needs it): PyMuPDF records it in the rectangle's orientation and the quad's corner naming.
    if kind == "re":
        x0, y0, x1, y1 = item[1]
        if len(item) > 2 and item[2] == 1:
            corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
        else:
            corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    elif kind == "qu":
        ul, ur, ll, lr = item[1]
        corners = [ul, ll, lr, ur]
    else:
        return []
    return [("l", corners[i], corners[(i + 1) % 4]) for i in range(4)] + [("close",)]


def build_subpaths(items: list[tuple[Any, ...]], close_path: bool) -> list[SubPath]:
    """Chain path items into connected sub-paths (page space)."""
    subpaths: list[SubPath] = []
    current: list[Segment] = []

    def finish(closed: bool) -> None:
        nonlocal current
        if current:
            start, end = current[0][1], current[-1][-1]
            subpaths.append(SubPath(current, closed or math.dist(start, end) <= JOIN_EPS))
        current = []

    for item in items:
        segments = _points_of(item)
        if segments and segments[-1] == ("close",):  # rectangles and quads are their own sub-path
            finish(False)
            current = segments[:-1]
            finish(True)
            continue
        for segment in segments:
            if current and math.dist(current[-1][-1], segment[1]) > JOIN_EPS:
                finish(False)
            current.append(segment)
    finish(close_path)
    return subpaths


def flatten_segments(segments: list[Segment]) -> list[Point]:
    """The polyline through the segments, curves flattened (``FLATTEN_STEP_PT``)."""
    points: list[Point] = [segments[0][1]]
    for segment in segments:
        if segment[0] == "l":
            points.append(segment[2])
        else:
            points.extend(flatten_cubic(*segment[1:5], step=FLATTEN_STEP_PT)[1:])
    return points
