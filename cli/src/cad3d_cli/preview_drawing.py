"""Pictures of 2D inputs: a DXF through ezdxf's drawing add-on (PyMuPDF backend), a PDF page.

Real drawings break ezdxf's renderer in places (richland's house plans: a block inserted with a
zero scale makes its explode divide by zero). One bad entity costs that entity, never the picture:
failures are counted and written on it, and when the add-on fails as a whole the lines, arcs and
polylines are drawn here instead.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

from ezdxf.addons.drawing import Frontend, RenderContext, config, layout, pymupdf
from PIL import Image, ImageDraw

from cad3d_cli.preview_model import read_dxf
from cad3d_cli.preview_raster import BACKGROUND, INK, draw_scale_bar, font
from cad3d_dxf.core.units import drawing_unit

log = logging.getLogger(__name__)

_DPI = 96
# In 1/300 inch, ezdxf's unit for it: 1.3 px at 96 dpi.
_MIN_LINEWEIGHT = 4.0
_MM_PER_INCH = 25.4
# Room kept free on the picture (left, top, right, bottom) for the title and the scale bar.
MARGINS = (30, 60, 30, 80)


@dataclass
class DrawingPicture:
    image: Image.Image
    pixels_per_unit: float
    unit: str
    metres_per_unit: float
    notes: list[str] = field(default_factory=list)


def drawing_picture(data: bytes, size: tuple[int, int], layout: str | None = None) -> DrawingPicture:
    """The drawing's model space (or the named layout) fitted into ``size``, on white."""
    try:
        doc = read_dxf(data)
    except Exception as exc:  # the reader's ConversionError, or what ezdxf raises on garbage
        return _message_picture(size, f"ezdxf cannot read this drawing: {type(exc).__name__}: {exc}")
    notes: list[str] = []
    space: Any = doc.modelspace()
    if layout is not None:
        if layout in doc.layouts:
            space = doc.layouts.get(layout)
        else:
            notes.append(f"no layout {layout!r}; drew the model space")
    known = drawing_unit(int(doc.header.get("$INSUNITS", 0) or 0))
    unit, metres = known if known else ("drawing units", 0.0)
    try:
        picture = _addon_picture(doc, space, size)
    except Exception as exc:  # the add-on failed as a whole: draw the simple entities ourselves
        log.warning("ezdxf drawing add-on failed (%s); drawing lines only", exc)
        picture = _fallback_picture(space, size)
        picture.notes.insert(0, f"ezdxf's renderer failed ({type(exc).__name__}: {exc}); lines and arcs only")
    picture.unit, picture.metres_per_unit = unit, metres
    picture.notes[:0] = notes
    return picture


class TolerantFrontend(Frontend):
    """ezdxf's Frontend whose failures cost one entity each (a block reference: what was left of it)."""

    failures: list[str]

    def draw_entity(self, entity: Any, properties: Any) -> None:
        try:
            super().draw_entity(entity, properties)
        except Exception as exc:  # any entity ezdxf cannot draw
            self.failures.append(f"{entity.dxftype()} {entity.dxf.get('handle', '?')}: {type(exc).__name__}")
            self.pipeline.exit_entity(entity)


def _addon_picture(doc: Any, space: Any, size: tuple[int, int]) -> DrawingPicture:
    backend = pymupdf.PyMuPdfBackend()
    settings = config.Configuration(
        background_policy=config.BackgroundPolicy.WHITE,
        # ezdxf picks ACI 7 (white/black) against the background: black here.
        color_policy=config.ColorPolicy.COLOR,
        # Hairlines at least about a pixel wide, or light layer colours vanish on white.
        min_lineweight=_MIN_LINEWEIGHT,
    )
    frontend = TolerantFrontend(RenderContext(doc), backend, settings)
    frontend.failures = []
    frontend.draw_layout(space)
    box = backend.player().bbox()
    if not box.has_data:
        return _message_picture(size, "nothing ezdxf can draw in this layout")
    width, height = size
    left, top, right, bottom = MARGINS
    to_mm = _MM_PER_INCH / _DPI
    page = layout.Page(
        width * to_mm,
        height * to_mm,
        layout.Units.mm,
        margins=layout.Margins(top * to_mm, right * to_mm, bottom * to_mm, left * to_mm),
    )
    png = backend.get_pixmap_bytes(page, fmt="png", dpi=_DPI)
    if not png:
        raise RuntimeError("PyMuPDF produced no image")
    canvas = Image.new("RGB", size, BACKGROUND)
    canvas.paste(Image.open(io.BytesIO(png)).convert("RGB"), (0, 0))
    extent = box.size
    scale = min((width - left - right) / max(extent.x, 1e-12), (height - top - bottom) / max(extent.y, 1e-12))
    notes = []
    if frontend.failures:
        shown = "; ".join(frontend.failures[:3])
        notes.append(f"{len(frontend.failures)} entities could not be drawn ({shown})")
    return DrawingPicture(canvas, scale, "", 0.0, notes)


def _fallback_picture(space: Any, size: tuple[int, int]) -> DrawingPicture:
    """Lines, arcs, circles and polylines (also inside blocks) as thin black polylines."""
    from ezdxf import disassemble

    strokes: list[list[tuple[float, float]]] = []
    skipped = 0
    for primitive in disassemble.to_primitives(disassemble.recursive_decompose(space)):
        try:
            points = [(v.x, v.y) for v in primitive.vertices()]
        except Exception:  # one broken entity: the rest still draws
            skipped += 1
            continue
        if len(points) >= 2:
            strokes.append(points)
    if not strokes:
        return _message_picture(size, "no line the fallback renderer can draw")
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    width, height = size
    left, top, right, bottom = MARGINS
    scale = min(
        (width - left - right) / max(max(xs) - min(xs), 1e-12), (height - top - bottom) / max(max(ys) - min(ys), 1e-12)
    )
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    mx, my = left + (width - left - right) / 2, top + (height - top - bottom) / 2
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line([(mx + (x - cx) * scale, my - (y - cy) * scale) for x, y in stroke], fill=INK, width=1)
    notes = [f"{skipped} entities could not be drawn"] if skipped else []
    return DrawingPicture(image, scale, "", 0.0, notes)


def _message_picture(size: tuple[int, int], message: str) -> DrawingPicture:
    image = Image.new("RGB", size, BACKGROUND)
    ImageDraw.Draw(image).text((30, size[1] // 2), message, fill=(160, 0, 0), font=font(18))
    return DrawingPicture(image, 0.0, "", 0.0, [message])


def finish_drawing(picture: DrawingPicture, title: str) -> Image.Image:
    """Title, scale bar in the drawing's unit and notes written on the picture."""
    image = picture.image
    draw = ImageDraw.Draw(image)
    draw.text((MARGINS[0], 18), f"{title}  drawing (2D input)".strip(), fill=INK, font=font(20))
    bottom = image.height - MARGINS[3]
    if picture.pixels_per_unit > 0:
        draw_scale_bar(image, (MARGINS[0], bottom + 20), picture.pixels_per_unit, picture.unit, picture.metres_per_unit)
    for row, note in enumerate(picture.notes[:2]):
        draw.text((image.width // 3, bottom + 20 + 20 * row), note[:140], fill=(160, 0, 0), font=font(14))
    return image


def pdf_page_picture(data: bytes, size: tuple[int, int], page: int = 0) -> Image.Image:
    """One PDF page fitted into ``size`` on white."""
    import pymupdf

    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        if pdf.needs_pass:
            raise ValueError("the PDF is password protected")
        if not 0 <= page < pdf.page_count:
            raise ValueError(f"the PDF has {pdf.page_count} page(s); no page {page}")
        sheet = pdf[page]
        zoom = min(size[0] / sheet.rect.width, size[1] / sheet.rect.height)
        pixmap = sheet.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        rendered = Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)
    canvas = Image.new("RGB", size, BACKGROUND)
    canvas.paste(rendered, ((size[0] - rendered.width) // 2, (size[1] - rendered.height) // 2))
    return canvas
