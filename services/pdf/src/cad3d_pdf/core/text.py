"""PDF text (PyMuPDF ``rawdict``) -> TEXT and MTEXT records.

One TEXT per span keeps each run's own font, size and position. A block whose lines are plain,
left-aligned, equally spaced single-span lines becomes one MTEXT so a paragraph stays editable
as one object.

Clipping is decided per string, not per glyph: a span is kept whole when the centre of its
visible glyphs lies on the page and inside its clip (``core.text_clip``), and dropped otherwise,
so no string comes out cut in the middle.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pymupdf

from cad3d_pdf.core import layers
from cad3d_pdf.core.model import MText, PageDrawing, Text
from cad3d_pdf.core.options import PdfOptions
from cad3d_pdf.core.text_clip import TextClip
from cad3d_pdf.core.units import PageTransform

# DXF text height is the cap height; PDF font size is the em size. 0.7 em is a typical cap
# height for drafting and sans fonts (MuPDF does not report a font's cap height).
CAP_HEIGHT_PER_EM = 0.7
_ALIGN_TOLERANCE_PT = 1.0


def _span_text(span: dict[str, Any]) -> tuple[str, tuple[float, float]] | None:
    """The span's text without surrounding blanks, and the origin of its first visible char."""
    chars = span.get("chars", [])
    # Control characters (tabs, stray newlines) would break a one-line TEXT: make them blanks.
    text = "".join(ch["c"] if ch["c"] >= " " else " " for ch in chars)
    stripped = text.strip()
    if not stripped:
        return None
    lead = len(text) - len(text.lstrip())
    origin = chars[lead]["origin"]
    return stripped, (float(origin[0]), float(origin[1]))


def _rotation(transform: PageTransform, direction: tuple[float, float]) -> float:
    dx, dy = transform.direction(*direction)
    return round(math.degrees(math.atan2(dy, dx)), 6) % 360.0


def _color(value: Any) -> tuple[int, int, int]:
    v = int(value or 0)
    return ((v >> 16) & 255, (v >> 8) & 255, v & 255)


def extract_text(
    page: pymupdf.Page, transform: PageTransform, options: PdfOptions, out: PageDrawing, clip: TextClip | None
) -> tuple[int, int]:
    """Append TEXT/MTEXT records for the page; returns the number of text strings added and the
    number dropped as off the page or outside their clip."""
    layer = layers.text_layer(options.layer_mode)
    # MuPDF's own clipping (to the page, to clip bounding boxes) cuts strings glyph by glyph:
    # take every glyph and decide per span here.
    flags = pymupdf.TEXTFLAGS_RAWDICT & ~pymupdf.TEXT_PRESERVE_IMAGES & ~pymupdf.TEXT_MEDIABOX_CLIP
    raw = page.get_text("rawdict", flags=flags, clip=pymupdf.INFINITE_RECT())
    # Text coordinates are on the unrotated page, whose origin is the crop box's corner.
    dropped = _drop_clipped(raw, (page.cropbox.width, page.cropbox.height), clip)
    count = 0
    for block in raw.get("blocks", []):
        if block.get("type") != 0:
            continue
        if _add_paragraph(block, transform, layer, out):
            count += 1
            continue
        for line in block.get("lines", []):
            rotation = _rotation(transform, line.get("dir", (1.0, 0.0)))
            for span in line.get("spans", []):
                found = _span_text(span)
                if found is None:
                    continue
                text, origin = found
                out.texts.append(
                    Text(
                        text=text,
                        insert=transform.point(*origin),
                        height=transform.length(float(span["size"]) * CAP_HEIGHT_PER_EM),
                        rotation=rotation,
                        font=str(span.get("font") or "Helvetica"),
                        color=_color(span.get("color")),
                        layer=layer,
                    )
                )
                count += 1
    return count, dropped


def _drop_clipped(raw: dict[str, Any], page_size: tuple[float, float], clip: TextClip | None) -> int:
    """Remove the spans whose visible glyphs centre off the page or outside their clip."""
    width, height = page_size
    dropped = 0
    for block in raw.get("blocks", []):
        if block.get("type") != 0:
            continue
        for line in block.get("lines", []):
            kept = []
            for span in line.get("spans", []):
                visible = [ch for ch in span.get("chars", []) if ch["c"].strip()]
                if not visible:
                    kept.append(span)  # blanks only: dropped later without counting
                    continue
                x0 = min(ch["bbox"][0] for ch in visible)
                y0 = min(ch["bbox"][1] for ch in visible)
                x1 = max(ch["bbox"][2] for ch in visible)
                y1 = max(ch["bbox"][3] for ch in visible)
                centre = ((x0 + x1) / 2, (y0 + y1) / 2)
                on_page = 0.0 <= centre[0] <= width and 0.0 <= centre[1] <= height
                if on_page and (clip is None or clip.keeps(visible[0]["origin"], centre)):
                    kept.append(span)
                else:
                    dropped += 1
            line["spans"] = kept
        block["lines"] = [line for line in block.get("lines", []) if line["spans"]]
    return dropped


def _add_paragraph(block: dict[str, Any], transform: PageTransform, layer: str, out: PageDrawing) -> bool:
    """Add the block as one MTEXT when it is a simple left-aligned paragraph."""
    lines = block.get("lines", [])
    if len(lines) < 2 or any(len(line.get("spans", [])) != 1 for line in lines):
        return False
    if any(tuple(line.get("dir", (1, 0))) != (1.0, 0.0) for line in lines) or transform.pre[:4] != (1, 0, 0, 1):
        return False
    spans = [line["spans"][0] for line in lines]
    found = [_span_text(span) for span in spans]
    if any(f is None for f in found):
        return False
    entries = [f for f in found if f is not None]
    sizes = {round(float(s["size"]), 2) for s in spans}
    fonts = {s.get("font") for s in spans}
    if len(sizes) != 1 or len(fonts) != 1:
        return False
    xs = [origin[0] for _, origin in entries]
    ys = [origin[1] for _, origin in entries]
    gaps = [b - a for a, b in itertools.pairwise(ys)]
    if max(xs) - min(xs) > _ALIGN_TOLERANCE_PT or min(gaps) <= 0:
        return False
    if max(gaps) - min(gaps) > _ALIGN_TOLERANCE_PT:
        return False
    size = float(spans[0]["size"])
    cap = size * CAP_HEIGHT_PER_EM
    # MTEXT inserts at the top-left of the first line: one cap height above its baseline.
    top_left = transform.point(xs[0], ys[0] - cap)
    out.mtexts.append(
        MText(
            lines=tuple(text for text, _ in entries),
            insert=top_left,
            char_height=transform.length(cap),
            line_spacing=transform.length(sum(gaps) / len(gaps)),
            rotation=0.0,
            font=str(spans[0].get("font") or "Helvetica"),
            color=_color(spans[0].get("color")),
            layer=layer,
        )
    )
    return True
