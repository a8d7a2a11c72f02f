"""Decide what the input bytes are from their content, never from a file name."""

from __future__ import annotations

from typing import Literal

from cad3d_kit.conversion import ConversionError

InputKind = Literal["pdf", "png", "jpeg"]

# Readers accept a PDF header anywhere in the first KiB (some generators prepend junk).
_PDF_HEADER_WINDOW = 1024


def detect_input(data: bytes) -> InputKind:
    if not data:
        raise ConversionError("unsupported_input", "the input is empty")
    if b"%PDF-" in data[:_PDF_HEADER_WINDOW]:
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    raise ConversionError("unsupported_input", "the input is neither a PDF nor a PNG/JPEG raster drawing")
