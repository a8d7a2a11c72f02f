"""What the coordinates are in: $INSUNITS checked against the drawing itself.

$INSUNITS is a claim many writers get wrong (a plan drawn in inches saved with "millimetres").
Each candidate unit collects weighted evidence, and the declared unit wins ties with a prior:

- dimension texts against what they measure: a displayed ``24'-7"`` on a line 295.06 units long
  says one unit is an inch (weight grows with the number of agreeing dimensions, up to 5);
  a displayed ``1200 mm`` on a line 1200 units long says millimetres;
- the dimension style's architectural/engineering format (feet and inches) and $MEASUREMENT 0;
- unit notes in the title block fields or on the sheet ("UNIT: mm", "ALL DIMENSIONS IN INCHES");
- plausible size for the preset: a building 3-300 m across, a mechanical part 1 mm - 3 m.

The declared unit is overruled only when another leads it by ``_OVERRULE_MARGIN`` points.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from cad3d_kit.conversion import ConversionWarning

from ..entities import Collected
from ..options import DxfOptions
from ..units import OUTPUT_UNITS, drawing_unit
from .decisions import SheetDecision, UnitsDecision
from .units_text import displayed_length, unit_named_in

CANDIDATES: tuple[str, ...] = ("mm", "cm", "m", "in", "ft")
_DECLARED_PRIOR = 1.5
_OVERRULE_MARGIN = 2.0
_RATIO_TOLERANCE = 0.02
_MAX_EVIDENCE = 20
# A unitless drawing gets a unit only from a real signal (a dimension, a note), not a header hint.
_UNITLESS_MIN_POINTS = 1.0
# Plausible largest extent in metres of what the preset draws.
_PLAUSIBLE_EXTENT_M: dict[str, tuple[float, float]] = {"architecture": (3.0, 300.0), "mechanical": (0.001, 3.0)}
_NOTE = re.compile(r"(dimensions?|units?|dims?|размеры|единицы|尺寸|单位)\b.{0,20}", re.IGNORECASE)


class _Scores:
    def __init__(self) -> None:
        self.points: dict[str, float] = defaultdict(float)
        self.evidence: list[dict[str, Any]] = []

    def add(self, unit: str, weight: float, kind: str, detail: str) -> None:
        self.points[unit] += weight
        if len(self.evidence) < _MAX_EVIDENCE:
            self.evidence.append({"kind": kind, "detail": detail, "suggests": unit, "weight": round(weight, 3)})


def _nearest_unit(metres: float) -> str | None:
    for name in CANDIDATES:
        if abs(metres / OUTPUT_UNITS[name] - 1.0) <= _RATIO_TOLERANCE:
            return name
    return None


def _dimension_evidence(collected: Collected, scores: _Scores) -> None:
    agreeing: dict[str, list[str]] = defaultdict(list)
    for text in collected.texts:
        if not text.kind.endswith("DIMENSION") or not text.measurement or text.measurement <= 0:
            continue
        shown = displayed_length(text.text)
        if shown is None:
            continue
        value, unit = shown  # unit: the displayed unit, or "" when the text names none
        if not unit:
            continue
        factor = float(text.extra.get("dimlfac", 1.0) or 1.0)
        metres_per_unit = value * OUTPUT_UNITS[unit] / (text.measurement * factor)
        found = _nearest_unit(metres_per_unit)
        if found is not None:
            agreeing[found].append(text.text)
    for unit, texts in agreeing.items():
        weight = min(5.0, 0.5 * len(texts) + 1.0)
        sample = ", ".join(repr(t) for t in texts[:3])
        detail = f"{len(texts)} dimension(s) display lengths that match 1 unit = 1 {unit} ({sample})"
        scores.add(unit, weight, "dimension_text", detail)


def _style_evidence(collected: Collected, header: dict[str, Any], scores: _Scores) -> None:
    formats = [t.extra.get("dimlunit") for t in collected.texts if t.kind.endswith("DIMENSION")]
    imperial = sum(1 for f in formats if f in (3, 4))
    if imperial or header.get("$DIMLUNIT") in (3, 4):
        detail = "dimension style shows feet and inches (architectural/engineering format)"
        scores.add("in", 1.0, "dimension_style", detail)
    if header.get("$MEASUREMENT") == 0:
        scores.add("in", 0.5, "header", "$MEASUREMENT 0: imperial drawing defaults")


def _note_evidence(collected: Collected, sheet: SheetDecision, scores: _Scores) -> None:
    fields = (sheet.title_block or {}).get("fields", {})
    unit = unit_named_in(str(fields.get("unit", ""))) if fields.get("unit") else None
    if unit is not None:
        scores.add(unit, 3.0, "title_block", f"title block unit field {fields['unit']!r}")
    for text in collected.texts:
        if text.kind in ("TEXT", "MTEXT") and _NOTE.search(text.text):
            named = unit_named_in(_NOTE.search(text.text).group(0))  # type: ignore[union-attr]
            if named is not None:
                scores.add(named, 3.0, "note", f"note {text.text[:60]!r}")
                return


def _plausibility(collected: Collected, preset: str | None, scores: _Scores) -> None:
    limits = _PLAUSIBLE_EXTENT_M.get(preset or "")
    if limits is None or collected.bounds is None:
        return
    extent = float(max(collected.bounds[1] - collected.bounds[0]))
    if not math.isfinite(extent) or extent <= 0:
        return
    low, high = limits
    for unit in CANDIDATES:
        metres = extent * OUTPUT_UNITS[unit]
        if low <= metres <= high:
            scores.add(unit, 1.0, "plausible_size", f"{preset} extent {metres:.3g} m if drawn in {unit}")
        else:
            scores.points[unit] -= 2.0


def _weigh(
    collected: Collected, header: dict[str, Any], options: DxfOptions, sheet: SheetDecision, declared: str | None
) -> _Scores:
    scores = _Scores()
    if declared is not None:
        scores.points[declared] += _DECLARED_PRIOR
    _dimension_evidence(collected, scores)
    _style_evidence(collected, header, scores)
    _note_evidence(collected, sheet, scores)
    _plausibility(collected, options.preset, scores)
    return scores


def _unitless_default(declared_name: str, options: DxfOptions, scores: _Scores) -> UnitsDecision:
    """Nothing says what a unitless drawing is in. With a preset whose drawings are conventionally
    in millimetres and a plausible size in mm, mm (a 284-unit plate is not 284 m); otherwise the
    coordinates are taken to be in the output unit, as before."""
    plausible_mm = any(e["kind"] == "plausible_size" and e["suggests"] == "mm" for e in scores.evidence)
    if options.preset is not None and plausible_mm:
        return UnitsDecision(declared_name, "mm", OUTPUT_UNITS["mm"], "default", 0.3, scores.evidence)
    return UnitsDecision(declared_name, "unitless", None, "default", 0.0, scores.evidence)


def _confidence(margin: float) -> float:
    return min(0.99, max(0.05, 1.0 - math.exp(-max(margin, 0.0) / 2.0)))


def decide_units(
    collected: Collected, insunits: int, header: dict[str, Any], options: DxfOptions, sheet: SheetDecision
) -> UnitsDecision:
    """The unit of one drawing unit, from the option, the evidence or $INSUNITS."""
    unit = drawing_unit(insunits)
    declared = unit[0] if unit is not None and unit[0] in OUTPUT_UNITS else None
    declared_name = unit[0] if unit else "unitless"
    scores = _weigh(collected, header, options, sheet, declared)
    ranked = sorted(scores.points.items(), key=lambda item: -item[1])
    if options.input_unit not in ("auto", "declared"):
        metres = OUTPUT_UNITS[options.input_unit]
        return UnitsDecision(declared_name, options.input_unit, metres, "option", 1.0, scores.evidence)
    if unit is not None and (options.input_unit == "declared" or declared is None):
        return UnitsDecision(declared_name, declared_name, unit[1], "declared", 0.5, scores.evidence)
    best, best_points = ranked[0] if ranked else (None, 0.0)
    has_evidence = any(e["suggests"] == best and e["kind"] != "plausible_size" for e in scores.evidence)
    if declared is None:
        if best is None or not has_evidence or best_points < _UNITLESS_MIN_POINTS:
            return _unitless_default(declared_name, options, scores)
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        return UnitsDecision(
            declared_name, best, OUTPUT_UNITS[best], "evidence", _confidence(best_points - second), scores.evidence
        )
    lead = best_points - scores.points[declared]
    if best is None or best == declared or lead < _OVERRULE_MARGIN:
        others = max((p for u, p in ranked if u != declared), default=0.0)
        margin = scores.points[declared] - others
        return UnitsDecision(
            declared_name, declared, OUTPUT_UNITS[declared], "declared", _confidence(margin), scores.evidence
        )
    warning = ConversionWarning(
        "units_overridden",
        f"$INSUNITS says {declared} but the drawing says {best} "
        f"({'; '.join(e['detail'] for e in scores.evidence if e['suggests'] == best)[:300]}); used {best}. "
        "Pass input_unit=declared to keep the declared unit, or input_unit=<unit> to set it",
    )
    return UnitsDecision(
        declared_name, best, OUTPUT_UNITS[best], "evidence", _confidence(lead), scores.evidence, [warning]
    )
