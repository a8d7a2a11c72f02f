"""The JSON report and the warnings of a conversion (plain str/int/float/bool/list/dict only)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cad3d_kit.conversion import ConversionWarning, SourceLocation

from .entities import ANNOTATION_TYPES, Collected
from .options import DxfOptions
from .parts import CONVERTER_VERSION, FLATTEN_RELATIVE, HEAL_RELATIVE, RegionStats
from .reading import SourceInfo
from .rules import LayerResolver

MAX_LISTED = 500  # cap on per-item lists in the report (skipped entities, parts, warnings)


def skip_warnings(collected: Collected) -> list[ConversionWarning]:
    warnings: list[ConversionWarning] = []
    for skip in collected.skipped:
        if skip.dxftype in ANNOTATION_TYPES:
            continue
        if len(warnings) >= MAX_LISTED:
            break
        warnings.append(
            ConversionWarning(
                "entity_skipped",
                f"{skip.dxftype} skipped: {skip.reason}",
                SourceLocation(entity_handle=skip.handle, entity_type=skip.dxftype, layer=skip.layer),
            )
        )
    return warnings


def build_report(
    source: SourceInfo,
    layout: str,
    insunits: int,
    drawing_unit: str,
    scale: float,
    options: DxfOptions,
    collected: Collected,
    stats: RegionStats,
    layer_stats: dict[str, dict[str, Any]],
    layer_colours: dict[str, list[str]],
    part_rows: list[dict[str, Any]],
    watertight_parts: int,
    part_count: int,
    total_volume: float,
    bbox: dict[str, list[float]],
    offset: list[float],
    resolve: LayerResolver,
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
        entry["colors"] = layer_colours.get(name, [])
        layers[name] = entry
    return {
        "converter_version": CONVERTER_VERSION,
        "input": {
            "format": source.input_format,
            "dxf_version": source.dxf_version,
            "release": source.release,
            "encoding": source.encoding,
            "read_mode": source.read_mode,
            "converted_from_dwg": bool(dwg_converter),
            "dwg_converter": dwg_converter,
        },
        "audit": {**source.audit_counts, "findings": source.audit_findings},
        "layout": layout,
        "units": {"insunits": insunits, "drawing": drawing_unit, "output": options.output_unit, "scale": scale},
        "options": {
            "format": options.format,
            "height": options.height or 0.0,
            "preset": options.preset or "",
            "rules": bool(options.rules_json),
            "output_unit": options.output_unit,
            "input_unit": options.input_unit,
            "sheet": options.sheet,
            "views": options.views,
            "plan": options.plan,
            "strict": options.strict,
        },
        "default_height": {
            "value": resolve.default_height if resolve.default_height is not None else None,
            "reason": resolve.default_height_reason,
        }
        if resolve.default_height is not None
        else {"value": 0.0, "reason": "set by --height, a rule or the preset"},
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
        ][:MAX_LISTED],
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
            "chains_closed": stats.chains_closed,
            "max_closed_gap": stats.max_closed_gap,
            "max_closed_relative": stats.max_closed_relative,
            "open_chains_in_walls": stats.open_chains_in_walls,
            "open_outlines": stats.open_outlines,
        },
        "tolerances": {
            "flatten_relative": FLATTEN_RELATIVE,
            "heal_relative": HEAL_RELATIVE,
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
