"""Layer names: optional content groups, stroke style, or one layer for everything."""

from __future__ import annotations

import re

from cad3d_pdf.core.model import RGB
from cad3d_pdf.core.options import LayerMode

TEXT_LAYER = "TEXT"
RASTER_LINES_LAYER = "RASTER_LINES"
RASTER_UNDERLAY_LAYER = "RASTER_UNDERLAY"
SINGLE_LAYER = "0"

# Characters DXF forbids in table names.
_FORBIDDEN = re.compile(r'[<>/\\":;?*|=`\x00-\x1f]')


def safe_layer_name(name: str) -> str:
    cleaned = _FORBIDDEN.sub("_", name).strip()
    return cleaned[:255] or SINGLE_LAYER


def hex_color(color: RGB) -> str:
    return "{:02X}{:02X}{:02X}".format(*color)


def stroke_layer(mode: LayerMode, ocg: str, color: RGB, width_mm: float) -> str:
    if mode == "single":
        return SINGLE_LAYER
    if mode == "ocg" and ocg:
        return safe_layer_name(ocg)
    return f"STROKE_{hex_color(color)}_{width_mm:.2f}MM"


def fill_layer(mode: LayerMode, ocg: str, color: RGB) -> str:
    if mode == "single":
        return SINGLE_LAYER
    if mode == "ocg" and ocg:
        return safe_layer_name(ocg)
    return f"FILL_{hex_color(color)}"


def text_layer(mode: LayerMode) -> str:
    return SINGLE_LAYER if mode == "single" else TEXT_LAYER
