"""Cubic Bézier flattening (only used when the caller asks for polylines or a clip cuts a curve)."""

from __future__ import annotations

import math

import numpy as np

from cad3d_pdf.core.model import Point

# Chord tolerance in the curve's own units divided into the control polygon length: enough points
# that a plotted arc looks round, bounded so a huge curve cannot explode the output.
_MIN_POINTS, _MAX_POINTS = 4, 64


def flatten_cubic(p0: Point, p1: Point, p2: Point, p3: Point, step: float) -> list[Point]:
    """Points along the curve including both ends, about ``step`` apart along the control polygon."""
    polygon = math.dist(p0, p1) + math.dist(p1, p2) + math.dist(p2, p3)
    count = min(_MAX_POINTS, max(_MIN_POINTS, math.ceil(polygon / step) if step > 0 else _MIN_POINTS))
    t = np.linspace(0.0, 1.0, count + 1)[:, None]
    u = 1.0 - t
    ctrl = np.array([p0, p1, p2, p3], dtype=float)
    pts = u**3 * ctrl[0] + 3 * u**2 * t * ctrl[1] + 3 * u * t**2 * ctrl[2] + t**3 * ctrl[3]
    return [(float(x), float(y)) for x, y in pts]
