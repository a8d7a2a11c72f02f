"""Mechanical sheets: the views of each part, its main view, its holes and its thickness.

A sheet shows each object several times (plan, edge-on, section). Only the main view becomes
the solid, cut by every real inner loop and extruded by the thickness the other views or notes
give; the other views, marks and annotation faces are listed in the report, not modelled.
``views="all"`` (pipeline) turns this step off.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import shapely

from cad3d_kit.conversion import ConversionWarning, SourceLocation

from ..entities import Collected
from ..options import DxfOptions
from ..parts import ExtrusionKey, Part, RegionStats
from ..rules import LayerResolver
from .decisions import PartsOutcome
from .thickness import assign_notes, decide_thickness, text_scale, thickness_notes, written_numbers
from .views_holes import MainSolid, main_solid
from .views_layout import VIEW_GAP_RELATIVE, ObjectViews, View, cluster_views, group_objects, split_marks

# Lines overshooting a loop by more than twice this fraction of the sheet diagonal are
# extension lines (views_holes.py).
_LINE_TOL_RELATIVE = 5e-4


def _box(view: View) -> list[float]:
    return [round(v, 6) for v in view.bbox]


def _size(view: View) -> list[float]:
    return [round(v, 6) for v in view.size]


def _view_rows(item: ObjectViews) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "role": "main",
            "bbox": _box(item.main),
            "size": _size(item.main),
            "aligned_with": None,
            "evidence": f"of the views lined up, the one with the most loops ({item.main.holes}) and the largest",
        }
    ]
    for link in item.others:
        spans = "x-extent (stacked)" if link.axis == "x" else "y-extent (side by side)"
        rows.append(
            {
                "role": link.role,
                "bbox": _box(link.view),
                "size": _size(link.view),
                "aligned_with": link.aligned_with,
                "evidence": f"shares the {spans} of view {link.aligned_with}; left out of the model",
            }
        )
    return rows


def _is_annotation(item: ObjectViews, outline_layers: set[str]) -> bool:
    """A lone cluster drawn only with pens no object outline uses: faces closed by dimension or
    leader lines, not another part."""
    return not item.others and not (item.main.layers & outline_layers)


def _height(
    solid: MainSolid, thickness: dict[str, Any] | None, resolve: LayerResolver
) -> tuple[float, dict[str, Any], bool]:
    """The extrusion height, the thickness report and whether the preset default was assumed."""
    part = solid.outline
    resolved = resolve(part.layer)
    if resolved.height_from_user or resolved.height_source in ("option", "rule"):
        given = {"value": part.key.height, "source": resolved.height_source, "evidence": "given, it wins"}
        if thickness is not None:
            given["drawing_says"] = thickness
        return part.key.height, given, False
    if abs(part.key.height - resolved.height) > 1e-9:
        entity = {"value": part.key.height, "source": "entity_thickness", "evidence": "the outline's DXF thickness"}
        return part.key.height, entity, False
    if thickness is not None:
        return float(thickness["value"]), thickness, False
    default = {
        "value": part.key.height,
        "source": "default",
        "evidence": "no edge-on view, thickness note or dimension: the preset's default",
    }
    return part.key.height, default, True


def _reading_order(objects: list[tuple[ObjectViews, MainSolid]]) -> list[tuple[ObjectViews, MainSolid]]:
    """Left to right, then top to bottom: "part 1" is the leftmost main view."""
    return sorted(objects, key=lambda entry: (round(entry[0].main.bbox[0], 6), -entry[0].main.bbox[3]))


def read_views(
    parts: list[Part],
    collected: Collected,
    resolve: LayerResolver,
    options: DxfOptions,
    offset: np.ndarray,
    scale: float,
    stats: RegionStats,
) -> PartsOutcome:
    """One part per object: keep its main view, extruded by the thickness its other views show."""
    if not parts:
        return PartsOutcome(parts)
    low_x, low_y, high_x, high_y = shapely.total_bounds(np.asarray([p.polygon for p in parts], dtype=object))
    diagonal = float(np.hypot(high_x - low_x, high_y - low_y))
    views, marks = split_marks(cluster_views(parts, VIEW_GAP_RELATIVE * diagonal))
    grouped = group_objects(views)
    tol = _LINE_TOL_RELATIVE * diagonal
    solids = [(item, main_solid(item.main, collected, offset, scale, tol)) for item in grouped]
    outline_layers = {solid.outline.layer for item, solid in solids if item.others or item is grouped[0]}
    objects = [(item, solid) for item, solid in solids if not _is_annotation(item, outline_layers)]
    annotations = [item for item, _ in solids if _is_annotation(item, outline_layers)]
    objects = _reading_order(objects)

    numbers = written_numbers(collected.texts, offset, scale)
    notes = assign_notes(thickness_notes(collected.texts, offset, scale), [item for item, _ in objects])
    out: list[Part] = []
    rows: list[dict[str, Any]] = []
    warnings: list[ConversionWarning] = []
    named = len(objects) > 1
    for index, ((item, solid), own_notes) in enumerate(zip(objects, notes, strict=True), start=1):
        k, k_why = text_scale(numbers, item.main, scale)
        height, thickness, assumed = _height(solid, decide_thickness(item, numbers, own_notes, k, k_why), resolve)
        name = f"part {index}" if named else solid.outline.layer
        if assumed:
            warnings.append(
                ConversionWarning(
                    "thickness_assumed",
                    f"{name}: the sheet gives no thickness (no edge-on view, note or dimension); "
                    f"extruded {height:g} (the preset default); pass --height to set it",
                    SourceLocation(layer=solid.outline.layer),
                )
            )
        key = ExtrusionKey(solid.outline.key.base, round(height, 9))
        out.extend(Part(name, polygon, key, solid.outline.role, solid.outline.color) for polygon in solid.polygons)
        rows.append(_object_row(name, item, solid, thickness))
    report: dict[str, Any] = {
        "units": "output units, model coordinates (add the report's offset for the drawing's position)",
        "objects": rows,
        "excluded_views": sum(len(item.others) for item, _ in objects),
        "thickness": rows[0]["thickness"] if len(rows) == 1 else [row["thickness"] for row in rows],
        "left_out": {
            "marks": len(marks),
            "annotation_faces": len(annotations),
            "annotation_bboxes": [_box(item.main) for item in annotations[:20]],
        },
    }
    return PartsOutcome(out, report, warnings)


def _object_row(name: str, item: ObjectViews, solid: MainSolid, thickness: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "layer": solid.outline.layer,
        "main_view_bbox": _box(item.main),
        "size": _size(item.main),
        "holes": solid.holes,
        "loops_not_holes": dict(sorted(solid.not_holes.items())),
        "faces_left_out": dict(sorted(Counter(solid.left_out).items())),
        "thickness": thickness,
        "views": _view_rows(item),
    }
