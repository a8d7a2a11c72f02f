"""The sheet around the object: drawing frame, title block, tables, notes, dimension geometry."""

from __future__ import annotations

from ..entities import Collected
from ..options import DxfOptions
from .decisions import SheetDecision


def read_sheet(collected: Collected, options: DxfOptions) -> SheetDecision:
    """Find the sheet furniture and remove its geometry from ``collected`` (sheet="auto")."""
    return SheetDecision(mode=options.sheet)
