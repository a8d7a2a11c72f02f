"""Round-trip fidelity harness: DXF -> PDF (ezdxf drawing add-on, PyMuPDF backend) -> DXF (our core).

ezdxf's PDF backend always draws text as glyph outlines, so text would be unrecoverable without
OCR. Plot drivers that CAD users print with keep text as PDF text, so the harness renders the
geometry with ezdxf (text ignored) and writes each TEXT/MTEXT/ATTRIB string into the same page as
real PDF text at its plotted position, through the same placement matrix ezdxf used.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import ezdxf
import numpy as np
import pymupdf
import shapely
from ezdxf import bbox, disassemble, path, recover
from ezdxf.addons.drawing import Frontend, RenderContext, config, layout
from ezdxf.addons.drawing import pymupdf as ezdxf_pymupdf
from ezdxf.document import Drawing
from ezdxf.entities import Hatch, MText, Text
from ezdxf.math import Matrix44, Vec2, Vec3

from cad3d_pdf.core.text import CAP_HEIGHT_PER_EM

TEXT_TYPES = {"TEXT", "MTEXT", "ATTRIB", "ATTDEF"}
# Not compared: text (compared as strings) and entity types with no 2D plot geometry.
SKIPPED_TYPES = TEXT_TYPES | {"POINT", "VIEWPORT", "IMAGE", "WIPEOUT", "3DSOLID", "REGION", "BODY", "MESH"}
PAGE = layout.Page(420, 297, layout.Units.mm, layout.Margins.all(10))  # A3 landscape


@dataclass
class Rendered:
    pdf: bytes
    matrix: Matrix44  # DXF modelspace -> PDF points, origin top-left
    page_height_pt: float
    texts: list[str]


def _visible(doc: Drawing, entity: Any) -> bool:
    if entity.dxf.get("invisible", 0):
        return False
    layer = doc.layers.get(entity.dxf.get("layer", "0"))
    return layer is None or not (layer.is_off() or layer.is_frozen())


def plotted_entities(doc: Drawing) -> Iterator[Any]:
    """Modelspace entities with blocks and dimensions exploded, hidden ones left out."""
    for entity in disassemble.recursive_decompose(doc.modelspace()):
        if _visible(doc, entity):
            yield entity


def text_items(doc: Drawing) -> list[tuple[str, Vec3, float, float]]:
    """(string, insert, cap height, rotation) of every visible text line."""
    items: list[tuple[str, Vec3, float, float]] = []
    for entity in plotted_entities(doc):
        kind = entity.dxftype()
        if kind in ("TEXT", "ATTRIB"):
            text = entity.plain_text().strip()
            if text:
                items.append((text, Vec3(entity.dxf.insert), entity.dxf.height, entity.dxf.get("rotation", 0.0)))
        elif kind == "MTEXT":
            height = entity.dxf.char_height
            insert = Vec3(entity.dxf.insert)
            for row, line in enumerate(entity.plain_text().split("\n")):
                if line.strip():
                    items.append((line.strip(), insert - Vec3(0, (row + 1) * height * 5 / 3), height, 0.0))
    return items


def render_to_pdf(doc: Drawing) -> Rendered:
    # Point markers are a display setting (their size may depend on the viewer); plot points as dots.
    doc.header["$PDMODE"] = 0
    backend = ezdxf_pymupdf.PyMuPdfBackend()
    cfg = config.Configuration(
        text_policy=config.TextPolicy.IGNORE,
        background_policy=config.BackgroundPolicy.WHITE,
        color_policy=config.ColorPolicy.BLACK,
        # Pattern fills plot as hundreds of short lines whose source geometry is only a boundary.
        hatch_policy=config.HatchPolicy.SHOW_SOLID,
    )
    Frontend(RenderContext(doc), backend, config=cfg).draw_layout(doc.modelspace())
    settings = layout.Settings(fit_page=True)
    # The page must also hold the text we add, which ezdxf did not draw: fit geometry and text.
    render_box = backend.player().bbox()
    text_box = bbox.extents(e for e in plotted_entities(doc) if e.dxftype() in TEXT_TYPES)
    if text_box.has_data:
        render_box.extend([Vec2(text_box.extmin), Vec2(text_box.extmax)])
    # Reproduce the placement ezdxf's backend computes in get_replay (same public layout API).
    output_layout = layout.Layout(render_box, flip_y=True)
    final_page = output_layout.get_final_page(PAGE, settings)
    placed = copy.copy(settings)
    placed.output_coordinate_space = ezdxf_pymupdf.get_coordinate_output_space(final_page)
    matrix = output_layout.get_placement_matrix(final_page, settings=placed, top_origin=True)
    pdf = backend.get_pdf_bytes(PAGE, settings=settings, render_box=render_box)
    scale = matrix.transform_direction(Vec3(1, 0, 0)).magnitude
    out = pymupdf.open(stream=pdf)
    page = out[0]
    texts: list[str] = []
    for text, insert, height, rotation in text_items(doc):
        size = height * scale / CAP_HEIGHT_PER_EM
        if size < 1.0 or not text.isprintable():
            continue
        p = matrix.transform(insert)
        quarter = round(rotation / 90) % 4 * 90
        page.insert_text((p.x, p.y), text, fontsize=size, rotate=quarter)
        texts.append(text)
    return Rendered(out.tobytes(), matrix, page.rect.height, texts)


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline at most ``step`` apart, including every vertex."""
    if len(points) < 2:
        return points
    starts, ends = points[:-1], points[1:]
    counts = np.maximum(1, np.ceil(np.linalg.norm(ends - starts, axis=1) / step)).astype(int)
    segment = np.repeat(np.arange(len(starts)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    t = (offsets / counts[segment])[:, None]
    along = starts[segment] + (ends[segment] - starts[segment]) * t
    return np.vstack([along, points[-1:]])


def polylines(entities: Iterable[Any], to_page: Matrix44 | None, flatten: float) -> list[np.ndarray]:
    """Flattened geometry (2D polylines) of non-text entities, optionally mapped to page space.

    ``flatten`` is the chord tolerance in the output space (page points when ``to_page`` is given).
    """
    shapes: list[np.ndarray] = []
    if to_page is not None:
        flatten /= to_page.transform_direction(Vec3(1, 0, 0)).magnitude
    entities = list(entities)
    for point in (e for e in entities if e.dxftype() == "POINT"):  # a plotted dot: one location
        location = Vec3(point.dxf.location)
        if to_page is not None:
            location = to_page.transform(location)
        shapes.append(np.array([(location.x, location.y), (location.x, location.y)]))
    keep = [e for e in entities if e.dxftype() not in SKIPPED_TYPES]
    for primitive in disassemble.to_primitives(keep, max_flattening_distance=flatten):
        if primitive.path is not None:
            for sub in primitive.path.sub_paths():
                vertices = list(sub.flattening(flatten))
                if to_page is not None:
                    vertices = list(to_page.transform_vertices(vertices))
                if len(vertices) >= 2:
                    shapes.append(np.array([(v.x, v.y) for v in vertices]))
        elif primitive.mesh is not None:
            mesh = primitive.mesh
            vertices = list(mesh.vertices) if to_page is None else list(to_page.transform_vertices(mesh.vertices))
            for face in mesh.faces:
                ring = [vertices[i] for i in face] + [vertices[face[0]]]
                shapes.append(np.array([(v.x, v.y) for v in ring]))
    return shapes


def directed_distance(
    samples_from: list[np.ndarray],
    geometry_to: list[np.ndarray],
    step: float,
    filled_to: shapely.Geometry | None = None,
) -> float:
    """Largest distance from points sampled along ``samples_from`` to the ``geometry_to`` segments.

    Points inside ``filled_to`` (solid fills of the target) count as covered: a wide polyline
    plots as a filled outline and its centre line lies inside that fill.
    """
    if not samples_from:
        return 0.0
    if not geometry_to:
        return math.inf
    points = np.vstack([_densify(p, step) for p in samples_from])
    # Index single segments, not whole polylines: nearest queries on long boundaries are slow.
    pairs = np.vstack([np.stack([p[:-1], p[1:]], axis=1) for p in geometry_to if len(p) >= 2])
    tree = shapely.STRtree(shapely.linestrings(pairs))
    _, distances = tree.query_nearest(shapely.points(points), return_distance=True, all_matches=False)
    if filled_to is not None and not filled_to.is_empty:
        shapely.prepare(filled_to)
        distances = np.where(shapely.contains_xy(filled_to, points[:, 0], points[:, 1]), 0.0, distances)
    return float(np.max(distances))


def solid_fills(doc: Drawing, flatten: float) -> shapely.Geometry:
    """Union of the solid HATCH areas of a converted drawing (each boundary path filled)."""
    polygons = []
    for hatch in doc.modelspace().query("HATCH"):
        assert isinstance(hatch, Hatch)
        for boundary in path.from_hatch(hatch):
            ring = [(v.x, v.y) for v in boundary.flattening(flatten)]
            if len(ring) >= 3:
                polygons.append(shapely.Polygon(ring).buffer(0))
    return shapely.union_all(polygons) if polygons else shapely.GeometryCollection()


def extent(shapes: list[np.ndarray]) -> float:
    allpoints = np.vstack(shapes)
    return float(np.linalg.norm(allpoints.max(axis=0) - allpoints.min(axis=0)))


def output_texts(doc: Drawing) -> list[str]:
    strings: list[str] = []
    for entity in doc.modelspace():
        if isinstance(entity, Text):
            strings.append(entity.dxf.text)
        elif isinstance(entity, MText):
            strings.extend(str(entity.plain_text(split=False)).split("\n"))
    return [" ".join(s.split()) for s in strings if s.strip()]


def recovered_share(expected: list[str], found: list[str]) -> float:
    """Share of expected strings present in the output (alone or inside a merged text line)."""
    if not expected:
        return 1.0
    normalised = [" ".join(s.split()) for s in found]
    hits = sum(1 for s in expected if any(" ".join(s.split()) in f for f in normalised))
    return hits / len(expected)


def load(path: str) -> Drawing:
    try:
        return ezdxf.readfile(path)
    except ezdxf.DXFError:
        doc, _auditor = recover.readfile(path)
        return doc
