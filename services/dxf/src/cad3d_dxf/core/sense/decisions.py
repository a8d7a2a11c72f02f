"""The decisions the drawing-sense steps hand to the pipeline and the report (plain data)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cad3d_kit.conversion import ConversionWarning

from ..parts import Part


@dataclass
class SheetDecision:
    """What of the sheet is paper, not object: frame, title block, tables, notes, dimensions.

    ``frame`` and ``title_block`` are None when none was found; otherwise plain dicts with at
    least ``bbox`` ([x0, y0, x1, y1], drawing units) and ``evidence`` (a sentence). The title
    block also has ``fields`` (title, scale, unit, material, quantity... as read) and ``texts``.
    """

    mode: str = "auto"
    frame: dict[str, Any] | None = None
    title_block: dict[str, Any] | None = None
    tables: list[dict[str, Any]] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)  # reason -> entities left out
    warnings: list[ConversionWarning] = field(default_factory=list)
    # Block names whose references were left out, by reason (sense/blocks.py), a few per reason.
    blocks: dict[str, list[str]] = field(default_factory=dict)
    # What looked like sheet furniture but was kept, and why (information, not a warning).
    kept: list[dict[str, Any]] = field(default_factory=list)

    def as_report(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "frame": {"found": True, **self.frame} if self.frame else {"found": False},
            "title_block": {"found": True, **self.title_block} if self.title_block else {"found": False},
            "tables": self.tables,
            "excluded": dict(sorted(self.excluded.items())),
            "blocks": self.blocks,
            "kept": self.kept,
        }


@dataclass
class UnitsDecision:
    """What one drawing unit is, and why.

    ``metres_per_unit`` None means unitless: the coordinates are taken to be in the output unit.
    ``source``: "declared" ($INSUNITS trusted), "evidence" (the drawing contradicted it),
    "option" (input_unit given) or "default" (unitless and nothing to go on).
    """

    declared: str  # unit name of $INSUNITS, or "unitless"
    used: str  # unit name the conversion used, or "unitless"
    metres_per_unit: float | None
    source: str
    confidence: float  # 0..1: how sure the evidence makes us of ``used``
    evidence: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[ConversionWarning] = field(default_factory=list)

    def scale_to(self, output_metres: float) -> float:
        """Factor from drawing units to output units."""
        return 1.0 if self.metres_per_unit is None else self.metres_per_unit / output_metres

    def as_report(self) -> dict[str, Any]:
        return {
            "declared": self.declared,
            "used": self.used,
            "source": self.source,
            "confidence": round(self.confidence, 3),
            "evidence": self.evidence,
        }


@dataclass
class PartsOutcome:
    """Parts after a plan or views step, with its report section and warnings."""

    parts: list[Part]
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[ConversionWarning] = field(default_factory=list)
