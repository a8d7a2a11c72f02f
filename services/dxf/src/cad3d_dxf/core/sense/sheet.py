"""The sheet around the object: drawing frame, title block, tables, notes, dimension geometry.

sheet="auto" finds them and takes their geometry out of ``collected`` before anything is
extruded, recording each with its evidence; sheet="keep" finds and reports them but removes
nothing. Block references of furniture, symbols and title blocks were already left out while
collecting (blocks.py); this step lists them and removes what lies loose around them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from shapely.geometry import box

from ..annotations import InsertRecord
from ..entities import Collected
from ..options import DxfOptions
from ..rules import layer_category
from .blocks import block_kind
from .decisions import SheetDecision
from .prune import prune, recompute_bounds
from .sheet_frame import (
    ENCLOSES,
    FrameCandidate,
    Rect,
    inside,
    layer_says_frame,
    on_border,
    rectangles,
    segments_on_border,
    sheet_format,
)
from .sheet_lines import Linework, linework
from .sheet_marks import remove_bubbles, remove_dimensions
from .sheet_title import Grid, find_grids, grid_report, read_fields, title_first

_TOL = 1e-3  # of the drawing diagonal: how near counts as "on" a line
_MAX_BORDER_GAP = 0.15  # inner border: each side this share of the sheet's short side at most
_MARGIN = 0.015  # a clear margin: this share of the frame's short side at least
_MARK_SIZE = 0.08  # zone ticks and corner marks: this share of the frame's long side at most
_BLOCKS_LISTED = 10
_STRUCTURE = frozenset({"wall", "door", "window", "column", "slab"})


def _bounds_rect(collected: Collected) -> Rect:
    assert collected.bounds is not None
    low, high = collected.bounds
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def _record_blocks(collected: Collected, decision: SheetDecision) -> None:
    decision.excluded.update(collected.excluded)
    names: dict[str, list[str]] = {}
    for record in collected.inserts:
        if record.excluded:
            listed = names.setdefault(record.excluded, [])
            if record.name not in listed and len(listed) < _BLOCKS_LISTED:
                listed.append(record.name)
    decision.blocks = names


def _candidate(lines: Linework, bounds: Rect, tol: float) -> FrameCandidate | None:
    """The largest drawn rectangle holding nearly every point, with an inner border if drawn."""
    if not len(lines.points):
        return None
    found = rectangles(lines, bounds, tol)
    outer = next((r for r in found if inside(lines.points, r, tol).mean() >= ENCLOSES), None)
    if outer is None:
        return None
    short = min(outer[2] - outer[0], outer[3] - outer[1])
    gaps = lambda r: (r[0] - outer[0], r[1] - outer[1], outer[2] - r[2], outer[3] - r[3])  # noqa: E731
    inner = next(
        (r for r in found if r != outer and all(tol < g <= _MAX_BORDER_GAP * short for g in gaps(r))),
        None,
    )
    return FrameCandidate(outer, inner)


def _touching(lines: Linework, rect: Rect, tol: float, within: Rect, exempt: list[Grid]) -> np.ndarray:
    """Endpoints (k, 2) of segments inside ``within`` that end on ``rect``'s outline, its own
    sides and the grids in ``exempt`` left aside."""
    segs = lines.segments
    own = segments_on_border(segs, rect, tol)
    keep = ~own & inside(segs[:, 0:2], within, tol) & inside(segs[:, 2:4], within, tol)
    ends = segs[keep].reshape(-1, 2)
    ends = ends[on_border(ends, rect, tol)]
    for grid in exempt:
        ends = ends[~inside(ends, grid.bbox, 2 * tol)]
    return ends


def _clipped(lines: Linework, rect: Rect, tol: float) -> int:
    """Slanted lines cut off at the rectangle's sides (a viewport or sheet edge clipping terrain)."""
    segs = lines.segments
    keep = ~segments_on_border(segs, rect, tol)
    segs = segs[keep]
    vectors = segs[:, 2:4] - segs[:, 0:2]
    lengths = np.maximum(np.hypot(vectors[:, 0], vectors[:, 1]), 1e-300)
    slanted = (np.abs(vectors[:, 0]) / lengths > 0.1) & (np.abs(vectors[:, 1]) / lengths > 0.1)
    ends = segs[slanted].reshape(-1, 2)
    ends = ends[on_border(ends, rect, tol)]
    if not len(ends):
        return 0
    x0, y0, x1, y1 = rect
    sides = {int(np.argmin([abs(x - x0), abs(y - y0), abs(x - x1), abs(y - y1)])) for x, y in ends.tolist()}
    return len(ends) if len(sides) >= 2 else 0


def _marks(lines: Linework, candidate: FrameCandidate, bounds: Rect, tol: float) -> int:
    """Zone ticks between a double border, or corner marks outside a single one."""
    outer = candidate.outer
    limit = _MARK_SIZE * max(outer[2] - outer[0], outer[3] - outer[1])
    segs, lengths = lines.segments, lines.lengths()
    small = (lengths <= limit) & (lengths > tol)
    if candidate.inner is not None:
        in_band = inside(segs[:, 0:2], outer, tol) & inside(segs[:, 2:4], outer, tol)
        in_band &= ~(inside(segs[:, 0:2], candidate.inner, -tol) | inside(segs[:, 2:4], candidate.inner, -tol))
        ticks = small & in_band & (lines.horizontal(tol) | lines.vertical(tol))
        return int(ticks.sum()) if ticks.sum() >= 4 else 0
    outside = ~inside(segs[:, 0:2], outer, tol) & ~inside(segs[:, 2:4], outer, tol) & small
    ends = segs[outside].reshape(-1, 2)
    x0, y0, x1, y1 = bounds
    corners = np.asarray([(x0, y0), (x1, y0), (x0, y1), (x1, y1)])
    near = [bool((np.hypot(*(ends - c).T) <= tol * 2).any()) if len(ends) else False for c in corners]
    return int(outside.sum()) if sum(near) >= 3 else 0


def _weigh(
    candidate: FrameCandidate,
    lines: Linework,
    collected: Collected,
    grids: list[Grid],
    title_inserts: list[InsertRecord],
    tol: float,
) -> None:
    outer, inner = candidate.outer, candidate.inner
    evidence = candidate.evidence
    bounds = _bounds_rect(collected)
    own = segments_on_border(lines.segments, outer, tol)
    side_layers = {lines.layers[i] for i in np.unique(lines.layer_of[own])}
    if grids:
        evidence["title_block"] = grids[0].evidence
    attached = [r for r in title_inserts if inside(np.asarray([r.low, r.high]), outer, 2 * tol).all()]
    if attached:
        evidence["title_block"] = f"a block named {attached[0].name!r} inside it"
    if side_layers and all(layer_says_frame(layer) for layer in side_layers):
        evidence["layer_name"] = f"drawn on layer(s) {', '.join(sorted(side_layers))}"
    marks = _marks(lines, candidate, bounds, tol)
    if marks:
        evidence["marks"] = f"{marks} zone ticks or corner marks around it"
    if inner is not None and not len(_touching(lines, inner, tol, inner, grids)):
        evidence["double_border"] = "an inner border inside it that nothing of the drawing touches"
    fmt = sheet_format(outer) or (sheet_format(inner) if inner is not None else "")
    if fmt:
        candidate.sheet_format = fmt
        evidence["sheet_ratio"] = f"sheet proportions: {fmt}"
    area = candidate.drawing_area
    touching = _touching(lines, area, tol, area, grids)
    clipped = _clipped(lines, outer, tol)
    if clipped >= 4:
        evidence["clipped"] = f"{clipped} slanted lines end on its sides, cut off as a sheet edge cuts them"
    elif not len(touching):
        segs = lines.segments[~segments_on_border(lines.segments, area, tol)]
        ends = segs.reshape(-1, 2)
        ends = ends[inside(ends, area, -tol)]
        for grid in grids:
            ends = ends[~inside(ends, grid.bbox, 2 * tol)]
        if len(ends):
            gap = min(
                float((ends[:, 0] - area[0]).min()),
                float((ends[:, 1] - area[1]).min()),
                float((area[2] - ends[:, 0]).min()),
                float((area[3] - ends[:, 1]).min()),
            )
            if gap >= _MARGIN * min(area[2] - area[0], area[3] - area[1]):
                evidence["clear_margin"] = "nothing of the drawing touches it and a clear margin is left"
    texts = np.asarray([(t.x, t.y) for t in collected.texts]) if collected.texts else np.zeros((0, 2))
    if len(texts) >= 3 and inside(texts, outer, tol).mean() >= 0.9:
        evidence["texts_inside"] = f"{int(inside(texts, outer, tol).sum())} texts inside it"
    if any(layer_category(layer) in _STRUCTURE for layer in side_layers):
        for kind in list(evidence):
            if kind not in ("title_block",):
                del evidence[kind]


def _title_inserts(collected: Collected) -> list[InsertRecord]:
    sheet_kinds = ("title_block", "frame")
    return [r for r in collected.inserts if (r.excluded or block_kind(r.name, furnishings=False)) in sheet_kinds]


def _rect_list(rect: Rect) -> list[float]:
    return [round(float(v), 6) for v in rect]


def _frame_report(candidate: FrameCandidate, removed: int, kept: bool) -> dict[str, Any]:
    outer = candidate.outer
    report: dict[str, Any] = {
        "bbox": _rect_list(outer),
        "size": [round(outer[2] - outer[0], 6), round(outer[3] - outer[1], 6)],
        "evidence": "; ".join(candidate.evidence.values()),
        "evidence_kinds": sorted(candidate.evidence),
        "score": candidate.score(),
        "entities": removed,
    }
    if candidate.inner is not None:
        report["inner_bbox"] = _rect_list(candidate.inner)
    if candidate.sheet_format:
        report["sheet_format"] = candidate.sheet_format
    if kept:
        report["kept"] = True
    return report


def _remove_frame(
    collected: Collected, candidate: FrameCandidate, bounds: Rect, tol: float, counts: Counter[str]
) -> int:
    outer = box(*candidate.outer)
    if candidate.inner is not None:
        removed = prune(collected, outer.difference(box(*candidate.inner).buffer(-tol)), "frame", counts, tol)
    else:
        removed = prune(collected, outer.exterior.buffer(tol), "frame", counts, tol)
    grown = box(*bounds).buffer(10 * tol + 1.0)
    removed += prune(collected, grown.difference(outer.buffer(-tol)), "outside_frame", counts, tol)
    return removed


def _insert_title(records: list[InsertRecord], collected: Collected, tol: float) -> dict[str, Any]:
    low, high = np.minimum.reduce([r.low for r in records]), np.maximum.reduce([r.high for r in records])
    rect = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
    texts = [t for t in collected.texts if inside(np.asarray([(t.x, t.y)]), rect, tol).all()]
    return {
        "bbox": _rect_list(rect),
        "evidence": f"block reference(s) named {', '.join(sorted({r.name for r in records}))}",
        "fields": read_fields(texts),
        "texts": [t.text for t in texts[:60]],
    }


def read_sheet(collected: Collected, options: DxfOptions) -> SheetDecision:
    """Find the sheet furniture and remove its geometry from ``collected`` (sheet="auto")."""
    decision = SheetDecision(mode=options.sheet)
    _record_blocks(collected, decision)
    if collected.bounds is None:
        return decision
    keep = options.sheet == "keep"
    bounds = _bounds_rect(collected)
    diagonal = float(np.hypot(bounds[2] - bounds[0], bounds[3] - bounds[1]))
    tol = max(diagonal * _TOL, 1e-9)
    lines = linework(collected)
    titles = _title_inserts(collected)
    candidate = _candidate(lines, bounds, tol)
    grids: list[Grid] = []
    if candidate is not None:
        area = candidate.drawing_area
        grids = title_first(find_grids(lines, collected.texts, area, tol), area)
        for grid in grids:
            grid.fields = read_fields(grid.texts)
        _weigh(candidate, lines, collected, grids, titles, tol)
        if not candidate.accepted():
            decision.kept.append(
                {
                    "what": "a rectangle enclosing the drawing",
                    "bbox": _rect_list(candidate.outer),
                    "why": "not enough evidence that it is a sheet frame rather than the object's outline"
                    + (f" (only: {'; '.join(candidate.evidence.values())})" if candidate.evidence else ""),
                }
            )
            candidate, grids = None, []
    counts: Counter[str] = Counter()
    removed_frame = 0
    if candidate is not None and not keep:
        removed_frame = _remove_frame(collected, candidate, bounds, tol, counts)
    if candidate is not None:
        decision.frame = _frame_report(candidate, removed_frame, keep)
    for position, grid in enumerate(grids):
        reason = "title_block" if position == 0 else "table"
        entry = grid_report(grid)
        entry["entities"] = 0 if keep else prune(collected, grid.polygon, reason, counts, tol)
        if keep:
            entry["kept"] = True
        if position == 0:
            decision.title_block = entry
        else:
            decision.tables.append(entry)
    if titles:
        entry = _insert_title(titles, collected, tol)
        if not keep:
            entry["entities"] = prune(collected, box(*entry["bbox"]), "title_block", counts, tol)
        if decision.title_block is None:
            decision.title_block = entry
        else:
            decision.title_block["fields"] = {**entry["fields"], **decision.title_block["fields"]}
    if not keep:
        reference = diagonal
        if candidate is not None:
            x0, y0, x1, y1 = candidate.outer
            reference = float(np.hypot(x1 - x0, y1 - y0))
        remove_dimensions(collected, reference, counts, collected.texts)
        remove_bubbles(collected, collected.texts, reference, tol, counts)
    decision.excluded.update(counts)
    if sum(counts.values()):
        recompute_bounds(collected)
    return decision
