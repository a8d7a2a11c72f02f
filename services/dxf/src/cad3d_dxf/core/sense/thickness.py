"""A plate's thickness, read from the drawing: its edge-on view, a dimension on that view, or a
thickness note ("t=2", "THK 2", "厚2", "δ=2").

Numbers written on a sheet are in the designer's unit, which need not be the geometry's (a part
drawn at 1:2). ``text_scale`` works out how many output units one written unit is from the
dimensions themselves, so a written thickness keeps its proportion to the drawn plate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString

from ..annotations import TextItem
from .views_layout import THIN_RATIO, ObjectViews, View

_NUMBER = re.compile(r"^\s*[ØΦφ⌀]?\s*(\d+(?:[.,]\d+)?)\s*(?:mm)?\s*$", re.IGNORECASE)
_NOTE = re.compile(
    r"(?:(?<![A-Za-z])(?:t|thk|thick(?:ness)?)\.?\s*[=:\uff1a]?\s*|厚度?\s*[=:\uff1a]?\s*|板厚\s*[=:\uff1a]?\s*|δ\s*=?\s*"
    r"|толщин\w*\s*[=:]?\s*)(\d+(?:[.,]\d+)?)"
    r"|(\d+(?:[.,]\d+)?)\s*(?:mm\s*)?(?:thk|thick)\b",
    re.IGNORECASE,
)
# A dimension agrees with the drawn thickness within this share of it.
AGREE_SHARE = 0.25
# Cross-sections sampled along an edge-on view.
_SAMPLES = 41


@dataclass
class Written:
    """A number on the sheet: its value as written and where it stands (output units)."""

    value: float
    x: float
    y: float
    text: str
    kind: str
    measured: float | None  # a DIMENSION's measured length, output units


def _parse(text: str) -> float | None:
    match = _NUMBER.match(text)
    return float(match.group(1).replace(",", ".")) if match else None


def written_numbers(texts: list[TextItem], offset: np.ndarray, scale: float) -> list[Written]:
    out = []
    for item in texts:
        value = _parse(item.text)
        if value is None or value <= 0:
            continue
        measured = None if item.measurement is None else item.measurement * scale
        x, y = (np.asarray([item.x, item.y]) - offset) * scale
        out.append(Written(value, float(x), float(y), item.text, item.kind, measured))
    return out


def thickness_notes(texts: list[TextItem], offset: np.ndarray, scale: float) -> list[Written]:
    out = []
    for item in texts:
        match = _NOTE.search(item.text)
        if not match:
            continue
        value = float((match.group(1) or match.group(2)).replace(",", "."))
        if value > 0:
            x, y = (np.asarray([item.x, item.y]) - offset) * scale
            out.append(Written(value, float(x), float(y), item.text, item.kind, None))
    return out


def text_scale(numbers: list[Written], main: View, scale: float) -> tuple[float, str]:
    """Output units per written unit, and why.

    Dimensions that carry their measured length say it directly; otherwise the main view's width
    and height both matching written numbers by one ratio do; else a written unit is a drawing
    unit."""
    ratios = [n.measured / n.value for n in numbers if n.measured]
    if ratios:
        value = float(np.median(ratios))
        return value, f"{len(ratios)} dimension(s) measure {value:.4g} output units per written unit"
    width, height = main.size
    for n in numbers:
        ratio = width / n.value
        for m in numbers:
            if m is not n and abs(height / m.value - ratio) <= 0.015 * ratio:
                return ratio, (
                    f"the main view's width and height ({width:.4g} x {height:.4g}) are written "
                    f"{n.text!r} and {m.text!r}: {ratio:.4g} output units per written unit"
                )
    return scale, "no dimension to compare: a written unit is taken to be a drawing unit"


def edge_view(item: ObjectViews) -> View | None:
    """The thin view lined up with the main view whose long side spans it: the plate edge-on."""
    candidates = []
    for link in item.others:
        if link.aligned_with != 0 or link.view.thin_ratio > THIN_RATIO:
            continue
        candidates.append(link.view)
    return min(candidates, key=lambda v: v.thin_ratio) if candidates else None


def cross_section(view: View) -> float:
    """The thickness most of an edge-on view has: the median of its cross-sections across the
    long side (a stepped or bent profile is measured where it is a plain sheet)."""
    x0, y0, x1, y1 = view.bbox
    horizontal = (x1 - x0) >= (y1 - y0)
    low, high = (x0, x1) if horizontal else (y0, y1)
    positions = np.linspace(low, high, _SAMPLES + 2)[1:-1]
    if horizontal:
        cuts = [LineString([(p, y0 - 1), (p, y1 + 1)]) for p in positions]
    else:
        cuts = [LineString([(x0 - 1, p), (x1 + 1, p)]) for p in positions]
    lengths = shapely.length(shapely.intersection(np.asarray(cuts, dtype=object), view.footprint))
    lengths = lengths[lengths > 0]
    return float(np.median(lengths)) if len(lengths) else float(min(x1 - x0, y1 - y0))


def _near(n: Written, view: View, margin: float) -> bool:
    x0, y0, x1, y1 = view.bbox
    return x0 - margin <= n.x <= x1 + margin and y0 - margin <= n.y <= y1 + margin


def _round(value: float) -> float:
    return round(value, 6)


def decide_thickness(
    item: ObjectViews, numbers: list[Written], notes: list[Written], k: float, k_why: str
) -> dict[str, Any] | None:
    """{value, source, evidence} from a note, a dimension on the edge view or the edge view
    itself; None when the sheet gives no thickness."""
    if notes:
        note = notes[0]
        return {
            "value": _round(note.value * k),
            "source": "note",
            "evidence": f"note {note.text!r} says {note.value:g} ({k_why})",
        }
    edge = edge_view(item)
    if edge is None:
        return None
    drawn = cross_section(edge)
    width, height = edge.size
    evidence = (
        f"the view edge-on ({width:.4g} x {height:.4g}) lines up with the main view; its section is "
        f"{drawn:.4g} along most of its length"
    )
    margin = max(4 * min(width, height), 0.1 * max(width, height))
    written = [n for n in numbers if _near(n, edge, margin)]
    best = min(written, key=lambda n: abs(n.value * k - drawn), default=None)
    if best is not None and abs(best.value * k - drawn) <= AGREE_SHARE * drawn:
        return {
            "value": _round(best.value * k),
            "source": "dimension",
            "evidence": f"{evidence}; the dimension {best.text!r} on it agrees ({k_why})",
        }
    return {"value": _round(drawn), "source": "side_view", "evidence": evidence}


def assign_notes(notes: list[Written], objects: list[ObjectViews]) -> list[list[Written]]:
    """Each thickness note goes to the object whose views lie nearest to it."""
    per_object: list[list[Written]] = [[] for _ in objects]
    if not objects:
        return per_object
    for note in notes:
        point = shapely.Point(note.x, note.y)
        distances = [min(v.footprint.distance(point) for v in item.views) for item in objects]
        per_object[int(np.argmin(distances))].append(note)
    return per_object
