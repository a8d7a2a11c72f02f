"""The conversion pipeline: bytes -> document -> geometry -> regions -> solids -> artifacts + report."""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from ezdxf import colors as dxf_colors
from ezdxf.document import Drawing
from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionResult, ConversionWarning, ErrorKind, ProgressCallback

from .colours import RGB, hex_colour, order_by_colour, part_colour
from .dwg import dwg_to_dxf
from .entities import Collected, EntityCollector
from .errors import NOTHING_TO_EXTRUDE, STRICT_WARNINGS, ConversionError, unreadable
from .export import LayerMesh, export
from .extrusion import MeshArrays, extrude_many, is_watertight, signed_volume
from .grouping import build_regions
from .heap import return_free_memory
from .options import DwgConfig, DxfOptions
from .parts import (
    CONVERTER_VERSION,
    FLATTEN_RELATIVE,
    HEAL_RELATIVE,
    ExtrusionKey,
    Part,
    RegionStats,
)
from .reading import SourceInfo, detect_format, is_model_space, layer_display_name, load_document, select_layout
from .regions import Region, merge_overlapping, nest_by_containment
from .report import MAX_LISTED, build_report, skip_warnings
from .rules import LayerResolver, default_height_for
from .sense.blocks import block_excluder
from .sense.decisions import PartsOutcome, SheetDecision
from .sense.plan import read_plan
from .sense.rooms import is_zone_layer
from .sense.sheet import read_sheet
from .sense.units import decide_units
from .sense.views import read_views
from .streaming import StreamFailed, load_streamed
from .tilted import extrude_tilted
from .units import OUTPUT_UNITS

# Coordinates beyond this (in output units) are recentred so float32 outputs keep sub-unit precision.
_RECENTRE_ABOVE = 1e5
# A fully read document with more entities than this is freed by a full garbage collection right
# after reading (its reference cycles would keep it until some later one); below, the ~40 ms of a
# full collection would be a large share of a small conversion, for little memory.
_COLLECT_DOCUMENTS_ABOVE = 20_000


def _layer_colors(doc: Drawing) -> dict[str, tuple[int, int, int] | None]:
    colors: dict[str, tuple[int, int, int] | None] = {}
    for layer in doc.layers:
        rgb = layer.rgb
        if rgb is None:
            aci = abs(int(layer.dxf.get("color", 7)))
            rgb = dxf_colors.aci2rgb(aci) if 1 <= aci <= 255 else None
        colors[layer_display_name(layer.dxf.name)] = None if rgb is None else (int(rgb[0]), int(rgb[1]), int(rgb[2]))
    return colors


@dataclass
class _Source:
    """Everything later steps need from the drawing; the ezdxf document itself is not kept."""

    info: SourceInfo
    layout: str
    insunits: int
    layer_rgb: dict[str, RGB | None]
    collected: Collected
    document_entities: int  # entities the ezdxf document held (a streamed one: none of model space)
    header: dict[str, Any]  # header variables the drawing-sense steps weigh (sense/units.py)


# An ASCII DXF's HEADER section starts within its first lines (after any 999 comments).
_HEADER_PROBE_BYTES = 4096
# Header variables that say something about units and scale besides $INSUNITS.
_HEADER_FACTS = ("$INSUNITS", "$MEASUREMENT", "$LUNITS", "$DIMLUNIT", "$DIMSCALE", "$DIMLFAC", "$LTSCALE", "$TEXTSIZE")


def _hidden_layers(doc: Drawing) -> dict[str, str]:
    """Layers a person never sees on the sheet: switched off, frozen, or set not to plot."""
    hidden: dict[str, str] = {}
    for layer in doc.layers:
        name = layer_display_name(layer.dxf.name)
        if layer.is_off() or layer.is_frozen():
            hidden[name] = "layer off or frozen"
        elif not layer.dxf.get("plot", 1) and name.casefold() != "defpoints":
            hidden[name] = "layer set not to plot"
    return hidden


def _collect(
    doc: Drawing, layout: str, entities: Iterable[Any], info: Callable[[], SourceInfo], options: DxfOptions
) -> _Source:
    layer_rgb = _layer_colors(doc)
    collector = EntityCollector(
        layer_rgb,
        FLATTEN_RELATIVE,
        exclude_block=block_excluder(options),
        hidden_layers=_hidden_layers(doc) if options.sheet == "auto" else None,
    )
    collected = collector.collect(entities)
    insunits = int(doc.header.get("$INSUNITS", 0) or 0)
    header = {name: doc.header.get(name) for name in _HEADER_FACTS if name in doc.header}
    return _Source(info(), layout, insunits, layer_rgb, collected, len(doc.entitydb), header)


def _read_geometry(data: bytes, input_format: str, options: DxfOptions, read_done: Callable[[], None]) -> _Source:
    """Read the drawing and collect its geometry; the ezdxf document does not outlive this call.

    The model space of a strictly readable file is streamed (streaming.py), so its entities never
    all exist at once; anything else, and a stream that fails part-way, is read the full way
    (strict, then recover mode), exactly as before streaming existed.
    """
    if is_model_space(options.layout):
        streamed = load_streamed(data, input_format)
        if streamed is not None:
            doc = streamed.doc
            read_done()
            try:
                return _collect(
                    doc,
                    select_layout(doc, None).name,
                    streamed.modelspace(),
                    lambda: SourceInfo(input_format, "strict", streamed.encoding, doc.dxfversion, doc.acad_release),
                    options,
                )
            except StreamFailed:
                pass
    loaded = load_document(data, input_format)
    layout = select_layout(loaded.doc, options.layout)
    read_done()
    return _collect(loaded.doc, layout.name, layout, loaded.info, options)


def _recentre_offset(polygons: list[Polygon], meshes: list[np.ndarray], scale: float) -> np.ndarray:
    """Geodetic-size drawings are moved near the origin so float32 outputs keep their precision.

    The offset (drawing units) is a round number so users can read it; it is recorded in the
    output metadata and the report. Drawings already near the origin are left where they are.
    """
    boxes = [shapely.total_bounds(np.asarray(polygons, dtype=object))] if polygons else []
    boxes += [np.concatenate([m[:, :2].min(axis=0), m[:, :2].max(axis=0)]) for m in meshes if len(m)]
    if not boxes:
        return np.zeros(2)
    stacked = np.asarray(boxes, dtype=float)
    low, high = stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)
    if np.abs(np.concatenate([low, high])).max() * scale <= _RECENTRE_ABOVE:
        return np.zeros(2)
    centre = (low + high) / 2.0
    magnitude = 10.0 ** np.floor(np.log10(max(float(np.linalg.norm(high - low)), 1e-12)))
    return np.asarray(np.round(centre / magnitude) * magnitude, dtype=float)


_Merged = tuple[str, Polygon, ExtrusionKey, RGB | None]


def _merge_groups(
    groups: dict[ExtrusionKey, list[Region]],
    min_area: float,
    stats: RegionStats,
    keep_apart: Callable[[str], bool] = lambda layer: False,
) -> list[_Merged]:
    """Nest holes and union touching parts per extrusion group; each group is dropped once merged.

    Layers for which ``keep_apart`` is true keep their outlines apart: two rooms drawn as zones
    that share a side are two rooms, not one merged outline."""
    merged: list[_Merged] = []
    for key in list(groups):
        filled, dropped = nest_by_containment(groups.pop(key))
        stats.duplicates_dropped += dropped
        by_layer: dict[str, tuple[list[Polygon], list[RGB | None]]] = defaultdict(lambda: ([], []))
        for region in filled:
            polys, colors = by_layer[region.layer]
            polys.append(region.polygon)
            colors.append(region.color)
        del filled
        for layer, (polys, colors) in by_layer.items():
            if keep_apart(layer):
                merged.extend((layer, poly, key, color) for poly, color in zip(polys, colors, strict=True))
                continue
            merged.extend(
                (layer, poly, key, color) for poly, color in merge_overlapping(polys, colors) if poly.area > min_area
            )
    return merged


# Parts are moved in chunks of this many polygons (see _placed_parts).
_MOVE_CHUNK = 4096


def _placed_parts(merged: list[_Merged], offset: np.ndarray, scale: float, resolve: LayerResolver) -> list[Part]:
    """Recentred, output-unit parts; ``merged`` is consumed.

    Moving a shapely geometry copies it, so the parts are moved a chunk at a time and each
    chunk's originals are dropped at once: the drawing's polygons never exist twice over. A
    drawing needing no move keeps its polygons ((c - 0) * 1 == c exactly).
    """
    parts: list[Part] = []
    identity = scale == 1.0 and not np.any(offset)
    while merged:
        chunk = merged[:_MOVE_CHUNK]
        del merged[:_MOVE_CHUNK]
        polygons = np.asarray([poly for _, poly, _, _ in chunk], dtype=object)
        if not identity:
            polygons = shapely.transform(polygons, lambda c: (c - offset) * scale)
        parts.extend(
            Part(layer, poly, key, resolve(layer).role, color)
            for (layer, _, key, color), poly in zip(chunk, polygons, strict=True)
        )
    return parts


# A mesh piece with the colour of the entity it came from (None: the layer decides, colours.py).
_Piece = tuple[RGB | None, MeshArrays]


@dataclass
class _Solids:
    layer_meshes: dict[str, list[_Piece]]  # pieces per layer, concatenated only for export
    layer_stats: dict[str, dict[str, Any]]
    part_rows: list[dict[str, Any]]
    watertight_parts: int
    total_volume: float


def _extrude_parts(parts: list[Part]) -> _Solids:
    """Extrude every part, one batch per layer and colour; per-layer statistics and the first
    report rows."""
    layer_meshes: dict[str, list[_Piece]] = defaultdict(list)
    layer_stats: dict[str, dict[str, Any]] = {}
    part_rows: list[dict[str, Any]] = []
    watertight_parts = 0
    total_volume = 0.0
    parts_by_colour: dict[tuple[str, RGB | None], list[int]] = defaultdict(list)
    for index, part in enumerate(parts):
        parts_by_colour[(part.layer, part.color)].append(index)
    part_areas = shapely.area(np.asarray([p.polygon for p in parts], dtype=object)) if parts else np.zeros(0)
    for (layer, color), indices in parts_by_colour.items():
        layer_parts = [parts[i] for i in indices]
        extruded = extrude_many(
            [p.polygon for p in layer_parts],
            np.asarray([p.key.base for p in layer_parts]),
            np.asarray([p.key.height for p in layer_parts]),
        )
        if not any(len(piece.faces) for piece in extruded.pieces):
            continue
        # Kept in pieces: each layer is copied into one mesh once, at the end, piece by piece.
        layer_meshes[layer].extend((color, piece) for piece in extruded.pieces)
        areas = part_areas[indices]
        watertight_parts += int(extruded.watertight.sum())
        total_volume += float(extruded.volumes.sum())
        entry = layer_stats.setdefault(layer, {"parts": 0, "area": 0.0, "volume": 0.0, "watertight_parts": 0})
        entry["parts"] += len(indices)
        entry["area"] += float(areas.sum())
        entry["volume"] += float(extruded.volumes.sum())
        entry["watertight_parts"] += int(extruded.watertight.sum())
        for offset_in_layer, (index, part) in enumerate(zip(indices, layer_parts, strict=True)):
            if len(part_rows) >= MAX_LISTED:
                break
            part_rows.append(
                {
                    "index": index,
                    "layer": layer,
                    "role": part.role,
                    "area": float(areas[offset_in_layer]),
                    "height": part.key.height,
                    "base": part.key.base,
                    "volume": float(extruded.volumes[offset_in_layer]),
                    "watertight": bool(extruded.watertight[offset_in_layer]),
                    "holes": len(part.polygon.interiors),
                }
            )
    return _Solids(layer_meshes, layer_stats, part_rows, watertight_parts, total_volume)


@dataclass
class _ColouredLayer:
    color: RGB  # the layer's own colour (rule, else its most common entity colour, else the table's)
    pieces: list[tuple[RGB, MeshArrays]]  # each piece's final colour (colours.py), faceless ones dropped


def _resolve_colours(
    layer_meshes: dict[str, list[_Piece]],
    resolve: LayerResolver,
    collected: Collected,
    layer_rgb: dict[str, RGB | None],
) -> dict[str, _ColouredLayer]:
    """Every piece's final colour; ``layer_meshes`` is emptied (its meshes move, nothing is copied)."""
    coloured: dict[str, _ColouredLayer] = {}
    for name in sorted(layer_meshes):
        pieces = layer_meshes.pop(name)
        rule = resolve(name.removesuffix(" floor")).color
        counts = collected.layer_colors.get(name)
        fallback = counts.most_common(1)[0][0] if counts else layer_rgb.get(name)
        coloured[name] = _ColouredLayer(
            part_colour(rule, None, fallback),
            [(part_colour(rule, color, fallback), mesh) for color, mesh in pieces if len(mesh.faces)],
        )
    return coloured


def _layer_resolver(options: DxfOptions, collected: Collected, scale: float) -> LayerResolver:
    """Layer rules, with a default height that fits the drawing when nothing else sets one: a
    100 mm part is not extruded 1 m high (rules.default_height_for)."""
    if options.height is not None or options.preset is not None or collected.bounds is None:
        return LayerResolver(options)
    mm_per_output = OUTPUT_UNITS[options.output_unit] / 0.001
    sides = sorted(float(v) * scale * mm_per_output for v in collected.bounds[1] - collected.bounds[0])
    height_mm, reason = default_height_for(sides[1], sides[0])
    return LayerResolver(options, height_mm / mm_per_output, reason)


def _drop_sheet_texts(collected: Collected, sheet: SheetDecision) -> None:
    """Title-block and table texts have been read (sheet.title_block.fields, units): later steps
    must not take the project title for a room name or a note about the part."""
    boxes = [block["bbox"] for block in (sheet.title_block, *sheet.tables) if block and "bbox" in block]
    if not boxes or sheet.mode != "auto":
        return
    collected.texts = [
        t for t in collected.texts if not any(x0 <= t.x <= x1 and y0 <= t.y <= y1 for x0, y0, x1, y1 in boxes)
    ]


def _read_structure(
    parts: list[Part],
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """What the parts are: a plan's walls, openings and rooms, or a mechanical part's views."""
    preset = resolve.preset
    if preset is not None and preset.classify_plan and options.plan == "auto":
        return read_plan(parts, collected, resolve, options, offset, scale, stats)
    if preset is not None and preset.name == "mechanical" and options.views == "auto":
        return read_views(parts, collected, resolve, options, offset, scale, stats)
    return PartsOutcome(parts)


def _strict_check(options: DxfOptions, warnings: list[ConversionWarning]) -> None:
    if options.strict and warnings:
        first = warnings[0]
        raise ConversionError(
            STRICT_WARNINGS,
            f"strict: the conversion had {len(warnings)} warning(s), the first: {first.code}: {first.message}",
            ErrorKind.INVALID_INPUT,
        )


def run(
    data: bytes,
    options: DxfOptions,
    progress: ProgressCallback,
    dwg: DwgConfig | None,
    build: bool,
) -> ConversionResult:
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round((now - clock) * 1000.0, 3)
        clock = now

    progress(0.0, "read", "detecting the input format")
    return_free_memory()  # a warm worker: what the last conversion left in the heap
    input_format = detect_format(data)
    dwg_converter = ""
    if input_format == "dwg":
        progress(2.0, "dwg", "converting DWG to DXF")
        data, dwg_converter = dwg_to_dxf(data, dwg or DwgConfig())
        input_format = detect_format(data)
        lap("dwg_ms")
    if input_format == "unknown":
        raise unreadable("input is neither a DXF (ASCII or binary) nor a DWG file")
    progress(5.0, "read", "reading the DXF document")

    def read_done() -> None:
        lap("read_ms")
        progress(30.0, "geometry", "exploding blocks and flattening curves")

    source = _read_geometry(data, input_format, options, read_done)
    if source.document_entities > _COLLECT_DOCUMENTS_ABOVE:
        gc.collect()
    return_free_memory()
    collected, layer_rgb, insunits = source.collected, source.layer_rgb, source.insunits
    if input_format == "dxf-ascii" and b"HEADER" not in data[:_HEADER_PROBE_BYTES]:
        # No HEADER section (an ENTITIES-only export): the $INSUNITS ezdxf reports is its own
        # default, not the file's claim; the drawing is unitless until its content says more.
        insunits = 0
    lap("entities_ms")

    sheet = read_sheet(collected, options)
    units = decide_units(collected, insunits, source.header, options, sheet)
    scale = units.scale_to(OUTPUT_UNITS[options.output_unit])
    drawing_unit = units.used
    _drop_sheet_texts(collected, sheet)
    resolve = _layer_resolver(options, collected, scale)
    lap("sense_ms")

    bounds = collected.bounds
    diagonal = float(np.linalg.norm(bounds[1] - bounds[0])) if bounds is not None else 0.0
    heal_tol = diagonal * HEAL_RELATIVE
    min_area = (diagonal * 1e-6) ** 2
    stats = RegionStats()
    progress(50.0, "regions", "chaining loose lines and nesting holes")
    regions = build_regions(collected, resolve, scale, heal_tol, min_area, stats)
    plan_mode = resolve.preset is not None and resolve.preset.classify_plan and options.plan == "auto"
    merged_parts = _merge_groups(regions, min_area, stats, is_zone_layer if plan_mode else lambda layer: False)
    del regions
    tilted = extrude_tilted(collected.tilted, resolve, scale, min_area)
    collected.tilted.clear()
    offset = _recentre_offset(
        [poly for _, poly, _, _ in merged_parts],
        [m.vertices for m in collected.meshes if resolve(m.layer).include] + [t.mesh.vertices for t in tilted],
        scale,
    )
    for solid in tilted:
        solid.mesh.vertices[:, :2] = (solid.mesh.vertices[:, :2] - offset) * scale
        solid.mesh.vertices[:, 2] *= scale
    parts = _placed_parts(merged_parts, offset, scale, resolve)
    outcome = _read_structure(parts, collected, resolve, options, offset, scale, stats)
    parts = outcome.parts
    collected.release_linework()  # loose lines are faces and wall bands by now
    return_free_memory()
    lap("regions_ms")

    progress(70.0, "extrude", "building solids")
    solids = _extrude_parts(parts)
    layer_meshes, layer_stats, part_rows = solids.layer_meshes, solids.layer_stats, solids.part_rows
    watertight_parts, total_volume = solids.watertight_parts, solids.total_volume
    for tilted_index, solid in enumerate(tilted, start=len(parts)):
        volume = signed_volume(solid.mesh)
        tight = is_watertight(solid.mesh.faces)
        layer_meshes[solid.layer].append((solid.color, solid.mesh))
        entry = layer_stats.setdefault(solid.layer, {"parts": 0, "area": 0.0, "volume": 0.0, "watertight_parts": 0})
        entry["parts"] += 1
        entry["area"] += solid.area * scale**2
        entry["volume"] += volume
        entry["watertight_parts"] += int(tight)
        watertight_parts += int(tight)
        total_volume += volume
        if len(part_rows) < MAX_LISTED:
            part_rows.append(
                {
                    "index": tilted_index,
                    "layer": solid.layer,
                    "role": "tilted",
                    "area": solid.area * scale**2,
                    "height": solid.key.height,
                    "base": solid.key.base,
                    "volume": volume,
                    "watertight": tight,
                    "holes": solid.holes,
                }
            )
    for passed in collected.meshes:
        if not resolve(passed.layer).include:
            continue
        vertices = passed.vertices.copy()
        vertices[:, :2] = (vertices[:, :2] - offset) * scale
        vertices[:, 2] *= scale
        layer_meshes[passed.layer].append((passed.color, MeshArrays(vertices, passed.faces)))
        layer_stats.setdefault(
            passed.layer,
            {"parts": 0, "area": 0.0, "volume": 0.0, "watertight_parts": 0},
        )
        layer_stats[passed.layer]["passthrough_meshes"] = layer_stats[passed.layer].get("passthrough_meshes", 0) + 1
    part_count = len(parts) + len(tilted)
    del parts, tilted, solids  # the polygons are meshes now
    return_free_memory()
    lap("extrude_ms")

    pieces = [piece for meshes in layer_meshes.values() for _, piece in meshes if len(piece.vertices)]
    bbox: dict[str, list[float]] = {}
    if pieces:
        shift = np.array([offset[0] * scale, offset[1] * scale, 0.0])
        low = np.min([piece.vertices.min(axis=0) for piece in pieces], axis=0)
        high = np.max([piece.vertices.max(axis=0) for piece in pieces], axis=0)
        bbox = {"min": (low + shift).tolist(), "max": (high + shift).tolist()}
    has_geometry = any(len(piece.faces) for piece in pieces)
    del pieces

    coloured = _resolve_colours(layer_meshes, resolve, collected, layer_rgb)
    layer_colours = {name: list(dict.fromkeys(hex_colour(rgb) for rgb, _ in c.pieces)) for name, c in coloured.items()}
    for name in set(layer_rgb) | collected.layers:  # every layer appears in the report, used or not
        resolve(name)
    offset_out = [float(offset[0] * scale), float(offset[1] * scale), 0.0]
    metadata = {
        "generator": CONVERTER_VERSION,
        "unit": options.output_unit,
        "source_unit": drawing_unit,
        "source_format": source.info.input_format,
        "dxf_version": source.info.dxf_version,
        "layout": source.layout,
        "offset": offset_out,
        "offset_note": "add offset to coordinates to get the drawing's original position",
    }
    report = build_report(
        source.info,
        source.layout,
        insunits,
        drawing_unit,
        scale,
        options,
        collected,
        stats,
        layer_stats,
        layer_colours,
        part_rows,
        watertight_parts,
        part_count,
        total_volume,
        bbox,
        offset_out,
        resolve,
        heal_tol,
        dwg_converter,
        timings,
    )
    report["sheet"] = sheet.as_report()
    report["units"].update(units.as_report())
    if outcome.report:
        report["plan" if resolve.preset is not None and resolve.preset.classify_plan else "views"] = outcome.report
    warnings = sheet.warnings + units.warnings + stats.warnings + outcome.warnings + skip_warnings(collected)
    report["warnings"] = [w.as_dict() for w in warnings[:MAX_LISTED]]
    if not build:
        report["timings_ms"] = timings
        return ConversionResult([], report, warnings, CONVERTER_VERSION)
    _strict_check(options, warnings)
    if not has_geometry:
        seen = ", ".join(f"{k} {v}" for k, v in collected.seen.most_common(8)) or "no entities"
        raise ConversionError(
            NOTHING_TO_EXTRUDE,
            f"the drawing has no closed outlines, enclosed areas or meshes to extrude in layout "
            f"{source.layout!r} (entities seen: {seen}); use Inspect for the full report",
        )
    progress(85.0, "export", f"writing {options.format}")
    # One mesh per layer, each consuming its pieces as it is filled: the geometry exists once.
    layers_out: list[LayerMesh] = []
    for name in list(coloured):
        layer = coloured.pop(name)
        if not layer.pieces:
            continue
        # Each colour's pieces side by side: writers take a colour as a slice of the layer's mesh.
        ordered, runs = order_by_colour(layer.pieces)
        layer_colour = layer.color
        del layer
        layers_out.append(LayerMesh(name, MeshArrays.concatenate(ordered, consume=True), layer_colour, runs))
        return_free_memory()  # the pieces just copied, before the next layer's mesh is allocated
    artifacts = export(options.format, layers_out, metadata, options.output_unit)
    lap("export_ms")
    report["timings_ms"] = timings
    progress(100.0, "done", "conversion finished")
    return ConversionResult(artifacts, report, warnings, CONVERTER_VERSION)
