"""Drawing-space records -> ezdxf entities (one layout per call)."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import ezdxf
from ezdxf.colors import rgb2int
from ezdxf.document import Drawing
from ezdxf.layouts import BaseLayout
from ezdxf.lldxf.const import VALID_DXF_LINEWEIGHTS

from cad3d_pdf.core import layers
from cad3d_pdf.core.dxf_fast import RawEntities, common_tags
from cad3d_pdf.core.model import RGB, PageDrawing, Stroke
from cad3d_pdf.core.options import UNIT_TO_INSUNITS

DXF_VERSION = "R2010"
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_STYLE_CHARS = re.compile(r"[^A-Za-z0-9_\-]")


def new_document(unit: str) -> Drawing:
    # setup=False: no stock linetypes/styles; we add exactly what the page uses.
    doc = ezdxf.new(DXF_VERSION, setup=False)
    doc.header["$INSUNITS"] = UNIT_TO_INSUNITS.get(unit, 0)
    doc.header["$MEASUREMENT"] = 0 if unit in ("in", "ft") else 1
    return doc


def document_bytes(doc: Drawing, raw: RawEntities | None = None) -> bytes:
    stream = io.StringIO()
    doc.write(stream)
    text = stream.getvalue()
    if raw is not None:
        text = raw.splice_into(text)
    return text.encode("utf-8")


def lineweight(width_mm: float) -> int:
    """Nearest valid DXF lineweight (1/100 mm); hairlines map to 0."""
    hundredths = width_mm * 100.0
    return min(VALID_DXF_LINEWEIGHTS, key=lambda lw: abs(lw - hundredths))


def _mtext_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


class LayoutWriter:
    """Adds one page's records to ``layout``, creating layers, linetypes and text styles on demand.

    With ``raw`` (modelspace only) LINE, LWPOLYLINE, SPLINE and TEXT use the direct tag writer;
    pass the same ``raw`` to ``document_bytes``.
    """

    def __init__(self, doc: Drawing, layout: BaseLayout, raw: RawEntities | None = None) -> None:
        self.doc = doc
        self.layout = layout
        self.raw = raw
        self.counts: Counter[str] = Counter()
        self._stroke_attribs: dict[Stroke, dict[str, Any]] = {}
        self._raw_common: dict[object, str] = {}

    # ----------------------------------------------------------------------------- tables
    def _layer(self, name: str, color: RGB | None = None) -> str:
        if name not in self.doc.layers:
            layer = self.doc.layers.add(name)
            if color is not None and name.startswith(("STROKE_", "FILL_")):
                layer.rgb = color
        return name

    def _linetype(self, dashes: tuple[float, ...]) -> str:
        name = "PDF_DASH_" + "_".join(f"{d:.4g}" for d in dashes).replace(".", "p")
        if name not in self.doc.linetypes:
            pattern: list[float] = [sum(dashes)]
            for index, value in enumerate(dashes):
                pattern.append(value if index % 2 == 0 else -value)
            self.doc.linetypes.add(name, pattern=pattern, description="dash pattern from PDF")
        return name

    def _text_style(self, font: str) -> str:
        base = _SUBSET_PREFIX.sub("", font) or "Standard"
        name = _STYLE_CHARS.sub("_", base)[:64]
        if name not in self.doc.styles:
            self.doc.styles.add(name, font=f"{base}.ttf")
        return name

    def _stroke(self, stroke: Stroke) -> dict[str, Any]:
        attribs = self._stroke_attribs.get(stroke)
        if attribs is None:
            attribs = {
                "layer": self._layer(stroke.layer, stroke.color),
                "true_color": rgb2int(stroke.color),
                "lineweight": lineweight(stroke.width_mm),
            }
            if stroke.dashes:
                attribs["linetype"] = self._linetype(stroke.dashes)
            self._stroke_attribs[stroke] = attribs
        return attribs

    def _raw_stroke(self, stroke: Stroke) -> str:
        tags = self._raw_common.get(stroke)
        if tags is None:
            attribs = self._stroke(stroke)
            tags = common_tags(attribs["layer"], attribs["true_color"], attribs["lineweight"], attribs.get("linetype"))
            self._raw_common[stroke] = tags
        return tags

    def _raw_text_common(self, layer: str, color: RGB) -> str:
        key = (layer, color)
        tags = self._raw_common.get(key)
        if tags is None:
            tags = common_tags(self._layer(layer), rgb2int(color))
            self._raw_common[key] = tags
        return tags

    def _raw_raster_common(self, layer: str) -> str:
        tags = self._raw_common.get(layer)
        if tags is None:
            tags = f"100\nAcDbEntity\n  8\n{layer}\n"
            self._raw_common[layer] = tags
        return tags

    def _write_raw(self, raw: RawEntities, drawing: PageDrawing) -> None:
        for line in drawing.lines:
            raw.line(line.start, line.end, self._raw_stroke(line.stroke))
        for polyline in drawing.polylines:
            raw.lwpolyline(polyline.points, polyline.closed, self._raw_stroke(polyline.stroke))
        for text in drawing.texts:
            raw.text(
                text.text,
                text.insert,
                text.height,
                text.rotation,
                self._text_style(text.font),
                self._raw_text_common(text.layer, text.color),
            )

    # ----------------------------------------------------------------------------- entities
    def write(self, drawing: PageDrawing) -> Counter[str]:
        layout = self.layout
        for fill in drawing.fills:
            hatch = layout.add_hatch(dxfattribs={"layer": self._layer(fill.layer, fill.color)})
            hatch.set_solid_fill(rgb=fill.color)
            for boundary in fill.boundaries:
                if all(len(edge) == 2 for edge in boundary):
                    hatch.paths.add_polyline_path([edge[0] for edge in boundary], is_closed=True)
                else:
                    path = hatch.paths.add_edge_path()
                    for edge in boundary:
                        if len(edge) == 2:
                            path.add_line(edge[0], edge[1])
                        else:
                            path.add_spline(control_points=edge, knot_values=[0, 0, 0, 0, 1, 1, 1, 1])
            self.counts["HATCH"] += 1
        if self.raw is not None:
            self._write_raw(self.raw, drawing)
        else:
            for line in drawing.lines:
                layout.add_line(line.start, line.end, dxfattribs=self._stroke(line.stroke))
            for polyline in drawing.polylines:
                layout.add_lwpolyline(polyline.points, close=polyline.closed, dxfattribs=self._stroke(polyline.stroke))
            for text in drawing.texts:
                layout.add_text(
                    text.text,
                    height=text.height,
                    rotation=text.rotation,
                    dxfattribs={
                        "insert": text.insert,
                        "layer": self._layer(text.layer),
                        "style": self._text_style(text.font),
                        "true_color": rgb2int(text.color),
                    },
                )
        self.counts["LINE"] += len(drawing.lines)
        self.counts["LWPOLYLINE"] += len(drawing.polylines)
        self.counts["TEXT"] += len(drawing.texts)
        for spline in drawing.splines:
            if self.raw is not None:
                self.raw.spline(spline.control_points, spline.knots, self._raw_stroke(spline.stroke))
            else:
                layout.add_open_spline(
                    spline.control_points, degree=3, knots=spline.knots, dxfattribs=self._stroke(spline.stroke)
                )
        self.counts["SPLINE"] += len(drawing.splines)
        for mtext in drawing.mtexts:
            layout.add_mtext(
                "\\P".join(_mtext_escape(line) for line in mtext.lines),
                dxfattribs={
                    "insert": mtext.insert,
                    "char_height": mtext.char_height,
                    "attachment_point": 1,  # top left
                    "rotation": mtext.rotation,
                    "line_spacing_factor": max(0.25, min(4.0, mtext.line_spacing / (mtext.char_height * 5 / 3))),
                    "layer": self._layer(mtext.layer),
                    "style": self._text_style(mtext.font),
                    "true_color": rgb2int(mtext.color),
                },
            )
        self.counts["MTEXT"] += len(drawing.mtexts)
        if drawing.raster_lines or drawing.raster_circles:
            raster_layer = self._layer(layers.RASTER_LINES_LAYER)
            for start, end in drawing.raster_lines:
                if self.raw is not None:
                    self.raw.line(start, end, self._raw_raster_common(raster_layer))
                else:
                    layout.add_line(start, end, dxfattribs={"layer": raster_layer})
            for center, radius in drawing.raster_circles:
                layout.add_circle(center, radius, dxfattribs={"layer": raster_layer})
            self.counts["LINE"] += len(drawing.raster_lines)
            self.counts["CIRCLE"] += len(drawing.raster_circles)
        return +self.counts

    def add_underlay(self, filename: str, size_px: tuple[int, int], width: float, height: float) -> None:
        """Reference ``filename`` (a file next to the DXF) as an IMAGE covering the page."""
        image_def = self.doc.add_image_def(filename=filename, size_in_pixel=size_px)
        self.layout.add_image(
            image_def,
            insert=(0, 0),
            size_in_units=(width, height),
            dxfattribs={"layer": self._layer(layers.RASTER_UNDERLAY_LAYER)},
        )
        self.counts["IMAGE"] += 1
