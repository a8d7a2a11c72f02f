"""The conversion pipeline: bytes -> document -> geometry -> regions -> solids -> artifacts + report."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
import shapely
from ezdxf import colors as dxf_colors
from ezdxf.document import Drawing
from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionResult, ProgressCallback

from .dwg import dwg_to_dxf
from .entities import Collected, EntityCollector
from .errors import NOTHING_TO_EXTRUDE, ConversionError, unreadable
from .export import LayerMesh, export
from .extrusion import MeshArrays, extrude_many, is_watertight, signed_volume
from .grouping import build_regions
from .options import DwgConfig, DxfOptions
from .parts import (
    CONVERTER_VERSION,
    FLATTEN_RELATIVE,
    HEAL_RELATIVE,
    ExtrusionKey,
    Part,
    RegionStats,
)
from .reading import detect_format, layer_display_name, load_document, select_layout
from .regions import merge_overlapping, nest_by_containment
from .report import MAX_LISTED, build_report, skip_warnings
from .rules import LayerResolver, ResolvedLayer
from .tilted import extrude_tilted
from .units import scale_to_output
from .walls import classify_plan, wall_bands

# Coordinates beyond this (in output units) are recentred so float32 outputs keep sub-unit precision.
_RECENTRE_ABOVE = 1e5


def _layer_colors(doc: Drawing) -> dict[str, tuple[int, int, int] | None]:
    colors: dict[str, tuple[int, int, int] | None] = {}
    for layer in doc.layers:
        rgb = layer.rgb
        if rgb is None:
            aci = abs(int(layer.dxf.get("color", 7)))
            rgb = dxf_colors.aci2rgb(aci) if 1 <= aci <= 255 else None
        colors[layer_display_name(layer.dxf.name)] = None if rgb is None else (int(rgb[0]), int(rgb[1]), int(rgb[2]))
    return colors


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


def _rgb_for(layer: str, resolved: ResolvedLayer, collected: Collected, layer_rgb: dict[str, Any]) -> Any:
    if resolved.color is not None:
        return resolved.color
    counts = collected.layer_colors.get(layer)
    if counts:
        return counts.most_common(1)[0][0]
    return layer_rgb.get(layer)


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
    loaded = load_document(data, input_format)
    doc = loaded.doc
    layout = select_layout(doc, options.layout)
    lap("read_ms")

    insunits = int(doc.header.get("$INSUNITS", 0) or 0)
    scale, drawing_unit = scale_to_output(insunits, options.output_unit)
    resolve = LayerResolver(options)
    layer_rgb = _layer_colors(doc)
    progress(30.0, "geometry", "exploding blocks and flattening curves")
    collected = EntityCollector(layer_rgb, FLATTEN_RELATIVE).collect(layout)
    lap("entities_ms")

    bounds = collected.bounds
    diagonal = float(np.linalg.norm(bounds[1] - bounds[0])) if bounds is not None else 0.0
    heal_tol = diagonal * HEAL_RELATIVE
    min_area = (diagonal * 1e-6) ** 2
    stats = RegionStats()
    progress(50.0, "regions", "chaining loose lines and nesting holes")
    groups = build_regions(collected, resolve, scale, heal_tol, min_area, stats)

    merged_parts: list[tuple[str, Polygon, ExtrusionKey]] = []
    for key, regions in groups.items():
        filled, dropped = nest_by_containment(regions)
        stats.duplicates_dropped += dropped
        by_layer: dict[str, list[Polygon]] = defaultdict(list)
        for region in filled:
            by_layer[region.layer].append(region.polygon)
        for layer, polys in by_layer.items():
            merged_parts.extend((layer, poly, key) for poly in merge_overlapping(polys) if poly.area > min_area)
    tilted = extrude_tilted(collected.tilted, resolve, scale, min_area)
    offset = _recentre_offset(
        [poly for _, poly, _ in merged_parts],
        [m.vertices for m in collected.meshes if resolve(m.layer).include] + [t.mesh.vertices for t in tilted],
        scale,
    )
    for solid in tilted:
        solid.mesh.vertices[:, :2] = (solid.mesh.vertices[:, :2] - offset) * scale
        solid.mesh.vertices[:, 2] *= scale
    moved = shapely.transform(
        np.asarray([poly for _, poly, _ in merged_parts], dtype=object),
        lambda c: (c - offset) * scale,
    )
    parts = [
        Part(layer, poly, key, resolve(layer).role) for (layer, _, key), poly in zip(merged_parts, moved, strict=True)
    ]
    if resolve.preset is not None and resolve.preset.classify_plan:
        bands = wall_bands(collected, resolve, resolve.preset, offset, scale)
        parts = classify_plan(parts, bands, resolve.preset, resolve, stats)
    lap("regions_ms")

    progress(70.0, "extrude", "building solids")
    layer_meshes: dict[str, list[MeshArrays]] = defaultdict(list)
    layer_stats: dict[str, dict[str, Any]] = {}
    part_rows: list[dict[str, Any]] = []
    watertight_parts = 0
    total_volume = 0.0
    parts_by_layer: dict[str, list[int]] = defaultdict(list)
    for index, part in enumerate(parts):
        parts_by_layer[part.layer].append(index)
    part_areas = shapely.area(np.asarray([p.polygon for p in parts], dtype=object)) if parts else np.zeros(0)
    for layer, indices in parts_by_layer.items():
        layer_parts = [parts[i] for i in indices]
        extruded = extrude_many(
            [p.polygon for p in layer_parts],
            np.asarray([p.key.base for p in layer_parts]),
            np.asarray([p.key.height for p in layer_parts]),
        )
        if len(extruded.mesh.faces) == 0:
            continue
        layer_meshes[layer].append(extruded.mesh)
        areas = part_areas[indices]
        watertight_parts += int(extruded.watertight.sum())
        total_volume += float(extruded.volumes.sum())
        layer_stats[layer] = {
            "parts": len(indices),
            "area": float(areas.sum()),
            "volume": float(extruded.volumes.sum()),
            "watertight_parts": int(extruded.watertight.sum()),
        }
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
    for tilted_index, solid in enumerate(tilted, start=len(parts)):
        volume = signed_volume(solid.mesh)
        tight = is_watertight(solid.mesh.faces)
        layer_meshes[solid.layer].append(solid.mesh)
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
        layer_meshes[passed.layer].append(MeshArrays(vertices, passed.faces))
        layer_stats.setdefault(
            passed.layer,
            {"parts": 0, "area": 0.0, "volume": 0.0, "watertight_parts": 0},
        )
        layer_stats[passed.layer]["passthrough_meshes"] = layer_stats[passed.layer].get("passthrough_meshes", 0) + 1
    lap("extrude_ms")

    layers_out = [
        LayerMesh(
            name,
            MeshArrays.concatenate(meshes),
            _rgb_for(name, resolve(name.removesuffix(" floor")), collected, layer_rgb),
        )
        for name, meshes in sorted(layer_meshes.items())
    ]
    all_vertices = [m.mesh.vertices for m in layers_out if len(m.mesh.vertices)]
    bbox: dict[str, list[float]] = {}
    if all_vertices:
        stacked = np.concatenate(all_vertices)
        shift = np.array([offset[0] * scale, offset[1] * scale, 0.0])
        bbox = {
            "min": (stacked.min(axis=0) + shift).tolist(),
            "max": (stacked.max(axis=0) + shift).tolist(),
        }

    for name in set(layer_rgb) | collected.layers:  # every layer appears in the report, used or not
        resolve(name)
    offset_out = [float(offset[0] * scale), float(offset[1] * scale), 0.0]
    metadata = {
        "generator": CONVERTER_VERSION,
        "unit": options.output_unit,
        "source_unit": drawing_unit,
        "source_format": loaded.input_format,
        "dxf_version": doc.dxfversion,
        "layout": layout.name,
        "offset": offset_out,
        "offset_note": "add offset to coordinates to get the drawing's original position",
    }
    report = build_report(
        loaded,
        layout.name,
        insunits,
        drawing_unit,
        scale,
        options,
        collected,
        stats,
        layer_stats,
        part_rows,
        watertight_parts,
        len(parts) + len(tilted),
        total_volume,
        bbox,
        offset_out,
        resolve,
        heal_tol,
        dwg_converter,
        timings,
    )
    warnings = stats.warnings + skip_warnings(collected)
    report["warnings"] = [w.as_dict() for w in warnings[:MAX_LISTED]]
    has_geometry = any(len(m.mesh.faces) for m in layers_out)
    if not build:
        report["timings_ms"] = timings
        return ConversionResult([], report, warnings, CONVERTER_VERSION)
    if not has_geometry:
        seen = ", ".join(f"{k} {v}" for k, v in collected.seen.most_common(8)) or "no entities"
        raise ConversionError(
            NOTHING_TO_EXTRUDE,
            f"the drawing has no closed outlines, enclosed areas or meshes to extrude in layout "
            f"{layout.name!r} (entities seen: {seen}); use Inspect for the full report",
        )
    progress(85.0, "export", f"writing {options.format}")
    artifacts = export(options.format, layers_out, metadata, options.output_unit)
    lap("export_ms")
    report["timings_ms"] = timings
    progress(100.0, "done", "conversion finished")
    return ConversionResult(artifacts, report, warnings, CONVERTER_VERSION)
