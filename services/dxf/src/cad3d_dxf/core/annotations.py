"""What the drawing says in words and symbols: texts, dimensions and block references (WCS).

Nothing here is extruded. The drawing-sense steps (sense/) read these to find title blocks,
room names, scale and unit notes, dimension values that contradict $INSUNITS, and symbol or
furniture blocks. Texts inside blocks are placed with their INSERT's transform like geometry.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ezdxf.tools.text import plain_mtext, plain_text

TEXT_TYPES = frozenset({"TEXT", "MTEXT", "ATTRIB", "ATTDEF", "DIMENSION", "ARC_DIMENSION", "LARGE_RADIAL_DIMENSION"})
# Texts kept per drawing: a site plan's thousands of spot heights must not cost much memory.
MAX_TEXTS = 50_000


@dataclass(slots=True)
class TextItem:
    """A text as a reader sees it: plain words at a place, with its size.

    For a DIMENSION, ``measurement`` is the distance it measures in drawing units (from its
    definition points) and ``text`` what it displays (its override, or its rendered value).
    """

    text: str
    x: float
    y: float
    height: float  # drawing units; 0 when unknown
    rotation: float  # degrees
    layer: str
    kind: str  # DXF type: TEXT, MTEXT, ATTRIB, DIMENSION, ...
    handle: str
    measurement: float | None = None
    tag: str = ""  # ATTRIB/ATTDEF tag, e.g. TITLE, SCALE
    block: str = ""  # name of the block it came from ("" in the layout itself)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class InsertRecord:
    """One block reference: which block, where its content lies (XY bbox, WCS), and its scale."""

    name: str
    layer: str
    handle: str
    low: np.ndarray  # (2,)
    high: np.ndarray  # (2,)
    scale: float
    excluded: str = ""  # why its geometry was left out (sense/blocks.py), "" when it was placed


def _dimension_text(entity: Any) -> tuple[str, float | None, dict[str, Any]]:
    """Displayed text and measured value of a DIMENSION (drawing units, before DIMLFAC)."""
    extra: dict[str, Any] = {}
    measurement: float | None = None
    try:
        measurement = float(entity.get_measurement())
    except Exception:
        actual = entity.dxf.get("actual_measurement")
        measurement = float(actual) if actual is not None else None
    if measurement is not None and not math.isfinite(measurement):
        measurement = None
    override = str(entity.dxf.get("text", "") or "")
    shown = ""
    block = None
    try:
        block = entity.get_geometry_block()
    except Exception:
        block = None
    if block is not None:
        for item in block:
            if item.dxftype() == "MTEXT":
                shown = str(plain_mtext(item.text))
                break
            if item.dxftype() == "TEXT":
                shown = plain_text(item.dxf.text)
                break
    if override and override not in ("<>", " "):
        shown = str(plain_mtext(override.replace("<>", shown or "")))
    with contextlib.suppress(Exception):  # a broken style only loses the format hint
        style = entity.override()  # the dimension's style with its own overrides applied
        extra["dimlunit"] = int(style.get("dimlunit", 2))
        extra["dimlfac"] = float(style.get("dimlfac", 1.0))
    return shown.strip(), measurement, extra


def text_of(entity: Any, layer: str, handle: str, block: str = "") -> TextItem | None:
    """The TextItem of a text-like entity, or None when it carries no readable words."""
    dxftype = entity.dxftype()
    dxf = entity.dxf
    measurement: float | None = None
    extra: dict[str, Any] = {}
    if dxftype == "MTEXT":
        text = str(plain_mtext(entity.text))
        height = float(dxf.get("char_height", 0.0) or 0.0)
        point = dxf.get("insert")
        rotation = float(entity.get_rotation()) if hasattr(entity, "get_rotation") else 0.0
    elif dxftype in ("TEXT", "ATTRIB", "ATTDEF"):
        text = plain_text(str(dxf.get("text", "") or ""))
        height = float(dxf.get("height", 0.0) or 0.0)
        point = dxf.get("insert")
        rotation = float(dxf.get("rotation", 0.0) or 0.0)
        if dxftype == "ATTDEF" and not text:
            text = str(dxf.get("tag", "") or "")
    else:  # dimensions
        text, measurement, extra = _dimension_text(entity)
        height = 0.0
        point = dxf.get("text_midpoint") or dxf.get("defpoint")
        rotation = 0.0
    if point is None:
        return None
    text = " ".join(text.split()) if dxftype != "MTEXT" else text.strip()
    if not text and measurement is None:
        return None
    x, y = float(point[0]), float(point[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    tag = str(dxf.get("tag", "") or "") if dxftype in ("ATTRIB", "ATTDEF") else ""
    return TextItem(text, x, y, height, rotation, layer, dxftype, handle, measurement, tag, block, extra)


def place_texts(
    texts: list[TextItem], matrices: np.ndarray, layers: list[str], handles: list[str], block: str
) -> list[TextItem]:
    """Block-template texts placed by each INSERT matrix (k, 4, 4), row-vector convention."""
    if not texts or not len(matrices):
        return []
    points = np.asarray([(t.x, t.y, 0.0, 1.0) for t in texts])
    placed = np.einsum("nj,kjl->knl", points, matrices)  # (k, n, 4)
    scales = np.sqrt(np.abs(np.linalg.det(matrices[:, :2, :2])))
    out: list[TextItem] = []
    for k in range(len(matrices)):
        for n, text in enumerate(texts):
            layer = layers[k] if text.layer == "\x00BYBLOCK" else text.layer
            measurement = None if text.measurement is None else text.measurement * float(scales[k])
            out.append(
                TextItem(
                    text.text,
                    float(placed[k, n, 0]),
                    float(placed[k, n, 1]),
                    text.height * float(scales[k]),
                    text.rotation,
                    layer,
                    text.kind,
                    handles[k],
                    measurement,
                    text.tag,
                    text.block or block,
                    text.extra,
                )
            )
    return out


def placed_bounds(low: np.ndarray, high: np.ndarray, matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """XY bboxes (k, 2) of a template bbox under each INSERT matrix."""
    corners = np.asarray(
        [(low[0], low[1], 0, 1), (high[0], low[1], 0, 1), (high[0], high[1], 0, 1), (low[0], high[1], 0, 1)]
    )
    placed = np.einsum("nj,kjl->knl", corners, matrices)[..., :2]
    return placed.min(axis=1), placed.max(axis=1)
