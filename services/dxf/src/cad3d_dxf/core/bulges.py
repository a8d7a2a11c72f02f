"""Flatten polylines with bulges (arc segments) to points, all segments of a polyline at once.

ezdxf's path flattening walks Bezier curves in Python per segment; plates and laser-cut panels
carry thousands of bulge segments, so this does the same arithmetic with numpy.
"""

from __future__ import annotations

import numpy as np


def bulge_midpoints(points: np.ndarray, bulges: np.ndarray, closed: bool) -> np.ndarray:
    """The middle point of every arc segment: with the vertices, enough for a bounding box."""
    ends = np.roll(points, -1, axis=0)
    segments = len(points) if closed else len(points) - 1
    start, end, bulge = points[:segments], ends[:segments], bulges[:segments]
    chord = end - start
    perpendicular = np.column_stack([-chord[:, 1], chord[:, 0]])
    return np.asarray((start + end) / 2.0 - perpendicular * (bulge / 2.0)[:, None])


def bulge_points(points: np.ndarray, bulges: np.ndarray, closed: bool, distance: float) -> np.ndarray:
    """Flattened outline of a 2D polyline; ``distance`` is the largest allowed sagitta.

    Segment i runs from vertex i to vertex i+1 (wrapping when closed) and is an arc with
    included angle 4*atan(bulge), counter-clockwise for a positive bulge. The last vertex of an
    open polyline ends the result; a closed outline does not repeat its first point.
    """
    count = len(points)
    if count < 2:
        return points.copy()
    ends = np.roll(points, -1, axis=0)
    segments = count if closed else count - 1
    start, end, bulge = points[:segments], ends[:segments], bulges[:segments]
    chord = end - start
    length = np.hypot(chord[:, 0], chord[:, 1])
    # A bulge this small is a straight segment to double precision (and would overflow below).
    arc = (np.abs(bulge) > 1e-9) & (length > 0)
    theta = 4.0 * np.arctan(bulge)
    safe_bulge = np.where(arc, bulge, 1.0)
    perpendicular = np.column_stack([-chord[:, 1], chord[:, 0]])
    centre = (start + end) / 2.0 + perpendicular * ((1.0 - safe_bulge**2) / (4.0 * safe_bulge))[:, None]
    half_chord_ratio = np.where(arc, 2.0 * np.abs(np.sin(theta / 2.0)), 1.0)
    radius = np.where(arc, length / half_chord_ratio, 0.0)
    step = 2.0 * np.arccos(np.clip(1.0 - np.minimum(distance, radius) / np.where(arc, radius, 1.0), -1.0, 1.0))
    pieces = np.where(arc, np.ceil(np.abs(theta) / np.maximum(step, 1e-6)), 1).astype(np.int64)
    pieces = np.clip(pieces, 1, 1024)
    # Every segment contributes its start point plus (pieces - 1) interior arc points.
    segment_of = np.repeat(np.arange(segments), pieces)
    first = np.r_[0, np.cumsum(pieces)[:-1]]
    k = np.arange(len(segment_of)) - first[segment_of]
    fraction = k / pieces[segment_of]
    start_angle = np.arctan2(start[:, 1] - centre[:, 1], start[:, 0] - centre[:, 0])
    angle = start_angle[segment_of] + theta[segment_of] * fraction
    on_arc = np.column_stack(
        [
            centre[segment_of, 0] + radius[segment_of] * np.cos(angle),
            centre[segment_of, 1] + radius[segment_of] * np.sin(angle),
        ]
    )
    result = np.where(arc[segment_of][:, None], on_arc, start[segment_of])
    # Segment starts are the exact vertices, not recomputed from the centre.
    result[first] = start
    if not closed:
        result = np.vstack([result, points[-1:]])
    return result
