"""Transport-agnostic DXF/DWG -> 3D conversion core.

``convert`` returns the model artifacts and a JSON report; ``inspect`` returns the report only.
A readable drawing with nothing to extrude is an error for ``convert`` (code
``nothing_to_extrude``, the message says what was seen) but a normal report for ``inspect``.
"""

from __future__ import annotations

from cad3d_kit.conversion import ConversionResult, ProgressCallback, no_progress

from .errors import ALL_ERROR_CODES
from .options import DwgConfig, DxfOptions
from .parts import CONVERTER_VERSION
from .pipeline import run


def convert(
    data: bytes, options: DxfOptions, progress: ProgressCallback = no_progress, *, dwg: DwgConfig | None = None
) -> ConversionResult:
    """Convert DXF/DWG bytes to the model in ``options.format`` plus the report."""
    return run(data, options, progress, dwg, build=True)


def inspect(
    data: bytes, options: DxfOptions, progress: ProgressCallback = no_progress, *, dwg: DwgConfig | None = None
) -> ConversionResult:
    """Read and analyse the drawing exactly like ``convert`` but produce no artifacts."""
    return run(data, options, progress, dwg, build=False)


__all__ = [
    "ALL_ERROR_CODES",
    "CONVERTER_VERSION",
    "ConversionResult",
    "DwgConfig",
    "DxfOptions",
    "ProgressCallback",
    "convert",
    "inspect",
    "no_progress",
]
