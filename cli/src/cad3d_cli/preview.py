"""PNG previews so a person can look at what cad3d made: the model (oblique and top views) and the
2D input drawn the same size beside it.

Pure functions, no CLI code. Each writes one PNG and returns notes: what it could not show (an
entity ezdxf failed to draw, extra pages, an empty model), also written on the picture itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from cad3d_cli.preview_drawing import drawing_picture, finish_drawing, pdf_page_picture
from cad3d_cli.preview_model import ModelTriangles, dxf_has_meshes, load_model, metres_per_unit
from cad3d_cli.preview_raster import BACKGROUND, INK, draw_scale_bar, font, oblique_view, render_view, top_view
from cad3d_kit.conversion import OutputArtifact

SIZE = (1600, 800)
MODEL_FORMATS = ("glb", "gltf", "stl", "obj", "ply")
# Room kept free in each model panel (left, top, right, bottom) for its heading and scale bar.
PANEL_MARGINS = (30, 60, 30, 100)


def bbox_caption(size_m: Sequence[float]) -> str:
    """Width x depth x height in metres, e.g. "8.60 m x 3.40 m x 3.00 m"; parts smaller than a
    metre also in mm, where two decimals of a metre would hide them."""
    sizes = [max(float(v), 0.0) for v in size_m]
    if max(sizes, default=0.0) >= 1.0:
        return " x ".join(f"{v:.2f} m" for v in sizes)
    metres = " x ".join(f"{v:.3f} m" for v in sizes)
    return f"{metres} ({' x '.join(f'{v * 1000:.4g}' for v in sizes)} mm)"


def model_caption(model: ModelTriangles) -> str:
    low, high = model.bounds
    return f"{bbox_caption(high - low)}   {model.parts} mesh(es), {len(model.corners):,} triangles"


def render_model_png(
    data: bytes,
    fmt: str,
    out: Path,
    *,
    title: str = "",
    unit: str | None = None,
    companions: dict[str, bytes] | None = None,
    size: tuple[int, int] = SIZE,
) -> list[str]:
    """One PNG, two panels: an oblique view and the top view, each with a scale bar and the model's
    bounding box in metres. ``unit`` is what an STL/OBJ/PLY/DXF is in (default: what the file
    says, else mm); GLB is metres by definition and its scene ``unit`` labels the scale bar."""
    model = load_model(data, fmt, unit=unit, companions=companions)
    image = model_image(model, title, size)
    _save(image, out)
    return [] if len(model.corners) else ["the model has no faces"]


def model_image(model: ModelTriangles, title: str, size: tuple[int, int] = SIZE) -> Image.Image:
    width, height = size
    panel_size = (width // 2, height)
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    metres = metres_per_unit(model.unit)
    for column, view in enumerate((oblique_view(), top_view())):
        panel = render_view(model, view, panel_size, PANEL_MARGINS)
        x = column * panel_size[0]
        image.paste(panel.image, (x, 0))
        left, _top, _right, bottom = PANEL_MARGINS
        draw.text((x + left, 14), title[:70], fill=INK, font=font(20))
        draw.text((x + left, 38), view.name, fill=(90, 90, 90), font=font(15))
        if not len(model.corners):
            draw.text((x + left, height // 2), "the model has no faces", fill=(160, 0, 0), font=font(20))
            continue
        draw_scale_bar(image, (x + left, height - bottom + 30), panel.pixels_per_metre * metres, model.unit, metres)
        draw.text((x + left, height - 30), model_caption(model), fill=INK, font=font(15))
    draw.line((width // 2, 10, width // 2, height - 10), fill=(210, 210, 210), width=1)
    return image


def render_drawing_png(
    data: bytes, out: Path, *, layout: str | None = None, title: str = "", size: tuple[int, int] = SIZE
) -> list[str]:
    """The 2D DXF drawn with ezdxf's drawing add-on on white, the size of the model picture, with
    a scale bar in the drawing's unit. Never raises for a drawing ezdxf cannot draw: the picture
    says what went wrong."""
    picture = drawing_picture(data, size, layout)
    _save(finish_drawing(picture, title), out)
    return picture.notes


def render_pdf_page_png(data: bytes, out: Path, page: int = 0, *, size: tuple[int, int] = SIZE) -> None:
    """One page (0-based) of a PDF, fitted on white."""
    _save(pdf_page_picture(data, size, page), out)


def write_preview(
    artifacts: Sequence[OutputArtifact], out: Path, fmt: str, title: str = "", *, unit: str | None = None
) -> list[str]:
    """Preview of a conversion's main artifact: a 3D model as oblique + top views, a 2D DXF (what
    a PDF converts to) as a drawing, a 3D DXF (cad3d's POLYFACE meshes) as a model."""
    fmt = fmt.lower()
    suffix = "." + ("dxf" if fmt == "dxf" else "png" if fmt == "depth_png" else fmt)
    matching = [a for a in artifacts if a.name.lower().endswith(suffix)]
    if not matching:
        raise ValueError(f"no {suffix} artifact to preview among {[a.name for a in artifacts]}")
    main = matching[0]
    notes = [f"{len(matching) - 1} more {suffix} artifact(s) not shown"] if len(matching) > 1 else []
    if fmt in MODEL_FORMATS:
        companions = {a.name: a.data for a in artifacts if a is not main}
        return notes + render_model_png(main.data, fmt, out, title=title, unit=unit, companions=companions)
    if fmt == "dxf":
        if dxf_has_meshes(main.data):
            return notes + render_model_png(main.data, "dxf", out, title=title, unit=unit)
        return notes + render_drawing_png(main.data, out, title=title)
    if fmt == "depth_png":
        _save(_fit(_visible_depth(Image.open(io.BytesIO(main.data))), SIZE), out)
        return notes
    raise ValueError(f"cannot preview a {fmt!r} result")


def _visible_depth(image: Image.Image) -> Image.Image:
    """A 16-bit depth map stretched to 8-bit grey (``convert`` would clip it to white)."""
    if image.mode in ("RGB", "RGBA", "L", "P"):
        return image.convert("RGB")
    values = np.asarray(image, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    grey = (values - low) / ((high - low) or 1.0) * 255
    return Image.fromarray(grey.astype(np.uint8), "L").convert("RGB")


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    scale = min(size[0] / image.width, size[1] / image.height)
    resized = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    canvas = Image.new("RGB", size, BACKGROUND)
    canvas.paste(resized, ((size[0] - resized.width) // 2, (size[1] - resized.height) // 2))
    return canvas


def _save(image: Image.Image, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, format="PNG", optimize=False)


__all__ = [
    "bbox_caption",
    "model_caption",
    "model_image",
    "render_drawing_png",
    "render_model_png",
    "render_pdf_page_png",
    "write_preview",
]
