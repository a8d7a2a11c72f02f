"""Take sheet furniture out of the collected geometry: everything lying inside given shapes.

An item goes when all its points lie in the region (boundary included: the region is tested
slightly grown by ``tolerance``), so a wall crossing a removal zone is never cut or dropped. Points
are tested with one vectorised shapely call per kind of item, so a plan of 100k lines costs
milliseconds. Every removal is counted by reason in the decision's and the drawing's ``excluded``.
"""

from __future__ import annotations

from array import array
from collections import Counter

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ..entities import MAX_COORDINATE, Collected


def _inside(region: BaseGeometry, points: np.ndarray) -> np.ndarray:
    if not len(points):
        return np.zeros(0, dtype=bool)
    return np.asarray(shapely.contains_xy(region, points[:, 0], points[:, 1]), dtype=bool)


def _all_inside(region: BaseGeometry, rings: list[np.ndarray]) -> np.ndarray:
    """Per point set, whether every point of it lies in ``region``."""
    if not rings:
        return np.zeros(0, dtype=bool)
    sizes = np.asarray([len(r) for r in rings])
    inside = _inside(region, np.concatenate(rings))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.logical_and.reduceat(inside, starts) & (sizes > 0)


def _line_rows(collected: Collected, layer: str) -> np.ndarray:
    return collected.line_array(layer)


def _set_line_rows(collected: Collected, layer: str, rows: np.ndarray) -> None:
    collected.lines[layer] = array("d")
    collected.line_arrays[layer] = [rows] if len(rows) else []


def prune(
    collected: Collected,
    region: BaseGeometry,
    reason: str,
    counts: Counter[str],
    tolerance: float,
    *,
    layers: set[str] | None = None,
    keep_contours: bool = False,
) -> int:
    """Remove every contour, piece, line and mesh lying in ``region`` (optionally only those on
    ``layers``, and leaving closed contours alone with ``keep_contours``); count them under
    ``reason`` in ``counts`` and ``collected.excluded``."""
    if region.is_empty:
        return 0
    zone = region.buffer(tolerance) if tolerance > 0 else region
    shapely.prepare(zone)
    minx, miny, maxx, maxy = zone.bounds
    removed = 0

    def near(points: np.ndarray) -> bool:
        return bool(
            points[:, 0].min() >= minx
            and points[:, 0].max() <= maxx
            and points[:, 1].min() >= miny
            and points[:, 1].max() <= maxy
        )

    def wanted(layer: str) -> bool:
        return layers is None or layer in layers

    candidates = [
        i for i, c in enumerate(collected.contours) if not keep_contours and wanted(c.layer) and near(c.points)
    ]
    rings = [collected.contours[i].points for i in candidates]
    gone = {candidates[k] for k in np.flatnonzero(_all_inside(zone, rings))}
    if gone:
        collected.contours = [c for i, c in enumerate(collected.contours) if i not in gone]
        removed += len(gone)
    candidates = [i for i, p in enumerate(collected.pieces) if wanted(p.layer) and near(p.points)]
    rings = [collected.pieces[i].points for i in candidates]
    gone = {candidates[k] for k in np.flatnonzero(_all_inside(zone, rings))}
    if gone:
        collected.pieces = [p for i, p in enumerate(collected.pieces) if i not in gone]
        removed += len(gone)
    candidates = [i for i, m in enumerate(collected.meshes) if wanted(m.layer) and near(m.vertices[:, :2])]
    gone = {
        candidates[k]
        for k in np.flatnonzero(_all_inside(zone, [collected.meshes[i].vertices[:, :2] for i in candidates]))
    }
    if gone:
        collected.meshes = [m for i, m in enumerate(collected.meshes) if i not in gone]
        removed += len(gone)
    for layer in sorted(collected.line_layers()):
        if not wanted(layer):
            continue
        rows = _line_rows(collected, layer)
        box = (rows[:, [0, 2]].min(axis=1) >= minx) & (rows[:, [0, 2]].max(axis=1) <= maxx)
        box &= (rows[:, [1, 3]].min(axis=1) >= miny) & (rows[:, [1, 3]].max(axis=1) <= maxy)
        if not box.any():
            continue
        index = np.flatnonzero(box)
        inside = _inside(zone, rows[index, 0:2]) & _inside(zone, rows[index, 2:4])
        if inside.any():
            keep = np.ones(len(rows), dtype=bool)
            keep[index[inside]] = False
            _set_line_rows(collected, layer, rows[keep])
            removed += int(inside.sum())
    if removed:
        counts[reason] += removed
        collected.excluded[reason] += removed
    return removed


def remove_lines(collected: Collected, layer: str, mask: np.ndarray, reason: str, counts: Counter[str]) -> int:
    """Remove the line rows of ``layer`` (as ``line_array`` orders them) where ``mask`` is True."""
    count = int(mask.sum())
    if count:
        rows = _line_rows(collected, layer)
        _set_line_rows(collected, layer, rows[~mask])
        counts[reason] += count
        collected.excluded[reason] += count
    return count


def remove_contours(collected: Collected, indices: set[int], reason: str, counts: Counter[str]) -> int:
    """Remove the contours at ``indices`` (positions in ``collected.contours``)."""
    if indices:
        collected.contours = [c for i, c in enumerate(collected.contours) if i not in indices]
        counts[reason] += len(indices)
        collected.excluded[reason] += len(indices)
    return len(indices)


def recompute_bounds(collected: Collected) -> None:
    """The XY bounds of what is left (tolerances downstream are relative to the drawing size)."""
    chunks = [collected.line_array(layer)[:, :4].reshape(-1, 2) for layer in collected.line_layers()]
    chunks += [c.points for c in collected.contours] + [p.points for p in collected.pieces]
    chunks += [m.vertices[:, :2] for m in collected.meshes]
    chunks = [c for c in chunks if len(c)]
    if not chunks:
        collected.bounds = None
        return
    points = np.concatenate(chunks)
    points = points[np.isfinite(points).all(axis=1) & (np.abs(points) <= MAX_COORDINATE).all(axis=1)]
    collected.bounds = (points.min(axis=0), points.max(axis=0)) if len(points) else None
