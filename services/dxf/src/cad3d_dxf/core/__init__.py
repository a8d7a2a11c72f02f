"""Transport-agnostic DXF/DWG -> 3D conversion core.

``convert`` returns the model artifacts and a JSON report; ``inspect`` returns the report only.
A readable drawing with nothing to extrude is an error for ``convert`` (code
``nothing_to_extrude``, the message says what was seen) but a normal report for ``inspect``.
"""

from __future__ import annotations

from cad3d_kit.conversion import ConversionResult, ProgressCallback, no_progress

from .errors import ALL_ERROR_CODES, INTERNAL_ERROR, ConversionError, ErrorKind
from .options import DwgConfig, DxfOptions
from .parts import CONVERTER_VERSION
from .pipeline import run


def _guarded(
    data: bytes, options: DxfOptions, progress: ProgressCallback, dwg: DwgConfig | None, build: bool
) -> ConversionResult:
    try:
        return run(data, options, progress, dwg, build=build)
    except (ConversionError, MemoryError):
        raise
    except Exception as exc:  # never a raw crash: a stable code, and the cause for the bug report
        raise ConversionError(
            INTERNAL_ERROR,
            f"the converter failed unexpectedly ({type(exc).__name__}: {exc}); please report this drawing",
            ErrorKind.INTERNAL,
        ) from exc


def convert(
    data: bytes, options: DxfOptions, progress: ProgressCallback = no_progress, *, dwg: DwgConfig | None = None
) -> ConversionResult:
    """Convert DXF/DWG bytes to the model in ``options.format`` plus the report."""
    return _guarded(data, options, progress, dwg, build=True)


def inspect(
    data: bytes, options: DxfOptions, progress: ProgressCallback = no_progress, *, dwg: DwgConfig | None = None
) -> ConversionResult:
    """Read and analyse the drawing exactly like ``convert`` but produce no artifacts."""
    return _guarded(data, options, progress, dwg, build=False)


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
