"""Mechanical sheets: the views of each part, its main view, its holes and its thickness.

A part drawn in orthographic projection shows up as several clusters of outlines (views). A view
belongs to the same object as another when they are aligned (the front view below the top view
has the same width, the side view beside it the same height) and close. Of an object's views the
main one is the plan view: most holes, then largest area. Only views that are *thin* (a side or
front view of a plate) or hole-less and small beside a holed main view are taken as its other
views; four identical brackets side by side stay four parts.

The thickness is read from the thin view (the short side of the band it draws, solved exactly
for a rectangle from its area and perimeter), confirmed by a DIMENSION of about that length, or
from a note ("t=2", "THK 2", "δ=2"); an explicit height or rule wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionWarning

from ..entities import Collected
from ..options import DxfOptions
from ..parts import ExtrusionKey, Part, RegionStats
from ..regions import polygons_of
from ..rules import LayerResolver
from .decisions import PartsOutcome

_ALIGN_RELATIVE = 0.03  # extents agree within this share of the main view's size
_THIN_RELATIVE = 0.25  # a view thinner than this share of the main view's short side is edge-on
_NEAR_RELATIVE = 1.5  # views of one object lie within this many main-view sizes of each other
_GAP_RELATIVE = 0.01  # outlines closer than this share of the sheet belong to one view
_MARK_RELATIVE = 0.08  # hole-less outlines smaller than this share of the largest part are marks
_NOTE = re.compile(r"(?:\bt\s*=?\s*|\bthk\.?\s*|\bthick(?:ness)?\s*[:=]?\s*|δ\s*=?\s*|厚\s*)(\d+(?:[.,]\d+)?)", re.I)


@dataclass
class _View:
    parts: list[Part]
    bounds: np.ndarray  # minx, miny, maxx, maxy
    area: float
    holes: int
    band: float  # short side of the rectangle with this area and perimeter (the edge-on thickness)
    role: str = "main"
    of: int = -1  # index of the main view it belongs to
    evidence: list[str] = field(default_factory=list)

    @property
    def size(self) -> np.ndarray:
        return self.bounds[2:] - self.bounds[:2]


def _band(area: float, perimeter: float) -> float:
    half = perimeter / 2.0
    disc = half * half - 4.0 * area
    return (half - math.sqrt(max(disc, 0.0))) / 2.0


def _views(parts: list[Part]) -> list[_View]:
    polygons = np.asarray([p.polygon for p in parts], dtype=object)
    low, high = shapely.total_bounds(polygons)[:2], shapely.total_bounds(polygons)[2:]
    gap = float(np.hypot(*(high - low))) * _GAP_RELATIVE
    left, right = shapely.STRtree(polygons).query(polygons, predicate="dwithin", distance=gap)
    labels = np.arange(len(parts))
    changed = True
    while changed:  # connected components by label propagation
        merged = labels.copy()
        np.minimum.at(merged, left, labels[right])
        merged = merged[merged]
        changed = not np.array_equal(merged, labels)
        labels = merged
    views = []
    for label in np.unique(labels):
        members = [parts[i] for i in np.flatnonzero(labels == label)]
        union = shapely.union_all([m.polygon for m in members])
        outlines = polygons_of(union)
        area, perimeter = (
            float(sum(Polygon(p.exterior).area for p in outlines)),
            float(sum(p.exterior.length for p in outlines)),
        )
        holes = sum(len(m.polygon.interiors) for m in members)
        views.append(_View(members, np.asarray(union.bounds, dtype=float), area, holes, _band(area, perimeter)))
    return views


def _aligned(main: _View, other: _View) -> str | None:
    """ "below"/"beside" when ``other`` shares main's width/height and lies near it, else None."""
    tol = _ALIGN_RELATIVE * float(max(main.size))
    reach = _NEAR_RELATIVE * float(max(main.size))
    same_x = abs(main.bounds[0] - other.bounds[0]) <= tol and abs(main.bounds[2] - other.bounds[2]) <= tol
    same_y = abs(main.bounds[1] - other.bounds[1]) <= tol and abs(main.bounds[3] - other.bounds[3]) <= tol
    gap_y = max(main.bounds[1] - other.bounds[3], other.bounds[1] - main.bounds[3])
    gap_x = max(main.bounds[0] - other.bounds[2], other.bounds[0] - main.bounds[2])
    if same_x and 0 <= gap_y <= reach:
        return "below"
    if same_y and 0 <= gap_x <= reach:
        return "beside"
    return None


def _companion(main: _View, other: _View) -> str | None:
    """Why ``other`` is another view of ``main``'s object, or None."""
    where = _aligned(main, other)
    # An edge-on view shows no through hole (its holes are hidden lines, never closed loops).
    if where is None or other.holes > 0:
        return None
    if other.band <= _THIN_RELATIVE * float(min(main.size)):
        return f"{where} the main view, same {'width' if where == 'below' else 'height'}, thin ({other.band:.4g})"
    if other.holes == 0 < main.holes and other.area < 0.5 * main.area:
        return f"{where} the main view, same {'width' if where == 'below' else 'height'}, no holes"
    return None


def _assign(views: list[_View]) -> list[int]:
    """Indices of main views; the others get role/of/evidence."""
    order = sorted(range(len(views)), key=lambda i: (-views[i].holes, -views[i].area))
    mains: list[int] = []
    for index in order:
        view = views[index]
        for main in mains:
            why = _companion(views[main], view)
            if why is not None:
                view.role, view.of = ("front" if why.startswith("below") else "side"), main
                view.evidence.append(why)
                break
        else:
            mains.append(index)
    _third_views(views, mains)
    return mains


def _third_views(views: list[_View], mains: list[int]) -> None:
    """A side or section view aligned with a front view (not with the plan) is a view of the same
    object too, in the usual three-view layout; hole-less and no larger than the plan view."""
    for index in list(mains):
        view = views[index]
        if view.holes:
            continue
        for front in [v for v in views if v.of >= 0]:
            owner = views[front.of]
            if _aligned(front, view) == "beside" and view.area <= owner.area * 1.5 and owner is not view:
                view.role, view.of = "side", front.of
                view.evidence.append("beside a front view, same height, no holes")
                mains.remove(index)
                break


def _edge_thickness(view: _View) -> float:
    """The thickness an edge-on view draws: the median extent across it, sampled along its length
    (a bent plate's flange is a short stretch of the view and does not count)."""
    union = shapely.union_all([p.polygon for p in view.parts])
    x0, y0, x1, y1 = view.bounds
    along_x = view.role == "front"
    steps = np.linspace(0.02, 0.98, 64)
    if along_x:
        cuts = [shapely.LineString([(x0 + t * (x1 - x0), y0 - 1), (x0 + t * (x1 - x0), y1 + 1)]) for t in steps]
    else:
        cuts = [shapely.LineString([(x0 - 1, y0 + t * (y1 - y0)), (x1 + 1, y0 + t * (y1 - y0))]) for t in steps]
    lengths = shapely.length(shapely.intersection(np.asarray(cuts, dtype=object), union))
    lengths = lengths[lengths > 0]
    return float(np.median(lengths)) if len(lengths) else view.band


def _near_values(view: _View, collected: Collected, offset: np.ndarray, scale: float) -> list[float]:
    """Numbers written next to a view (a PDF's dimension texts arrive as plain TEXT), output units."""
    margin = float(max(view.size)) * 0.5 + 10.0 * float(min(view.size))
    x0, y0, x1, y1 = view.bounds
    values = []
    for text in collected.texts:
        x, y = (text.x - offset[0]) * scale, (text.y - offset[1]) * scale
        if x0 - margin <= x <= x1 + margin and y0 - margin <= y <= y1 + margin:
            number = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*", text.text)
            if number:
                values.append(float(number.group(1).replace(",", ".")))
            elif text.kind.endswith("DIMENSION") and text.measurement:
                values.append(text.measurement * scale)
    return values


def _marks_apart(views: list[_View], mains: list[int]) -> list[int]:
    """Tiny hole-less outlines beside the parts (datum and roughness marks, leftover arrowheads)
    are marks, not parts: left out and listed."""
    largest = max(float(max(views[i].size)) for i in mains)
    kept = []
    for index in mains:
        view = views[index]
        if view.holes == 0 and float(max(view.size)) < _MARK_RELATIVE * largest:
            view.role = "mark"
            view.evidence.append(f"{float(max(view.size)):.3g} across beside a {largest:.3g} part, no holes")
        else:
            kept.append(index)
    return kept


def _thickness(main: int, views: list[_View], collected: Collected, offset: np.ndarray, scale: float) -> dict[str, Any]:
    thin = [v for v in views if v.of == main and v.band <= _THIN_RELATIVE * float(min(views[main].size))]
    if thin:
        edge = min(thin, key=_edge_thickness)
        value = _edge_thickness(edge)
        near = [v for v in _near_values(edge, collected, offset, scale) if abs(v - value) <= 0.15 * value]
        if near:
            value = min(near, key=lambda v: abs(v - value))
        evidence = f"edge-on view {value:.4g} thick" + (f", its dimension reads {value:g}" if near else "")
        return {"value": round(value, 6), "source": "dimension" if near else "side_view", "evidence": evidence}
    for text in collected.texts:
        match = _NOTE.search(text.text) if text.kind in ("TEXT", "MTEXT") else None
        if match:
            value = float(match.group(1).replace(",", ".")) * scale
            return {"value": value, "source": "note", "evidence": f"note {text.text[:40]!r}"}
    return {"value": None, "source": "default", "evidence": "no edge-on view, thickness dimension or note"}


def _explicit_height(options: DxfOptions, resolve: LayerResolver, parts: list[Part]) -> bool:
    return options.height is not None or any(resolve(p.layer).height_from_user for p in parts)


def _view_row(view: _View, scale_note: str = "") -> dict[str, Any]:
    del scale_note
    return {
        "role": view.role,
        "bbox": [round(float(v), 6) for v in view.bounds],
        "size": [round(float(v), 6) for v in view.size],
        "holes": view.holes,
        "evidence": "; ".join(view.evidence) or "most holes and largest area",
    }


def read_views(
    parts: list[Part],
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """One part per object: keep its main view, extruded by the thickness its other views show."""
    del stats
    if not parts:
        return PartsOutcome(parts)
    views = _views(parts)
    mains = _marks_apart(views, _assign(views))
    explicit = _explicit_height(options, resolve, parts)
    result: list[Part] = []
    objects: list[dict[str, Any]] = []
    warnings: list[ConversionWarning] = []
    reading = sorted(mains, key=lambda i: (-views[i].bounds[3], views[i].bounds[0]))
    for number, main in enumerate(reading, start=1):
        thickness = _thickness(main, views, collected, offset, scale)
        name = f"part {number}" if len(mains) > 1 else ""
        for part in views[main].parts:
            key = part.key
            if thickness["value"] and not explicit:
                key = ExtrusionKey(key.base, round(float(thickness["value"]), 9))
            result.append(Part(name or part.layer, part.polygon, key, part.role, part.color))
        others = [_view_row(v) for v in views if v.of == main]
        objects.append({"name": name or "part", **_view_row(views[main]), "thickness": thickness, "views": others})
        if thickness["source"] == "default" and not explicit:
            warnings.append(
                ConversionWarning(
                    "thickness_assumed",
                    f"{name or 'the part'}: no edge-on view, thickness dimension or note; extruded by the default "
                    f"{views[main].parts[0].key.height:g} (pass height to set it)",
                )
            )
    report = {
        "objects": objects,
        "views_found": len(views),
        "excluded_views": sum(1 for v in views if v.of >= 0),
        "marks": [_view_row(v) for v in views if v.role == "mark"][:50],
        "explicit_height": explicit,
    }
    return PartsOutcome(result, report, warnings)
