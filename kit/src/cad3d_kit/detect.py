"""Detect what an upload is from its bytes, never from its name or the client's Content-Type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InputKind = Literal["dxf", "pdf", "image"]


@dataclass(frozen=True)
class DetectedInput:
    kind: InputKind
    media_type: str
    extension: str


_BINARY_DXF = b"AutoCAD Binary DXF\r\n\x1a\x00"
_DWG_VERSIONS = (b"AC1012", b"AC1014", b"AC1015", b"AC1018", b"AC1021", b"AC1024", b"AC1027", b"AC1032", b"AC1009")


def _looks_like_ascii_dxf(head: bytes) -> bool:
    # An ASCII DXF is group-code/value line pairs; it starts with "0\nSECTION", possibly after a
    # BOM, blank space and any number of "999\ncomment" pairs (CloudCompare's dxflib writes
    # several). ENTITIES-only files start the same way. Group codes may be padded ("  0").
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    lines = [line.strip() for line in text.splitlines()]
    index = 0
    while index + 1 < len(lines) and lines[index] == b"999":
        index += 2
    if index + 1 >= len(lines):
        # Only comments in the sniffed head: a DXF whose comments fill it is still a DXF.
        return index > 0 and len(head) >= 1024
    return lines[index] == b"0" and lines[index + 1].upper() in (b"SECTION", b"EOF")


def detect(head: bytes) -> DetectedInput | None:
    """``head`` is the first few KiB of the upload."""
    if head.startswith(_BINARY_DXF) or _looks_like_ascii_dxf(head):
        return DetectedInput("dxf", "image/vnd.dxf", "dxf")
    if head[:6] in _DWG_VERSIONS or (head.startswith(b"AC10") and head[4:6].isdigit()):
        return DetectedInput("dxf", "image/vnd.dwg", "dwg")
    if b"%PDF-" in head[:1024]:
        return DetectedInput("pdf", "application/pdf", "pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return DetectedInput("image", "image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return DetectedInput("image", "image/jpeg", "jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return DetectedInput("image", "image/webp", "webp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return DetectedInput("image", "image/tiff", "tif")
    return None
