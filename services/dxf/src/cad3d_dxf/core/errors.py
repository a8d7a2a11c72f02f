"""Stable error codes of the DXF core; the README and the gRPC layer map them, so never rename one."""

from __future__ import annotations

from cad3d_kit.conversion import ConversionError, ErrorKind, SourceLocation

DXF_UNREADABLE = "dxf_unreadable"
UNSUPPORTED_INPUT = "unsupported_input"
DWG_CONVERTER_UNAVAILABLE = "dwg_converter_unavailable"
DWG_CONVERSION_FAILED = "dwg_conversion_failed"
DWG_CONVERSION_TIMEOUT = "dwg_conversion_timeout"
NOTHING_TO_EXTRUDE = "nothing_to_extrude"
INVALID_OPTIONS = "invalid_options"
LAYOUT_NOT_FOUND = "layout_not_found"
# Block references expand beyond the placement budget (nested blocks, MINSERT grids).
DRAWING_TOO_COMPLEX = "drawing_too_complex"
# --strict: the conversion had warnings (e.g. outlines that could not be closed), so no model.
STRICT_WARNINGS = "strict_warnings"
# Safety net: a geometry step failed in a way no entity-level guard caught. Always a bug to report.
INTERNAL_ERROR = "internal_error"

ALL_ERROR_CODES = (
    DXF_UNREADABLE,
    UNSUPPORTED_INPUT,
    DWG_CONVERTER_UNAVAILABLE,
    DWG_CONVERSION_FAILED,
    DWG_CONVERSION_TIMEOUT,
    NOTHING_TO_EXTRUDE,
    INVALID_OPTIONS,
    LAYOUT_NOT_FOUND,
    STRICT_WARNINGS,
    DRAWING_TOO_COMPLEX,
    INTERNAL_ERROR,
)


def invalid_options(message: str) -> ConversionError:
    return ConversionError(INVALID_OPTIONS, message, ErrorKind.INVALID_INPUT)


def unreadable(message: str) -> ConversionError:
    return ConversionError(DXF_UNREADABLE, message, ErrorKind.INVALID_INPUT)


__all__ = [
    "ALL_ERROR_CODES",
    "DRAWING_TOO_COMPLEX",
    "DWG_CONVERSION_FAILED",
    "DWG_CONVERSION_TIMEOUT",
    "DWG_CONVERTER_UNAVAILABLE",
    "DXF_UNREADABLE",
    "INTERNAL_ERROR",
    "INVALID_OPTIONS",
    "LAYOUT_NOT_FOUND",
    "NOTHING_TO_EXTRUDE",
    "STRICT_WARNINGS",
    "UNSUPPORTED_INPUT",
    "ConversionError",
    "ErrorKind",
    "SourceLocation",
    "invalid_options",
    "unreadable",
]
