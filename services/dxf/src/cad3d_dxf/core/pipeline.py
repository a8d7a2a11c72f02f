"""The conversion pipeline: bytes -> document -> geometry -> regions -> solids -> artifacts + report."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from ezdxf import colors as dxf_colors
from ezdxf.document import Drawing
from shapely.geometry import Polygon

from cad3d_kit.conversion import ConversionResult, ConversionWarning, ProgressCallback, SourceLocation

from .chaining import polygonize_pieces
from .dwg import dwg_to_dxf
from .entities import ANNOTATION_TYPES, Collected, EntityCollector, Piece
from .errors import NOTHING_TO_EXTRUDE, ConversionError, unreadable
from .export import LayerMesh, export
from .extrusion import MeshArrays, extrude_many
from .options import DwgConfig, DxfOptions
from .reading import LoadedDocument, detect_format, layer_display_name, load_document, select_layout
from .regions import Region, merge_overlapping, nest_by_containment, polygons_of, ring_polygons
from .rules import PRESET_TABLE, Preset, ResolvedLayer, RuleSet, parse_rules, resolve_layer
from .units import OUTPUT_UNITS, scale_to_output
from .walls import parallel_wall_bands

CONVERTER_VERSION = "cad3d-dxf/0.1.0"

# Coordinates beyond this (in output units) are recentred so float32 outputs keep sub-unit precision.
_RECENTRE_ABOVE = 1e5
_FLATTEN_RELATIVE = 1e-4  # curve sagitta as a fraction of the drawing diagonal
_HEAL_RELATIVE = 1e-5  # endpoint gaps healed up to this fraction of the drawing diagonal
_MAX_LISTED = 500  # cap on per-item lists in the report (skipped entities, parts)


@dataclass(frozen=True)
class ExtrusionKey:
    base: float  # output units
    height: float  # output units, > 0


@dataclass
class Part:
    layer: str
    polygon: Polygon  # output units, recentred
    key: ExtrusionKey
    role: str


@dataclass
class _Stats:
    closed_contours: int = 0
    hatch_regions: int = 0
    loose_faces: int = 0
    hole_faces: int = 0
    duplicates_dropped: int = 0
    healed_gaps: int = 0
    max_healed_gap: float = 0.0
    open_chains: int = 0
    open_length: float = 0.0
    rooms: int = 0
    walls_from_lines: int = 0
    warnings: list[ConversionWarning] = field(default_factory=list)


def _layer_colors(doc: Drawing) -> dict[str, tuple[int, int, int] | None]:
    colors: dict[str, tuple[int, int, int] | None] = {}
    for layer in doc.layers:
        rgb = layer.rgb
        if rgb is None:
            aci = abs(int(layer.dxf.get("color", 7)))
            rgb = dxf_colors.aci2rgb(aci) if 1 <= aci <= 255 else None
        colors[layer_display_name(layer.dxf.name)] = None if rgb is None else (int(rgb[0]), int(rgb[1]), int(rgb[2]))
    return colors


class _Resolver:
    def __init__(self, options: DxfOptions) -> None:
        self.rules = parse_rules(options.rules_json) if options.rules_json else RuleSet()
        self.preset: Preset | None = PRESET_TABLE.get(options.preset or "")
        self.option_height = options.height
        self.mm_to_output = 0.001 / OUTPUT_UNITS[options.output_unit]
        self.cache: dict[str, ResolvedLayer] = {}

    def __call__(self, layer: str) -> ResolvedLayer:
        resolved = self.cache.get(layer)
        if resolved is None:
            resolved = resolve_layer(layer, self.rules, self.preset, self.option_height, self.mm_to_output)
            self.cache[layer] = resolved
        return resolved


def _key(resolved: ResolvedLayer, z: float, thickness: float, scale: float) -> ExtrusionKey:
    base = resolved.base + z * scale
    height = resolved.height
    if thickness and not resolved.height_from_user:
        height = abs(thickness) * scale
        if thickness < 0:
            base -= height
    return ExtrusionKey(round(base, 9), round(height, 9))


def _build_regions(
    collected: Collected, resolve: _Resolver, scale: float, heal_tol: float, min_area: float, stats: _Stats
) -> dict[ExtrusionKey, list[Region]]:
    """Filled regions grouped by how they are extruded (nesting happens inside a group only)."""
    groups: dict[ExtrusionKey, list[Region]] = defaultdict(list)
    roles: dict[str, str] = {}

    plain = [c for c in collected.contours if c.hatch_group < 0 and resolve(c.layer).include]
    for contour, polys in zip(plain, ring_polygons([c.points for c in plain], min_area), strict=True):
        key = _key(resolve(contour.layer), contour.z, contour.thickness, scale)
        groups[key].extend(Region(p, contour.layer, contour.handle) for p in polys)
        stats.closed_contours += 1

    hatch_rings: dict[int, list[Any]] = defaultdict(list)
    for contour in collected.contours:
        if contour.hatch_group >= 0 and resolve(contour.layer).include:
            hatch_rings[contour.hatch_group].append(contour)
    for rings in hatch_rings.values():
        first = rings[0]
        polys = [p for ps in ring_polygons([r.points for r in rings], min_area) for p in ps]
        key = _key(resolve(first.layer), first.z, 0.0, scale)
        # A hatch fills its own boundary paths by even-odd (islands are holes) before it meets
        # the other outlines of its group.
        filled, _ = nest_by_containment([Region(p, first.layer, first.handle) for p in polys])
        groups[key].extend(filled)
        stats.hatch_regions += len(filled)

    pieces_by_layer: dict[str, list[Piece]] = defaultdict(list)
    for piece in collected.pieces:
        pieces_by_layer[piece.layer].append(piece)
    for layer in sorted(collected.line_layers() | set(pieces_by_layer)):
        resolved = resolve(layer)
        if not resolved.include:
            continue
        lines = collected.line_array(layer)
        pieces = pieces_by_layer.get(layer, [])
        zs = np.concatenate([lines[:, 4], [p.z for p in pieces]])
        result = polygonize_pieces(lines[:, :4].reshape(-1, 2, 2), [p.points for p in pieces], heal_tol, min_area)
        stats.loose_faces += len(result.faces)
        stats.hole_faces += result.hole_faces
        stats.healed_gaps += result.healed_gaps
        stats.max_healed_gap = max(stats.max_healed_gap, result.max_healed_gap)
        stats.open_chains += result.open_chains
        stats.open_length += result.open_length
        if result.healed_gaps:
            stats.warnings.append(
                ConversionWarning(
                    "gaps_healed",
                    f"{result.healed_gaps} gap(s) up to {result.max_healed_gap:.6g} drawing units closed between "
                    "line ends",
                    SourceLocation(layer=layer),
                )
            )
        key = _key(resolved, float(np.median(zs)) if len(zs) else 0.0, 0.0, scale)
        groups[key].extend(Region(face, layer, "") for face in result.faces)
        roles[layer] = resolved.role
    return groups


def _classify_plan(
    parts: list[Part], bands: dict[str, list[Polygon]], preset: Preset, resolve: _Resolver, stats: _Stats
) -> list[Part]:
    """Architecture: thin regions and parallel-line bands are walls; rooms get a floor slab."""
    max_width = preset.max_wall_thickness_mm * resolve.mm_to_output
    slab = ExtrusionKey(
        -preset.slab_thickness_mm * resolve.mm_to_output, preset.slab_thickness_mm * resolve.mm_to_output
    )
    min_room_area = (preset.max_wall_thickness_mm * resolve.mm_to_output) ** 2
    result: list[Part] = []
    walls: dict[tuple[str, ExtrusionKey], list[Polygon]] = defaultdict(list)
    room_polys: list[tuple[str, Polygon]] = []
    for part in parts:
        if part.role not in ("", "wall"):
            result.append(part)
            continue
        poly = part.polygon
        width = 2.0 * poly.area / poly.length if poly.length > 0 else 0.0
        if width <= max_width:
            walls[(part.layer, part.key)].append(poly)
            # Spaces enclosed by a wall ring are rooms.
            room_polys.extend(
                (part.layer, Polygon(ring)) for ring in poly.interiors if Polygon(ring).area >= min_room_area
            )
        else:
            room_polys.append((part.layer, poly))
    for layer, layer_bands in bands.items():
        resolved = resolve(layer)
        walls[(layer, ExtrusionKey(round(resolved.base, 9), round(resolved.height, 9)))].extend(layer_bands)
    for (layer, key), polys in walls.items():
        for wall in polygons_of(shapely.union_all(polys)):
            stats.walls_from_lines += 1
            result.append(Part(layer, wall, key, "wall"))
    for layer, room in room_polys:
        stats.rooms += 1
        result.append(Part(f"{layer} floor", room, slab, "slab"))
    return result


def _wall_bands(
    collected: Collected, resolve: _Resolver, preset: Preset, offset: np.ndarray, scale: float
) -> dict[str, list[Polygon]]:
    """Bands between parallel lines on wall layers, in output units (recentred)."""
    bands: dict[str, list[Polygon]] = {}
    layers = {layer for layer in collected.line_layers() | {p.layer for p in collected.pieces}}
    for layer in sorted(layers):
        if resolve(layer).role != "wall" or not resolve(layer).include:
            continue
        chunks = [collected.line_array(layer)[:, :4].reshape(-1, 2, 2)]
        chunks += [np.stack([p.points[:-1], p.points[1:]], axis=1) for p in collected.pieces if p.layer == layer]
        segments = (np.concatenate(chunks) - offset) * scale
        found = parallel_wall_bands(
            segments,
            min_gap=preset.min_wall_thickness_mm * resolve.mm_to_output,
            max_gap=preset.max_wall_thickness_mm * resolve.mm_to_output,
            min_overlap=preset.min_wall_thickness_mm * resolve.mm_to_output,
        )
        if found:
            bands[layer] = found
    return bands


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
    data: bytes, options: DxfOptions, progress: ProgressCallback, dwg: DwgConfig | None, build: bool
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
    resolve = _Resolver(options)
    layer_rgb = _layer_colors(doc)
    progress(30.0, "geometry", "exploding blocks and flattening curves")
    collected = EntityCollector(layer_rgb, _FLATTEN_RELATIVE).collect(layout)
    lap("entities_ms")

    bounds = collected.bounds
    diagonal = float(np.linalg.norm(bounds[1] - bounds[0])) if bounds is not None else 0.0
    heal_tol = diagonal * _HEAL_RELATIVE
    min_area = (diagonal * 1e-6) ** 2
    stats = _Stats()
    progress(50.0, "regions", "chaining loose lines and nesting holes")
    groups = _build_regions(collected, resolve, scale, heal_tol, min_area, stats)

    merged_parts: list[tuple[str, Polygon, ExtrusionKey]] = []
    for key, regions in groups.items():
        filled, dropped = nest_by_containment(regions)
        stats.duplicates_dropped += dropped
        by_layer: dict[str, list[Polygon]] = defaultdict(list)
        for region in filled:
            by_layer[region.layer].append(region.polygon)
        for layer, polys in by_layer.items():
            merged_parts.extend((layer, poly, key) for poly in merge_overlapping(polys) if poly.area > min_area)
    offset = _recentre_offset(
        [poly for _, poly, _ in merged_parts],
        [m.vertices for m in collected.meshes if resolve(m.layer).include],
        scale,
    )
    moved = shapely.transform(
        np.asarray([poly for _, poly, _ in merged_parts], dtype=object), lambda c: (c - offset) * scale
    )
    parts = [
        Part(layer, poly, key, resolve(layer).role) for (layer, _, key), poly in zip(merged_parts, moved, strict=True)
    ]
    if resolve.preset is not None and resolve.preset.classify_plan:
        bands = _wall_bands(collected, resolve, resolve.preset, offset, scale)
        parts = _classify_plan(parts, bands, resolve.preset, resolve, stats)
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
            if len(part_rows) >= _MAX_LISTED:
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
    for passed in collected.meshes:
        if not resolve(passed.layer).include:
            continue
        vertices = passed.vertices.copy()
        vertices[:, :2] = (vertices[:, :2] - offset) * scale
        vertices[:, 2] *= scale
        layer_meshes[passed.layer].append(MeshArrays(vertices, passed.faces))
        layer_stats.setdefault(passed.layer, {"parts": 0, "area": 0.0, "volume": 0.0, "watertight_parts": 0})
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
        bbox = {"min": (stacked.min(axis=0) + shift).tolist(), "max": (stacked.max(axis=0) + shift).tolist()}

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
    report = _report(
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
        len(parts),
        total_volume,
        bbox,
        offset_out,
        resolve,
        heal_tol,
        dwg_converter,
        timings,
    )
    warnings = stats.warnings + _skip_warnings(collected)
    report["warnings"] = [w.as_dict() for w in warnings[:_MAX_LISTED]]
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


def _skip_warnings(collected: Collected) -> list[ConversionWarning]:
    warnings: list[ConversionWarning] = []
    for skip in collected.skipped:
        if skip.dxftype in ANNOTATION_TYPES:
            continue
        if len(warnings) >= _MAX_LISTED:
            break
        warnings.append(
            ConversionWarning(
                "entity_skipped",
                f"{skip.dxftype} skipped: {skip.reason}",
                SourceLocation(entity_handle=skip.handle, entity_type=skip.dxftype, layer=skip.layer),
            )
        )
    return warnings


def _report(
    loaded: LoadedDocument,
    layout: str,
    insunits: int,
    drawing_unit: str,
    scale: float,
    options: DxfOptions,
    collected: Collected,
    stats: _Stats,
    layer_stats: dict[str, dict[str, Any]],
    part_rows: list[dict[str, Any]],
    watertight_parts: int,
    part_count: int,
    total_volume: float,
    bbox: dict[str, list[float]],
    offset: list[float],
    resolve: _Resolver,
    heal_tol: float,
    dwg_converter: str,
    timings: dict[str, float],
) -> dict[str, Any]:
    skipped_by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (dxftype, reason), count in collected.skip_counts.items():
        skipped_by_type[dxftype][reason] += count
    layers: dict[str, Any] = {}
    for name in sorted(set(resolve.cache) | set(layer_stats)):
        base_name = name.removesuffix(" floor") if name not in resolve.cache else name
        resolved = resolve(base_name)
        entry: dict[str, Any] = {
            "included": resolved.include,
            "role": resolved.role,
            "rule_source": resolved.source,
            "height": resolved.height,
            "base": resolved.base,
        }
        entry.update({k: (float(v) if isinstance(v, float) else int(v)) for k, v in layer_stats.get(name, {}).items()})
        layers[name] = entry
    return {
        "converter_version": CONVERTER_VERSION,
        "input": {
            "format": loaded.input_format,
            "dxf_version": loaded.doc.dxfversion,
            "release": loaded.doc.acad_release,
            "encoding": loaded.encoding,
            "read_mode": loaded.read_mode,
            "converted_from_dwg": bool(dwg_converter),
            "dwg_converter": dwg_converter,
        },
        "audit": {**loaded.audit_counts, "findings": loaded.audit_findings},
        "layout": layout,
        "units": {"insunits": insunits, "drawing": drawing_unit, "output": options.output_unit, "scale": scale},
        "options": {
            "format": options.format,
            "height": options.height or 0.0,
            "preset": options.preset or "",
            "rules": bool(options.rules_json),
        },
        "entities": {
            "seen": dict(collected.seen),
            "used": dict(collected.used),
            "skipped": {t: dict(r) for t, r in skipped_by_type.items()},
            "skipped_total": sum(collected.skip_counts.values()),
            "block_references": collected.block_references,
        },
        "skipped_entities": [
            {"handle": s.handle, "type": s.dxftype, "layer": s.layer, "reason": s.reason}
            for s in collected.skipped
            if s.dxftype not in ANNOTATION_TYPES
        ][:_MAX_LISTED],
        "regions": {
            "closed_contours": stats.closed_contours,
            "hatch_regions": stats.hatch_regions,
            "loose_faces": stats.loose_faces,
            "hole_faces": stats.hole_faces,
            "duplicates_dropped": stats.duplicates_dropped,
            "rooms": stats.rooms,
            "walls_from_thin_regions": stats.walls_from_lines,
        },
        "healing": {
            "tolerance": heal_tol,
            "healed_gaps": stats.healed_gaps,
            "max_healed_gap": stats.max_healed_gap,
            "open_chains": stats.open_chains,
            "open_length": stats.open_length,
        },
        "tolerances": {
            "flatten_relative": _FLATTEN_RELATIVE,
            "heal_relative": _HEAL_RELATIVE,
            "flatten_distance": collected.flatten_distance,
            "heal_distance": heal_tol,
        },
        "layers": layers,
        "parts": {
            "count": part_count,
            "watertight": watertight_parts,
            "all_watertight": watertight_parts == part_count,
            "items": part_rows,
            "listed": len(part_rows),
        },
        "passthrough_meshes": sum(1 for m in collected.meshes if resolve(m.layer).include),
        "total_area": float(sum(v.get("area", 0.0) for v in layer_stats.values())),
        "total_volume": float(total_volume),
        "bbox": bbox,
        "offset": offset,
        "recentred": any(offset),
    }
