"""What the coordinates are in: $INSUNITS checked against the drawing itself."""

from __future__ import annotations

from typing import Any

from ..entities import Collected
from ..options import DxfOptions
from ..units import OUTPUT_UNITS, drawing_unit
from .decisions import SheetDecision, UnitsDecision


def decide_units(
    collected: Collected, insunits: int, header: dict[str, Any], options: DxfOptions, sheet: SheetDecision
) -> UnitsDecision:
    """The unit of one drawing unit, from the option, the evidence or $INSUNITS."""
    declared = drawing_unit(insunits)
    declared_name = declared[0] if declared else "unitless"
    if options.input_unit not in ("auto", "declared"):
        metres = OUTPUT_UNITS[options.input_unit]
        return UnitsDecision(declared_name, options.input_unit, metres, "option", 1.0)
    if declared is None:
        return UnitsDecision(declared_name, "unitless", None, "default", 0.0)
    return UnitsDecision(declared_name, declared_name, declared[1], "declared", 0.5)
