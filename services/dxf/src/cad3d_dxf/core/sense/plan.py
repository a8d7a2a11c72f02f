"""Architecture plans: walls, door and window openings, rooms with names, storeys."""

from __future__ import annotations

import numpy as np

from ..entities import Collected
from ..options import DxfOptions
from ..parts import Part, RegionStats
from ..rules import LayerResolver
from ..walls import classify_plan, wall_bands
from .decisions import PartsOutcome


def read_plan(
    parts: list[Part],
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """Walls with openings, rooms with floor slabs; ``parts`` are in output units, recentred."""
    assert resolve.preset is not None
    bands = wall_bands(collected, resolve, resolve.preset, offset, scale)
    return PartsOutcome(classify_plan(parts, bands, resolve.preset, resolve, stats))
