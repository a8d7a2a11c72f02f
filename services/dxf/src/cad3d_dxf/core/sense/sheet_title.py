"""Title blocks and tables: grids of small cells full of text against the frame's edge, and what
they say (title, scale, unit, material, quantity, drawing number).

Cells are the faces shapely's polygonize makes of the short axis-aligned lines inside the frame
(and the frame's own sides, which close the cells against it). Cells sharing sides form a grid;
a grid touching the frame with text in many of its cells is a title block or a table. Only the
linework inside a found frame is noded, so a plan without a frame costs nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box

from ..annotations import TextItem
from .sheet_frame import Rect, inside
from .sheet_lines import Linework

_MIN_CELLS = 4
_FULL_COLON = "\uff1a"  # CJK labels end with the full-width colon
_MIN_TEXTS = 3
# A grid is sheet furniture only if text sits in this share of its cells at least.
_TEXT_SHARE = 0.2
# Linework hanging on the frame beyond this many segments is a drawing clipped by it, not a grid.
_MAX_ATTACHED = 5_000
# A grid covering more than this share of the frame is a drawing, not a title block.
_MAX_SHARE = 0.3
MAX_TEXTS_LISTED = 60

# field -> label pattern (case-folded, spaces removed) in English, Russian, Chinese, Persian.
_LABELS: dict[str, str] = {
    "title": r"^(title|drawingname|dwgname|name|partname|наименование|название|名称|图名|عنوان|نام)",
    "scale": r"^(scale|масштаб|比例|مقیاس)",
    "unit": r"^(units?|ед\.?изм|единиц|单位|واحد)",
    "material": r"^(material|matl|mat\.|материал|材料|材质|جنس|متریال)",
    "quantity": r"^(qty|quantity|quant|кол|數量|数量|تعداد)",
    "drawing_number": r"^(dwgno|drawingno|drawingnumber|dwg#|partno|обозначение|图号|شماره)",
}
# 1:50, 2:1, 1" = 50", 1":50", 1/4" = 1'-0", 1/8"=1'
_SCALE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*:\s*\d+(?:[.,]\d+)?\b"
    r"|\b\d+(?:/\d+)?\"\s*[:=]\s*\d+(?:[.,]\d+)?(?:\"|'(?:\s*-\s*\d+(?:\s+\d+/\d+)?\")?)"
)
_UNIT = re.compile(r"^(mm|cm|m|in|inch|inches|ft|feet|millimet(er|re)s?|毫米|мм|см)$", re.IGNORECASE)


@dataclass
class Grid:
    polygon: Polygon
    cells: list[Polygon]
    texts: list[TextItem]
    touches_frame: bool
    evidence: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def bbox(self) -> Rect:
        x0, y0, x1, y1 = self.polygon.bounds
        return (x0, y0, x1, y1)


def _attached(segs: np.ndarray, sides: np.ndarray, tol: float) -> np.ndarray:
    """The segments connected to the frame's sides through segments touching one another: a
    title block hangs on the frame, the drawing inside does not (and is never noded).

    The segments are axis-aligned, so two touch when their boxes, grown by ``tol``, overlap. The
    boxes are indexed once in an STRtree of their diagonals (same envelopes, a fraction of the
    memory of polygons), so each step costs its frontier's queries, not frontier x all. Past
    _MAX_ATTACHED segments the walk stops: that is a drawing whose linework touches the rectangle
    around it (a plan's walls), not a title block, and nothing is attached.
    """
    if not len(segs):
        return segs
    low = np.minimum(segs[:, 0:2], segs[:, 2:4]) - tol
    high = np.maximum(segs[:, 0:2], segs[:, 2:4]) + tol
    tree = shapely.STRtree(shapely.linestrings(np.stack([low, high], axis=1)))
    reached = np.zeros(len(segs), dtype=bool)
    frontier = np.column_stack([np.minimum(sides[:, 0:2], sides[:, 2:4]), np.maximum(sides[:, 0:2], sides[:, 2:4])])
    while len(frontier):
        # Envelope queries (no predicate): box overlap is exactly "touching" for these segments.
        _, touched = tree.query(shapely.linestrings(frontier.reshape(-1, 2, 2)))
        fresh = np.unique(touched[~reached[touched]])
        reached[fresh] = True
        if reached.sum() > _MAX_ATTACHED:
            return segs[:0]
        frontier = np.column_stack([low[fresh] + tol, high[fresh] - tol])
    return segs[reached]


def _cells(lines: Linework, area: Rect, tol: float) -> list[Polygon]:
    width, height = area[2] - area[0], area[3] - area[1]
    segs, lengths = lines.segments, lines.lengths()
    # Anything short of a whole side: a portrait title block may span the full width.
    short = (lines.horizontal(tol) & (lengths < width - 2 * tol)) | (lines.vertical(tol) & (lengths < height - 2 * tol))
    within = inside(segs[:, 0:2], area, tol) & inside(segs[:, 2:4], area, tol)
    chosen = segs[short & within & (lengths > tol)]
    x0, y0, x1, y1 = area
    sides = np.asarray([(x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)])
    chosen = np.concatenate([_attached(chosen, sides, tol), sides])
    # Snapped to the tolerance grid so nearly-touching cell sides node together.
    chosen = np.round(chosen / tol) * tol
    strings = shapely.linestrings(chosen.reshape(-1, 2, 2))
    noded = shapely.unary_union(strings)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    limit = _MAX_SHARE * width * height
    return [f for f in faces if tol * tol < f.area <= limit]


def find_grids(lines: Linework, texts: list[TextItem], area: Rect, tol: float) -> list[Grid]:
    """Grids of text-filled cells inside ``area`` (the frame's drawing area) touching its edge."""
    cells = _cells(lines, area, tol)
    if len(cells) < _MIN_CELLS:
        return []
    merged = shapely.get_parts(shapely.unary_union(shapely.buffer(np.asarray(cells), tol, join_style="mitre")))
    tree = shapely.STRtree(np.asarray(cells))
    points = np.asarray([(t.x, t.y) for t in texts]) if texts else np.zeros((0, 2))
    boundary = box(*area).exterior
    grids: list[Grid] = []
    width, height = area[2] - area[0], area[3] - area[1]
    for part in merged:
        members = [cells[i] for i in tree.query(part, predicate="contains")]
        if len(members) < _MIN_CELLS:
            continue
        x0, y0, x1, y1 = part.bounds
        if (x1 - x0) * (y1 - y0) > _MAX_SHARE * width * height:
            continue
        held = shapely.contains_xy(part, points[:, 0], points[:, 1]) if len(points) else np.zeros(0, bool)
        inner = [texts[i] for i in np.flatnonzero(held)]
        filled = sum(1 for c in members if any(c.contains(shapely.Point(t.x, t.y)) for t in inner))
        if len(inner) < _MIN_TEXTS or filled < _TEXT_SHARE * len(members):
            continue
        touches = part.distance(boundary) <= 2 * tol
        if not touches:
            continue
        evidence = f"a grid of {len(members)} cells with {len(inner)} texts against the frame's edge"
        grids.append(Grid(part, members, inner, touches, evidence))
    return grids


def title_first(grids: list[Grid], area: Rect) -> list[Grid]:
    """The grid most like a title block first: labels read, then nearest the bottom-right corner."""

    def rank(grid: Grid) -> tuple[int, float]:
        _, y0, x1, _ = grid.bbox
        corner = np.hypot(area[2] - x1, y0 - area[1])
        return (-len(read_fields(grid.texts)), corner)

    return sorted(grids, key=rank)


def _folded(text: str) -> str:
    return re.sub(r"\s+", "", text.casefold())


def _label_of(text: str) -> tuple[str, str]:
    """(field, value written after the label) when the text starts with a label."""
    folded = _folded(text)
    for name, pattern in _LABELS.items():
        match = re.match(pattern, folded)
        if match:
            ratio = _SCALE.search(text) if name == "scale" else None
            if ratio is not None:  # "SCALE 1:1": the colon is the ratio's, not the label's
                return name, ratio.group(0)
            rest = text.split(":", 1)[1].strip() if ":" in text else ""
            if not rest and _FULL_COLON in text:
                rest = text.split(_FULL_COLON, 1)[1].strip()
            return name, rest
    return "", ""


def _neighbour(label: TextItem, texts: list[TextItem], used: set[int]) -> TextItem | None:
    """The text to the right of a label on its line, else the nearest one below it."""
    size = max(label.height, 1e-9)
    best: tuple[float, int] | None = None
    for index, other in enumerate(texts):
        if other is label or index in used or _label_of(other.text)[0]:
            continue
        dx, dy = other.x - label.x, other.y - label.y
        if dx > 0 and abs(dy) <= 1.0 * size and dx <= 12 * size:
            cost = dx  # on the label's line: always before anything below
        elif dy < 0 and -dy <= 6 * size and -size <= dx <= 12 * size:
            cost = 100 * size - dy * 2 + abs(dx)
        else:
            continue
        if best is None or cost < best[0]:
            best = (cost, index)
    if best is None:
        return None
    used.add(best[1])
    return texts[best[1]]


def _inline(name: str, text: str) -> str:
    """A value written in the label's own text without a colon: "SCALE 1:1", "UNIT mm"."""
    if name == "scale":
        match = _SCALE.search(text)
        return match.group(0) if match else ""
    words = text.split()
    if ":" in text or _FULL_COLON in text or len(words) < 2 or not re.match(_LABELS[name], _folded(words[0])):
        return ""
    if name == "unit":
        return words[-1] if _UNIT.match(words[-1]) else ""
    return " ".join(words[1:])


def read_fields(texts: list[TextItem]) -> dict[str, str]:
    """Title, scale, unit, material, quantity, drawing number: from attribute tags, "LABEL: value"
    texts, a label and its neighbour, or a value whose form says what it is (1:50, mm)."""
    fields: dict[str, str] = {}
    used: set[int] = set()
    for text in texts:
        if text.tag:
            name, _ = _label_of(text.tag.replace("_", ""))
            if name and text.text and name not in fields and text.kind == "ATTRIB":
                fields[name] = text.text
    for text in texts:
        name, rest = _label_of(text.text)
        if not name or name in fields:
            continue
        value = rest or _inline(name, text.text)
        if not value:
            neighbour = _neighbour(text, texts, used)
            value = neighbour.text if neighbour is not None else ""
            if name == "scale" and not _SCALE.search(value):
                value = ""
        if value:
            fields[name] = value
    for text in texts:
        if "scale" not in fields and _SCALE.search(text.text):
            fields["scale"] = _SCALE.search(text.text).group(0)  # type: ignore[union-attr]
        if "unit" not in fields and _UNIT.match(text.text.strip()):
            fields["unit"] = text.text.strip()
    if "scale" in fields and _SCALE.search(fields["scale"]):
        fields["scale"] = _SCALE.search(fields["scale"]).group(0)  # type: ignore[union-attr]
    return fields


def grid_report(grid: Grid) -> dict[str, Any]:
    return {
        "bbox": [round(v, 6) for v in grid.bbox],
        "evidence": grid.evidence,
        "cells": len(grid.cells),
        "fields": grid.fields,
        "texts": [t.text for t in grid.texts[:MAX_TEXTS_LISTED]],
    }
