"""Clean-up passes on extracted geometry: duplicates, overlapping collinear lines, dashed pieces.

PDF plots often stroke the same edge twice (hidden + visible views, hatch borders) and plot
drivers emit dashed lines as separate short strokes. Both are fixed on straight LINE records:
collinear lines of the same stroke are grouped by their carrier line and their intervals merged.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, replace

from cad3d_pdf.core.model import BezierSpline, Line, PageDrawing, Point, Polyline, Stroke

# Relative to the page diagonal: points closer than this are equal, for dedupe keys.
_REL_EPS = 1e-5
_ANGLE_EPS = 1e-4  # radians


# (start, end) along the carrier, a reference line on it, its direction, merged from dashes?
_Interval = tuple[float, float, Line, tuple[float, float], bool]


@dataclass
class CleanupStats:
    duplicates_removed: int = 0
    overlaps_merged: int = 0
    dashes_merged: int = 0


def _carrier(line: Line, eps: float) -> tuple[tuple[int, int], float, float, tuple[float, float]]:
    """Key of the infinite line carrying ``line`` plus its interval along the direction."""
    (x1, y1), (x2, y2) = line.start, line.end
    angle = math.atan2(y2 - y1, x2 - x1) % math.pi
    if math.pi - angle < _ANGLE_EPS / 2:
        angle = 0.0
    ux, uy = math.cos(angle), math.sin(angle)
    offset = x1 * -uy + y1 * ux  # signed distance of the carrier from the origin
    t1, t2 = x1 * ux + y1 * uy, x2 * ux + y2 * uy
    key = (round(angle / _ANGLE_EPS), round(offset / (eps * 10)))
    return key, min(t1, t2), max(t1, t2), (ux, uy)


def _point_on(key_line: Line, direction: tuple[float, float], t: float) -> Point:
    (x1, y1) = key_line.start
    ux, uy = direction
    t0 = x1 * ux + y1 * uy
    return (x1 + (t - t0) * ux, y1 + (t - t0) * uy)


def merge_lines(
    lines: list[Line], extent: float, merge_dashes: bool, stats: CleanupStats
) -> tuple[list[Line], dict[Stroke, tuple[float, float]]]:
    """Merge overlapping collinear lines; with ``merge_dashes`` also chains of dashes.

    Returns the lines and, for merged dash chains, the observed (dash, gap) lengths per new
    stroke so the writer can give them a linetype.
    """
    eps = max(extent, 1e-9) * _REL_EPS
    groups: dict[tuple[Stroke, tuple[int, int]], list[tuple[float, float, Line, tuple[float, float]]]]
    groups = defaultdict(list)
    for line in lines:
        if math.dist(line.start, line.end) <= eps:
            stats.duplicates_removed += 1
            continue
        key, t1, t2, direction = _carrier(line, eps)
        groups[(line.stroke, key)].append((t1, t2, line, direction))
    result: list[Line] = []
    dashed: dict[Stroke, tuple[float, float]] = {}
    for (stroke, _key), members in groups.items():
        members.sort(key=lambda m: (m[0], m[1]))
        runs: list[list[tuple[float, float, Line, tuple[float, float]]]] = [[members[0]]]
        for member in members[1:]:
            previous_end = max(m[1] for m in runs[-1])
            if member[0] <= previous_end + eps:
                runs[-1].append(member)
            else:
                runs.append([member])
        intervals: list[_Interval] = []
        for run in runs:
            start, end = run[0][0], max(m[1] for m in run)
            if len(run) > 1:
                exact = len({(round(m[0] / eps), round(m[1] / eps)) for m in run})
                stats.duplicates_removed += len(run) - exact
                stats.overlaps_merged += exact - 1
            intervals.append((start, end, run[0][2], run[0][3], False))
        chain_stroke = stroke
        if merge_dashes and len(intervals) >= 3 and not stroke.dashes:
            intervals, pattern = _merge_dash_chains(intervals, stats)
            if pattern is not None:
                chain_stroke = replace(stroke, dashes=pattern)
                dashed[chain_stroke] = pattern
        for start, end, ref, direction, chained in intervals:
            if not chained and len(intervals) == 1 and (start, end) == _interval(ref, direction):
                result.append(ref)
            else:
                line_stroke = chain_stroke if chained else stroke
                result.append(Line(_point_on(ref, direction, start), _point_on(ref, direction, end), line_stroke))
    return result, dashed


def _interval(line: Line, direction: tuple[float, float]) -> tuple[float, float]:
    ux, uy = direction
    a = line.start[0] * ux + line.start[1] * uy
    b = line.end[0] * ux + line.end[1] * uy
    return (min(a, b), max(a, b))


def _merge_dash_chains(
    intervals: list[_Interval], stats: CleanupStats
) -> tuple[list[_Interval], tuple[float, float] | None]:
    """Chain short pieces separated by short, regular gaps into one line per chain."""
    lengths = [i[1] - i[0] for i in intervals]
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(intervals)]
    dash = statistics.median(lengths)
    gap = statistics.median(gaps)
    # A dash chain: pieces no longer than 4 typical dashes, gaps no longer than 3 typical gaps.
    if gap <= 0 or dash <= 0:
        return intervals, None
    out: list[_Interval] = []
    chain = [intervals[0]]
    found = False

    def flush() -> None:
        nonlocal found
        if len(chain) >= 3:
            found = True
            stats.dashes_merged += len(chain) - 1
            out.append((chain[0][0], chain[-1][1], chain[0][2], chain[0][3], True))
        else:
            out.extend(chain)

    for previous, current in itertools.pairwise(intervals):
        short = current[1] - current[0] <= 4 * dash and previous[1] - previous[0] <= 4 * dash
        if short and current[0] - previous[1] <= 3 * gap:
            chain.append(current)
        else:
            flush()
            chain = [current]
    flush()
    return out, ((dash, gap) if found else None)


def _rounded(points: tuple[Point, ...], eps: float) -> tuple[tuple[int, int], ...]:
    return tuple((round(x / eps), round(y / eps)) for x, y in points)


def drop_duplicate_shapes(drawing: PageDrawing, extent: float, stats: CleanupStats) -> None:
    """Remove polylines and splines drawn twice with the same stroke (either direction)."""
    eps = max(extent, 1e-9) * _REL_EPS * 10
    seen: set[tuple[object, ...]] = set()
    polylines: list[Polyline] = []
    for polyline in drawing.polylines:
        key = _rounded(polyline.points, eps)
        canonical = min(key, key[::-1])
        full = (polyline.stroke, polyline.closed, canonical)
        if full in seen:
            stats.duplicates_removed += 1
            continue
        seen.add(full)
        polylines.append(polyline)
    splines: list[BezierSpline] = []
    for spline in drawing.splines:
        key = _rounded(spline.control_points, eps)
        full = (spline.stroke, False, min(key, key[::-1]))
        if full in seen:
            stats.duplicates_removed += 1
            continue
        seen.add(full)
        splines.append(spline)
    drawing.polylines = polylines
    drawing.splines = splines


def clean_page(drawing: PageDrawing, merge_dashes: bool) -> tuple[CleanupStats, dict[Stroke, tuple[float, float]]]:
    stats = CleanupStats()
    extent = math.hypot(drawing.width, drawing.height)
    drawing.lines, dashed = merge_lines(drawing.lines, extent, merge_dashes, stats)
    drop_duplicate_shapes(drawing, extent, stats)
    return stats, dashed
