"""Mechanical sheets: one solid per object from its main view, thickness from the other views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import trimesh
from ezdxf.document import Drawing

from cad3d_dxf.core import DxfOptions, convert

from .helpers import CORPUS, glb_scene, new_doc, run

HOLES = [(15.0, 15.0), (85.0, 15.0), (15.0, 45.0), (85.0, 45.0)]


def rect(doc: Drawing, x0: float, y0: float, x1: float, y1: float) -> None:
    doc.modelspace().add_lwpolyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], close=True)


def plate_sheet(side_views: bool = True, note: str = "") -> Drawing:
    """A 100 x 60 plate with four 8 mm holes; edge-on views 2 mm thick below and to the right."""
    doc = new_doc()
    msp = doc.modelspace()
    rect(doc, 0, 0, 100, 60)
    for x, y in HOLES:
        msp.add_circle((x, y), 4)
    if side_views:
        rect(doc, 0, -22, 100, -20)  # below, 20 mm gap, same x-extent
        rect(doc, 120, 0, 122, 60)  # right, same y-extent
    if note:
        msp.add_text(note, dxfattribs={"height": 3.5, "insert": (0, -15)})
    return doc


def views_report(result: Any) -> dict[str, Any]:
    return result.report["views"]


def model_size(result: Any) -> np.ndarray:
    bbox = result.report["bbox"]
    return np.asarray(bbox["max"]) - np.asarray(bbox["min"])


def glb_solid(result: Any) -> trimesh.Trimesh:
    """The model as one mesh in drawing millimetres, z up (GLB is metres, y up)."""
    mesh = glb_scene(result).to_geometry()
    vertices = np.asarray(mesh.vertices) * 1000.0
    mesh.vertices = np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]])
    return mesh


def covered(mesh: trimesh.Trimesh, x: float, y: float) -> bool:
    """Whether a vertical line through (x, y) meets the solid: a hole's axis does not."""
    triangles = mesh.triangles[:, :, :2]
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    point = np.array([x, y])

    def side(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (q[:, 0] - p[:, 0]) * (point[1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (point[0] - p[:, 0])

    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    inside = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
    area = np.abs(np.cross(b - a, c - a))
    return bool(np.any(inside & (area > 1e-9)))


def test_plate_with_side_views_is_one_solid_as_thick_as_its_edge() -> None:
    result = run(plate_sheet(), preset="mechanical", format="glb")
    views = views_report(result)
    [obj] = views["objects"]
    assert model_size(result) == pytest.approx([100.0, 60.0, 2.0], abs=1e-6)
    assert obj["holes"] == 4
    assert obj["thickness"]["source"] == "side_view"
    assert obj["thickness"]["value"] == pytest.approx(2.0)
    roles = sorted(v["role"] for v in obj["views"])
    assert roles == ["front", "main", "side"]
    assert views["excluded_views"] == 2
    solid = glb_solid(result)
    assert solid.is_watertight
    # A point on a hole's axis is not material; the plate between the holes is.
    material = [covered(solid, x, y) for x, y in [*HOLES, (50.0, 30.0), (5.0, 5.0)]]
    assert material == [False, False, False, False, True, True]
    assert not result.report["warnings"] or all(w["code"] != "thickness_assumed" for w in result.report["warnings"])


def test_thickness_note_without_side_view() -> None:
    result = run(plate_sheet(side_views=False, note="t=3"), preset="mechanical", format="glb")
    thickness = views_report(result)["objects"][0]["thickness"]
    assert thickness["source"] == "note"
    assert thickness["value"] == pytest.approx(3.0)
    assert model_size(result) == pytest.approx([100.0, 60.0, 3.0], abs=1e-6)


def test_height_option_wins_over_the_side_view() -> None:
    result = run(plate_sheet(), preset="mechanical", format="glb", height=5.0)
    thickness = views_report(result)["objects"][0]["thickness"]
    assert thickness["value"] == pytest.approx(5.0)
    assert thickness["source"] == "option"
    assert thickness["drawing_says"]["value"] == pytest.approx(2.0)
    assert model_size(result) == pytest.approx([100.0, 60.0, 5.0], abs=1e-6)


def test_no_thickness_evidence_keeps_default_and_warns() -> None:
    result = run(plate_sheet(side_views=False), preset="mechanical", format="glb")
    thickness = views_report(result)["objects"][0]["thickness"]
    assert thickness["source"] == "default"
    assert model_size(result)[2] == pytest.approx(10.0)
    assert "thickness_assumed" in [w["code"] for w in result.report["warnings"]]


def two_plates() -> Drawing:
    """A disc (2 mm) and an L (3 mm) side by side, each with its edge-on view below it."""
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_circle((25, 25), 25)
    msp.add_circle((25, 25), 5)
    rect(doc, 0, -22, 50, -20)
    msp.add_lwpolyline([(100, 0), (180, 0), (180, 30), (130, 30), (130, 80), (100, 80)], close=True)
    rect(doc, 100, -23, 180, -20)
    return doc


def test_two_different_plates_are_two_named_nodes() -> None:
    result = run(two_plates(), preset="mechanical", format="glb")
    objects = views_report(result)["objects"]
    assert [o["name"] for o in objects] == ["part 1", "part 2"]
    disc, ell = objects
    assert disc["size"] == pytest.approx([50.0, 50.0], abs=0.1)
    assert disc["holes"] == 1
    assert disc["thickness"]["value"] == pytest.approx(2.0, abs=0.01)
    assert ell["size"] == pytest.approx([80.0, 80.0], abs=1e-6)
    assert ell["thickness"]["value"] == pytest.approx(3.0)
    scene = glb_scene(result)
    heights = {}
    for node in scene.graph.nodes_geometry:
        transform, geometry = scene.graph[node]
        mesh = scene.geometry[geometry].copy()
        mesh.apply_transform(transform)
        heights[node] = round(float(mesh.extents[1]) * 1000.0, 3)  # glTF y is up
    assert heights == {"part 1": 2.0, "part 2": 3.0}


def test_identical_copies_lined_up_are_separate_objects() -> None:
    doc = new_doc()
    for row in range(3):
        rect(doc, 0, row * 40, 100, row * 40 + 20)
    result = run(doc, preset="mechanical", format="glb")
    assert len(views_report(result)["objects"]) == 3


def test_views_all_extrudes_every_view() -> None:
    result = run(plate_sheet(), preset="mechanical", format="glb", views="all")
    assert "views" not in result.report
    assert result.report["parts"]["count"] == 3
    assert model_size(result)[:2] == pytest.approx([122.0, 82.0], abs=1e-6)


def corpus_file(path: str) -> Path:
    found = CORPUS / path
    if not found.exists():
        pytest.skip(f"corpus file {path} not present")
    return found


def test_issue42_plate_is_one_object_with_its_14_holes() -> None:
    data = corpus_file("dxf/skymakerolof-dxf__issue42.dxf").read_bytes()
    result = convert(data, DxfOptions(preset="mechanical", format="glb"))
    [obj] = views_report(result)["objects"]
    # 6 fixing holes at the edges, a square cut-out, 2 keyed round holes, a large round hole
    # with its 4 screw holes: what a person counts on the drawing.
    assert obj["holes"] == 14
    assert obj["size"] == pytest.approx([284.0, 208.0], abs=0.01)
    assert obj["thickness"]["source"] == "default"


def pdf_sheet_as_dxf(name: str) -> bytes:
    pdf_core = pytest.importorskip("cad3d_pdf.core")
    data = corpus_file(f"pdf/{name}").read_bytes()
    result = pdf_core.convert(data, pdf_core.PdfOptions(), lambda *args, **kwargs: None)
    return next(a.data for a in result.artifacts if a.name.endswith(".dxf"))


def test_jxs_04_03_main_view_only_two_mm_from_its_side_view() -> None:
    result = convert(pdf_sheet_as_dxf("openeai-arm__JXS-04-03.pdf"), DxfOptions(preset="mechanical", format="glb"))
    [obj] = views_report(result)["objects"]
    # The page: a 40 x 57 plate with R10 corners, a slot and 4 holes; below it the edge-on view
    # dimensioned 2 (6 over the step of the bend).
    assert obj["size"] == pytest.approx([40.0, 57.0], abs=0.1)
    assert obj["holes"] == 5
    assert obj["thickness"]["source"] == "dimension"
    assert obj["thickness"]["value"] == pytest.approx(2.0, abs=0.01)
    assert [v["role"] for v in obj["views"]] == ["main", "front"]
    assert model_size(result) == pytest.approx([40.0, 57.0, 2.0], abs=0.1)


@pytest.mark.parametrize(
    ("name", "width", "thick", "holes"),
    [("openeai-arm__JXS-01-01.pdf", 200.0, 4.0, 8), ("openeai-arm__JXS-02-02.pdf", 152.0, 2.0, 8)],
)
def test_jxs_plates_keep_thickness_in_proportion(name: str, width: float, thick: float, holes: int) -> None:
    """Drawn at 1:2: whatever scale the units step settles on, thickness / width is the page's."""
    result = convert(pdf_sheet_as_dxf(name), DxfOptions(preset="mechanical", format="glb"))
    [obj] = views_report(result)["objects"]
    assert obj["holes"] == holes
    size = model_size(result)
    assert size[2] / size[0] == pytest.approx(thick / width, rel=0.02)


def test_laser_panel_sheet_is_five_objects() -> None:
    data = corpus_file("dxf/comanda-postgis__ex1_laser_panel.dxf").read_bytes()
    result = convert(data, DxfOptions(preset="mechanical", format="glb"))
    objects = views_report(result)["objects"]
    assert [o["name"] for o in objects] == [f"part {i}" for i in range(1, 6)]
    sizes = sorted(tuple(round(v) for v in o["size"]) for o in objects)
    assert sizes == [(420, 841)] + [(525, 104)] * 4
    assert glb_scene(result).graph.nodes_geometry and len(glb_scene(result).graph.nodes_geometry) == 5
