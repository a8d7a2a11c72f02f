"""Drawing frames: axis-aligned rectangles that enclose (nearly) everything, and what speaks for
them being paper rather than object.

A rectangle alone proves nothing: a plate's outline or a building's outer wall also encloses all
else. Each piece of evidence has a weight (sheet.py adds the title block's); ``EVIDENCE_WEIGHTS``
and ``accepted`` say when the sum is enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .sheet_lines import Linework, covered_fraction

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

# Sides must be drawn along this share of their length (gaps for zone labels are allowed).
_SIDE_COVERED = 0.9
# A frame holds at least this share of all points (corner marks, trim marks may lie outside).
ENCLOSES = 0.9
# Long lines considered as rectangle sides: this share of the drawing's width/height at least.
_LONG = 0.3
_MAX_SIDE_LINES = 16
# Sheet proportions (long / short side): ISO A, ANSI A/C/E, ANSI B/D, ARCH.
SHEET_RATIOS: dict[str, float] = {
    "ISO A (1:√2)": math.sqrt(2.0),
    "ANSI A/C/E (8.5x11)": 11.0 / 8.5,
    "ANSI B/D (11x17)": 17.0 / 11.0,
}
_SHEET_SIZES_MM: dict[str, tuple[float, float]] = {
    "A0": (1189, 841),
    "A1": (841, 594),
    "A2": (594, 420),
    "A3": (420, 297),
    "A4": (297, 210),
    "ANSI A": (279.4, 215.9),
    "ANSI B": (431.8, 279.4),
    "ANSI C": (558.8, 431.8),
    "ANSI D": (863.6, 558.8),
    "ANSI E": (1117.6, 863.6),
}
_NICE_SCALES = (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
_UNIT_FACTORS = {"mm": 1.0, "in": 1.0 / 25.4, "m": 1e-3, "cm": 0.1}
# Weight of each kind of evidence; a frame needs EVIDENCE_NEEDED in all.
EVIDENCE_WEIGHTS = {
    "title_block": 2,
    "layer_name": 2,
    "marks": 2,
    "double_border": 1,
    "sheet_ratio": 1,
    "clear_margin": 1,
    "clipped": 1,
    "texts_inside": 1,
}
EVIDENCE_NEEDED = 2
# Evidence that an object's outline shows as well as a frame: together it needs one more.
_WEAK = frozenset({"clear_margin", "texts_inside", "sheet_ratio"})
_FRAME_WORDS = ("border", "frame", "title", "sheet", "рамк", "штамп", "формат", "کادر")


@dataclass
class FrameCandidate:
    outer: Rect
    inner: Rect | None = None
    evidence: dict[str, str] = field(default_factory=dict)  # kind -> sentence
    sheet_format: str = ""

    @property
    def drawing_area(self) -> Rect:
        return self.inner or self.outer

    def score(self) -> int:
        return sum(EVIDENCE_WEIGHTS[k] for k in self.evidence)

    def accepted(self) -> bool:
        total = self.score()
        if set(self.evidence) <= _WEAK:
            return total > EVIDENCE_NEEDED
        return total >= EVIDENCE_NEEDED


def _size(rect: Rect) -> tuple[float, float]:
    return rect[2] - rect[0], rect[3] - rect[1]


def _groups(values: np.ndarray, tol: float) -> list[np.ndarray]:
    """Indices of ``values`` grouped where they lie within ``tol`` of their neighbour."""
    order = np.argsort(values)
    if not len(order):
        return []
    breaks = np.flatnonzero(np.diff(values[order]) > tol) + 1
    return np.split(order, breaks)


def rectangles(lines: Linework, bounds: Rect, tol: float) -> list[Rect]:
    """Axis-aligned rectangles drawn by long segments, largest first."""
    width, height = _size(bounds)
    segs, lengths = lines.segments, lines.lengths()
    horizontal = np.flatnonzero(lines.horizontal(tol) & (lengths >= _LONG * width))
    vertical = np.flatnonzero(lines.vertical(tol) & (lengths >= _LONG * height))
    rows = [(segs[horizontal[g], 1].mean(), horizontal[g]) for g in _groups(segs[horizontal, 1], tol)]
    cols = [(segs[vertical[g], 0].mean(), vertical[g]) for g in _groups(segs[vertical, 0], tol)]
    rows = sorted(rows, key=lambda r: -lengths[r[1]].sum())[:_MAX_SIDE_LINES]
    cols = sorted(cols, key=lambda c: -lengths[c[1]].sum())[:_MAX_SIDE_LINES]
    spans = {}
    for y, members in rows:
        spans[("h", y)] = segs[members][:, [0, 2]]
    for x, members in cols:
        spans[("v", x)] = segs[members][:, [1, 3]]
    found: list[Rect] = []
    ys = sorted(y for y, _ in rows)
    xs = sorted(x for x, _ in cols)
    for i, y0 in enumerate(ys):
        for y1 in ys[i + 1 :]:
            if y1 - y0 < _LONG * height:
                continue
            for j, x0 in enumerate(xs):
                if covered_fraction(spans[("v", x0)], y0, y1) < _SIDE_COVERED:
                    continue
                for x1 in xs[j + 1 :]:
                    if x1 - x0 < _LONG * width:
                        continue
                    if (
                        covered_fraction(spans[("v", x1)], y0, y1) >= _SIDE_COVERED
                        and covered_fraction(spans[("h", y0)], x0, x1) >= _SIDE_COVERED
                        and covered_fraction(spans[("h", y1)], x0, x1) >= _SIDE_COVERED
                    ):
                        found.append((x0, y0, x1, y1))
    return sorted(found, key=lambda r: -(_size(r)[0] * _size(r)[1]))


def inside(points: np.ndarray, rect: Rect, tol: float) -> np.ndarray:
    x0, y0, x1, y1 = rect
    within_x = (points[:, 0] >= x0 - tol) & (points[:, 0] <= x1 + tol)
    return within_x & (points[:, 1] >= y0 - tol) & (points[:, 1] <= y1 + tol)


def on_border(points: np.ndarray, rect: Rect, tol: float) -> np.ndarray:
    """Points on the rectangle's outline (within ``tol``)."""
    x0, y0, x1, y1 = rect
    near_x = (np.abs(points[:, 0] - x0) <= tol) | (np.abs(points[:, 0] - x1) <= tol)
    near_y = (np.abs(points[:, 1] - y0) <= tol) | (np.abs(points[:, 1] - y1) <= tol)
    return inside(points, rect, tol) & (near_x | near_y)


def segments_on_border(segs: np.ndarray, rect: Rect, tol: float) -> np.ndarray:
    """Segments lying along the rectangle's outline (its own sides)."""
    x0, y0, x1, y1 = rect
    both = on_border(segs[:, 0:2], rect, tol) & on_border(segs[:, 2:4], rect, tol)
    along_x = (np.abs(segs[:, 1] - segs[:, 3]) <= tol) & (
        (np.abs(segs[:, 1] - y0) <= tol) | (np.abs(segs[:, 1] - y1) <= tol)
    )
    along_y = (np.abs(segs[:, 0] - segs[:, 2]) <= tol) & (
        (np.abs(segs[:, 0] - x0) <= tol) | (np.abs(segs[:, 0] - x1) <= tol)
    )
    return both & (along_x | along_y)


def sheet_format(rect: Rect) -> str:
    """The sheet proportions the rectangle has (within 1 %), with a size and scale when one fits."""
    width, height = _size(rect)
    long, short = max(width, height), min(width, height)
    if short <= 0:
        return ""
    ratio = long / short
    family = next((name for name, r in SHEET_RATIOS.items() if abs(ratio / r - 1.0) <= 0.01), "")
    if not family:
        return ""
    for scale in _NICE_SCALES:  # the plainest scale first: A3 at 1:1, not A1 at 2:1
        for sheet_scale in (scale, 1.0 / scale):
            for name, (w_mm, _) in _SHEET_SIZES_MM.items():
                if name.startswith("ANSI") != family.startswith("ANSI"):
                    continue
                for unit, factor in _UNIT_FACTORS.items():
                    if abs(long / (w_mm * factor * sheet_scale) - 1.0) <= 0.005:
                        shown = f"1:{scale:g}" if sheet_scale >= 1 else f"{scale:g}:1"
                        return f"{name} at {shown} in {unit}"
    return family


def layer_says_frame(name: str) -> bool:
    folded = name.casefold()
    return any(word in folded for word in _FRAME_WORDS)
