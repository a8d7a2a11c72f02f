"""Geometry: blocks, OCS, curves, hatches, loose lines, holes, meshes, units, geodetic drawings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cad3d_dxf.core import DxfOptions, convert

from .helpers import dxf_bytes, glb_scene, new_doc, report, run, square


def _bbox(rep: dict) -> tuple[list[float], list[float]]:
    return rep["bbox"]["min"], rep["bbox"]["max"]


def test_nested_blocks_with_base_point_rotation_and_scale_land_where_autocad_draws_them() -> None:
    doc = new_doc()
    inner = doc.blocks.new("INNER", base_point=(5, 5))
    inner.add_lwpolyline(square(5, 5, 10), close=True)  # a 10x10 square at the base point
    outer = doc.blocks.new("OUTER", base_point=(100, 0))
    outer.add_blockref("INNER", (100, 0), dxfattribs={"xscale": 2, "yscale": 2})
    msp = doc.modelspace()
    msp.add_blockref("OUTER", (1000, 1000), dxfattribs={"rotation": 90, "layer": "PLACED"})
    rep = report(doc, height=1)
    low, high = _bbox(rep)
    # INNER square (0..10 after base point) scaled x2 -> 0..20, rotated 90 degrees about the
    # insertion point -> x in -20..0, y in 0..20, moved to (1000, 1000).
    assert low[:2] == pytest.approx([980, 1000], abs=1e-9)
    assert high[:2] == pytest.approx([1000, 1020], abs=1e-9)
    assert rep["total_volume"] == pytest.approx(400, rel=1e-12)
    # Entities on layer 0 inside blocks take the INSERT's layer.
    assert "PLACED" in rep["layers"] and rep["layers"]["PLACED"]["parts"] == 1
    assert rep["entities"]["block_references"] == 2


def test_minsert_grid_places_every_copy() -> None:
    doc = new_doc()
    block = doc.blocks.new("CELL")
    block.add_lwpolyline(square(0, 0, 10), close=True)
    insert = doc.modelspace().add_blockref("CELL", (0, 0))
    insert.grid(size=(2, 3), spacing=(50, 40))  # 2 rows 50 apart (y), 3 columns 40 apart (x)
    rep = report(doc, height=1)
    assert rep["parts"]["count"] == 6
    assert _bbox(rep)[1][:2] == pytest.approx([2 * 40 + 10, 50 + 10])


def test_ocs_mirrored_circle_and_polyline_land_in_wcs() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # Extrusion (0, 0, -1) mirrors the OCS x axis: OCS centre (10, 0) is WCS (-10, 0).
    msp.add_circle((10, 0), 1, dxfattribs={"extrusion": (0, 0, -1), "layer": "C"})
    msp.add_lwpolyline(square(100, 0, 5), close=True, dxfattribs={"extrusion": (0, 0, -1), "layer": "P"})
    rep = report(doc, height=1)
    low, high = _bbox(rep)
    assert low[0] == pytest.approx(-105, abs=1e-6)
    assert high[0] == pytest.approx(-9, abs=1e-6)


def test_closed_outlines_in_tilted_planes_are_extruded_along_their_normal() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # A circle in the YZ plane (OCS normal +X) at OCS elevation 100: it becomes a cylinder along X.
    msp.add_circle((0, 0, 100), 5, dxfattribs={"extrusion": (1, 0, 0), "layer": "WALLFACE"})
    arc = msp.add_arc((0, 0), 5, 0, 90, dxfattribs={"extrusion": (0, 1, 0)})
    msp.add_lwpolyline(square(0, 0, 5), close=True)
    rep = report(doc, height=50)
    [tilted] = [p for p in rep["parts"]["items"] if p["role"] == "tilted"]
    assert tilted["volume"] == pytest.approx(math.pi * 25 * 50, rel=2e-3)
    assert tilted["watertight"] is True
    low, high = _bbox(rep)
    assert low[0] == pytest.approx(0) and high[0] == pytest.approx(150)  # x from 100 to 150 (and the square)
    skipped = {s["handle"]: s["reason"] for s in rep["skipped_entities"]}
    assert "not parallel to XY" in skipped[arc.dxf.handle]


def test_curves_are_flattened_close_to_their_true_area() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_circle((0, 0), 50, dxfattribs={"layer": "CIRCLE"})
    msp.add_ellipse((500, 0), major_axis=(100, 0), ratio=0.5, dxfattribs={"layer": "ELLIPSE"})
    # Slot: two straight sides and two half circles (bulge 1) of radius 10.
    msp.add_lwpolyline(
        [(1000, 0, 0, 0, 0), (1100, 0, 0, 0, 1), (1100, 20, 0, 0, 0), (1000, 20, 0, 0, 1)],
        format="xyseb",
        close=True,
        dxfattribs={"layer": "SLOT"},
    )
    fit_points = [(2000 + 100 * math.cos(t), 100 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 17)]
    msp.add_spline(fit_points, dxfattribs={"layer": "SPLINE"})  # ends where it starts: closed
    layers = report(doc, height=1)["layers"]
    assert layers["CIRCLE"]["area"] == pytest.approx(math.pi * 50**2, rel=2e-3)
    assert layers["ELLIPSE"]["area"] == pytest.approx(math.pi * 100 * 50, rel=2e-3)
    assert layers["SLOT"]["area"] == pytest.approx(100 * 20 + math.pi * 10**2, rel=1e-3)
    assert layers["SPLINE"]["area"] == pytest.approx(math.pi * 100**2, rel=0.05)


def test_hatch_boundary_keeps_islands() -> None:
    doc = new_doc()
    hatch = doc.modelspace().add_hatch(dxfattribs={"layer": "HATCH"})
    hatch.paths.add_polyline_path(square(0, 0, 100), is_closed=True, flags=1)  # external
    hatch.paths.add_polyline_path(square(25, 25, 50), is_closed=True, flags=16)  # outermost island
    hatch.paths.add_polyline_path(square(40, 40, 20), is_closed=True, flags=0)  # island in island
    rep = report(doc, height=1)
    assert rep["layers"]["HATCH"]["area"] == pytest.approx(100**2 - 50**2 + 20**2)
    assert rep["parts"]["count"] == 2


def test_solid_and_trace_become_regions() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_solid([(0, 0), (10, 0), (0, 10), (10, 10)], dxfattribs={"layer": "S"})  # Z order
    msp.add_trace([(20, 0), (30, 0), (20, 5), (30, 5)], dxfattribs={"layer": "T"})
    msp.add_solid([(40, 0), (50, 0), (45, 8)], dxfattribs={"layer": "TRI"})
    layers = report(doc, height=1)["layers"]
    assert layers["S"]["area"] == pytest.approx(100)
    assert layers["T"]["area"] == pytest.approx(50)
    assert layers["TRI"]["area"] == pytest.approx(40)


def test_loose_lines_with_small_gaps_are_healed_and_reported() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    gap = 1e-4
    msp.add_line((0, 0), (100, 0))
    msp.add_line((100 + gap, 0), (100, 100))
    msp.add_line((100, 100 + gap), (0, 100))
    msp.add_arc((0, 50), 50, 90, 270)  # closes the outline on the left with a half circle
    rep = report(doc, height=1)
    assert rep["healing"]["healed_gaps"] == 2
    assert 0 < rep["healing"]["max_healed_gap"] <= gap * (1 + 1e-9)
    assert rep["parts"]["count"] == 1
    assert rep["total_area"] == pytest.approx(100 * 100 + math.pi * 50**2 / 2, rel=2e-3)


def test_open_chains_are_reported_not_extruded() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    msp.add_line((100, 0), (200, 0))
    msp.add_line((200, 0), (200, 50))
    rep = report(doc, height=1)
    assert rep["parts"]["count"] == 1
    assert rep["healing"]["open_chains"] == 1
    assert rep["healing"]["open_length"] == pytest.approx(150)


def test_plate_with_holes_is_one_solid_with_holes() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 200), close=True, dxfattribs={"layer": "OUTLINE"})
    msp.add_circle((50, 50), 10, dxfattribs={"layer": "HOLES"})
    msp.add_circle((150, 150), 10, dxfattribs={"layer": "HOLES"})
    msp.add_lwpolyline(square(90, 90, 20), close=True, dxfattribs={"layer": "HOLES"})
    result = run(doc, height=5)
    rep = result.report
    assert rep["parts"]["count"] == 1
    [part] = rep["parts"]["items"]
    assert part["holes"] == 3
    assert part["volume"] == pytest.approx(part["area"] * 5, rel=1e-9)
    assert part["area"] == pytest.approx(200**2 - 2 * math.pi * 100 - 400, rel=1e-3)
    [mesh] = glb_scene(result).geometry.values()
    assert mesh.is_watertight and mesh.volume > 0


def test_loose_line_plate_keeps_holes_and_islands_inside_holes() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    for ring in (square(0, 0, 100), square(20, 20, 60)):
        for start, end in zip(ring, ring[1:] + ring[:1], strict=True):
            msp.add_line(start, end)
    msp.add_lwpolyline(square(40, 40, 20), close=True)  # an island inside the hole
    rep = report(doc, height=1)
    assert rep["total_area"] == pytest.approx(100**2 - 60**2 + 20**2)
    assert rep["parts"]["count"] == 2


def test_passthrough_meshes_and_entities_after_them_are_kept() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_3dface([(0, 0, 0), (10, 0, 0), (10, 10, 5), (0, 10, 5)], dxfattribs={"layer": "FACE"})
    mesh = msp.add_mesh(dxfattribs={"layer": "MESH"})
    with mesh.edit_data() as data:
        data.vertices = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
        data.faces = [(0, 2, 1), (0, 1, 3), (1, 2, 3), (0, 3, 2)]
    polyface = msp.add_polyface(dxfattribs={"layer": "PFACE"})
    polyface.append_face([(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)])
    surface = msp.add_extruded_surface(dxfattribs={"layer": "SURF"})
    surface.sat = [
        "700 0 1 0",
        "@33 Open Design Alliance ACIS Builder @12 ACIS 219 NT @24 Thu Jan 01 2020",
        "1 9.9999999999999995e-07 1e-10",
        "End-of-ACIS-data",
    ]
    # FreeCAD's importer lost entities that came after MESH/SURFACE entities.
    msp.add_lwpolyline(square(100, 100, 10), close=True, dxfattribs={"layer": "AFTER"})
    result = run(doc, height=1)
    assert result.report["passthrough_meshes"] == 3
    assert "ACIS" in next(iter(result.report["entities"]["skipped"]["EXTRUDEDSURFACE"]))
    assert set(glb_scene(result).geometry) == {"FACE", "MESH", "PFACE", "AFTER"}


def test_acis_solids_are_skipped_with_reason_and_other_geometry_converts() -> None:
    doc = new_doc("R2000")
    msp = doc.modelspace()
    solid = msp.add_3dsolid()
    solid.sat = [
        "700 0 1 0",
        "@33 Open Design Alliance ACIS Builder @12 ACIS 219 NT @24 Thu Jan 01 2020",
        "1 9.9999999999999995e-07 1e-10",
        "End-of-ACIS-data",
    ]
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    rep = run(doc, height=1).report
    assert rep["entities"]["skipped"]["3DSOLID"]
    [skip] = [s for s in rep["skipped_entities"] if s["handle"] == solid.dxf.handle]
    assert "ACIS" in skip["reason"]


def test_degenerate_ellipse_is_skipped_without_aborting_the_file() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    ellipse = msp.add_ellipse((0, 0), major_axis=(12.5, 0), ratio=0.5)
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    text = dxf_bytes(doc).decode("utf-8")
    # ezdxf refuses to write a zero major axis, other exporters do: patch the file text.
    at = text.index(" 11\n12.5\n", text.index("\nELLIPSE\n"))
    data = (text[:at] + " 11\n0.0\n" + text[at + len(" 11\n12.5\n") :]).encode("utf-8")
    result = convert(data, DxfOptions(height=1))
    assert result.report["parts"]["count"] == 1
    [skip] = [s for s in result.report["skipped_entities"] if s["handle"] == ellipse.dxf.handle]
    assert "degenerate" in skip["reason"]
    assert any(w.location.entity_handle == ellipse.dxf.handle for w in result.warnings)


def test_closed_outline_touched_by_dimension_and_wall_lines_is_kept() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "ROOM"})
    msp.add_line((100, 50), (300, 50), dxfattribs={"layer": "ROOM"})  # a wall line touching it
    dim = msp.add_linear_dim(base=(50, -20), p1=(0, 0), p2=(100, 0), dxfattribs={"layer": "ROOM"})
    dim.render()
    rep = report(doc, height=1)
    assert rep["layers"]["ROOM"]["area"] == pytest.approx(100 * 100)
    assert rep["entities"]["skipped"]["DIMENSION"]


def test_insunits_are_normalised_to_the_output_unit() -> None:
    doc = new_doc(units=6)  # metres
    doc.modelspace().add_lwpolyline(square(0, 0, 2), close=True)
    in_mm = report(doc, height=100)
    units = in_mm["units"]
    assert {k: units[k] for k in ("insunits", "drawing", "output", "scale")} == {
        "insunits": 6,
        "drawing": "m",
        "output": "mm",
        "scale": 1000.0,
    }
    assert (units["declared"], units["used"]) == ("m", "m")
    assert in_mm["total_area"] == pytest.approx(2000 * 2000)
    in_m = report(doc, height=0.1, output_unit="m")
    assert in_m["total_volume"] == pytest.approx(2 * 2 * 0.1)
    unitless = new_doc(units=0)
    unitless.modelspace().add_lwpolyline(square(0, 0, 2), close=True)
    assert report(unitless, height=1)["units"]["drawing"] == "unitless"


def test_geodetic_coordinates_are_recentred_without_precision_loss() -> None:
    doc = new_doc(units=6)
    x0, y0 = 3_212_345.125, 5_432_109.875
    doc.modelspace().add_lwpolyline([(x0, y0), (x0 + 10.5, y0), (x0 + 10.5, y0 + 0.25), (x0, y0 + 0.25)], close=True)
    result = run(doc, height=1000)
    rep = result.report
    assert rep["recentred"] is True
    offset = rep["offset"]
    assert offset[0] != 0 and offset[1] != 0
    assert rep["bbox"]["min"][:2] == pytest.approx([x0 * 1000, y0 * 1000], abs=1e-3)
    assert rep["total_volume"] == pytest.approx(10500 * 250 * 1000, rel=1e-9)
    scene = glb_scene(result)
    assert scene.metadata["offset"] == offset
    [mesh] = scene.geometry.values()
    # Mesh coordinates are small (float32-safe) and the footprint is exact to 1e-3 mm.
    assert np.abs(mesh.vertices).max() < 1e5
    assert mesh.bounds[1][0] - mesh.bounds[0][0] == pytest.approx(10500, abs=1e-3)


def test_thickness_and_elevation_are_honoured() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_circle((0, 0), 10, dxfattribs={"thickness": 50, "layer": "THICK"})
    msp.add_lwpolyline(square(100, 0, 10), close=True, dxfattribs={"elevation": 300, "layer": "HIGH"})
    msp.add_lwpolyline(square(200, 0, 10), close=True, dxfattribs={"thickness": -20, "layer": "DOWN"})
    items = {p["layer"]: p for p in report(doc, height=1000)["parts"]["items"]}
    assert (items["THICK"]["base"], items["THICK"]["height"]) == (0, 50)
    assert (items["HIGH"]["base"], items["HIGH"]["height"]) == (300, 1000)
    assert (items["DOWN"]["base"], items["DOWN"]["height"]) == (-20, 20)


def test_duplicate_outlines_do_not_cancel_each_other() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    rep = report(doc, height=1)
    assert rep["total_area"] == pytest.approx(100)
    assert rep["regions"]["duplicates_dropped"] == 1


def test_only_annotations_is_nothing_to_extrude_but_inspect_reports() -> None:
    from cad3d_dxf.core import inspect
    from cad3d_kit.conversion import ConversionError

    doc = new_doc()
    doc.modelspace().add_text("hello")
    data = dxf_bytes(doc)
    with pytest.raises(ConversionError) as caught:
        convert(data, DxfOptions())
    assert caught.value.code == "nothing_to_extrude"
    assert "TEXT 1" in caught.value.message
    rep = inspect(data, DxfOptions()).report
    assert rep["parts"]["count"] == 0
    assert rep["entities"]["skipped"]["TEXT"]


def test_consuming_concatenation_equals_copying_and_empties_the_list() -> None:
    from cad3d_dxf.core.extrusion import MeshArrays

    rng = np.random.default_rng(7)
    pieces = [
        MeshArrays(rng.random((n, 3)), rng.integers(0, n, (2 * n, 3)).astype(dtype))
        for n, dtype in ((5, np.int64), (9, np.int32), (1, np.int64), (30, np.int32))
    ]
    copied = MeshArrays.concatenate(pieces)
    consumed_from = list(pieces)
    consumed = MeshArrays.concatenate(consumed_from, consume=True)
    assert consumed_from == []
    np.testing.assert_array_equal(consumed.vertices, copied.vertices)
    np.testing.assert_array_equal(consumed.faces, copied.faces)
    assert consumed.faces.dtype == np.int32  # fits: finished meshes use 32-bit indices
    assert MeshArrays.concatenate([], consume=True).faces.shape == (0, 3)
