"""Mechanical sheets: one part per object from its main view, thickness from the edge-on view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
import trimesh

from cad3d_dxf.core import DxfOptions, convert

from .helpers import dxf_bytes, glb_scene, new_doc, report, square

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _rect(msp: Any, x: float, y: float, w: float, h: float) -> None:
    msp.add_lwpolyline([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], close=True)


def _plate_sheet(side_views: bool = True, note: str | None = None) -> Any:
    """A 100 x 60 plate with 4 holes, its 100 x 2 front view below and 2 x 60 side view beside."""
    doc = new_doc(units=4)
    msp = doc.modelspace()
    _rect(msp, 0, 0, 100, 60)
    for x, y in ((15, 15), (85, 15), (15, 45), (85, 45)):
        msp.add_circle((x, y), 4)
    if side_views:
        _rect(msp, 0, -22, 100, 2)
        _rect(msp, 120, 0, 2, 60)
    if note:
        msp.add_text(note, dxfattribs={"insert": (0, -40), "height": 3.5})
    return doc


def test_plate_takes_its_thickness_from_the_side_view_and_leaves_the_views_out() -> None:
    result = convert(dxf_bytes(_plate_sheet()), DxfOptions(preset="mechanical"))
    rep = result.report
    assert rep["bbox"]["min"] == pytest.approx([0, 0, 0], abs=1e-6)
    assert rep["bbox"]["max"] == pytest.approx([100, 60, 2], abs=1e-6)
    [obj] = rep["views"]["objects"]
    assert obj["holes"] == 4
    assert (obj["thickness"]["value"], obj["thickness"]["source"]) == (pytest.approx(2), "side_view")
    assert sorted(v["role"] for v in obj["views"]) == ["front", "side"]
    assert rep["views"]["excluded_views"] == 2
    mesh = trimesh.util.concatenate(list(glb_scene(result).dump()))
    # The GLB is in metres, Y up: drawing (x, y, z) is (x, z, -y). A hole's axis is empty, the plate
    # between the holes is solid, where the front view was drawn there is nothing.
    lines = trimesh.intersections.mesh_plane(mesh, plane_normal=[0, 1, 0], plane_origin=[0, 0.001, 0])
    # float32 vertices: snap the section's segments to a 1 micrometre grid before polygonising.
    snapped = shapely.set_precision(shapely.multilinestrings(lines[:, :, [0, 2]] * [1, -1]), 1e-6)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(snapped))))
    # One part remains: the largest face is the plate, with the holes as its interior rings.
    section = max(faces, key=lambda face: face.area)
    points = shapely.points([[0.015, 0.015], [0.05, 0.03], [0.05, -0.021]])
    assert shapely.within(points, section).tolist() == [False, True, False]


def test_a_thickness_note_is_read_when_no_side_view_is_drawn() -> None:
    rep = report(_plate_sheet(side_views=False, note="t=3"), preset="mechanical")
    assert rep["bbox"]["max"][2] == pytest.approx(3)
    assert rep["views"]["objects"][0]["thickness"]["source"] == "note"


def test_an_explicit_height_wins_over_the_side_view() -> None:
    rep = report(_plate_sheet(), preset="mechanical", height=5)
    assert rep["bbox"]["max"][2] == pytest.approx(5)
    assert rep["views"]["explicit_height"] is True


def test_no_evidence_keeps_the_default_and_warns() -> None:
    rep = report(_plate_sheet(side_views=False), preset="mechanical")
    assert rep["bbox"]["max"][2] == pytest.approx(10)
    assert "thickness_assumed" in {w["code"] for w in rep["warnings"]}


def test_two_different_parts_are_two_named_nodes() -> None:
    doc = new_doc(units=4)
    msp = doc.modelspace()
    msp.add_circle((0, 0), 30)
    msp.add_circle((0, 0), 5)
    _rect(msp, -30, -50, 60, 3)  # the disc's edge-on view below it
    msp.add_lwpolyline([(200, 0), (260, 0), (260, 20), (220, 20), (220, 60), (200, 60)], close=True)
    msp.add_circle((210, 10), 3)
    result = convert(dxf_bytes(doc), DxfOptions(preset="mechanical"))
    names = sorted(o["name"] for o in result.report["views"]["objects"])
    assert names == ["part 1", "part 2"]
    assert {"part 1", "part 2"} <= set(glb_scene(result).geometry) | {n for n in glb_scene(result).graph.nodes}


def test_views_all_extrudes_every_view() -> None:
    rep = report(_plate_sheet(), preset="mechanical", views="all")
    assert "views" not in rep
    assert rep["bbox"]["min"][1] == pytest.approx(-22)
    assert rep["parts"]["count"] == 3


def test_identical_parts_side_by_side_stay_parts() -> None:
    doc = new_doc(units=4)
    msp = doc.modelspace()
    for x in (0, 150, 300):
        msp.add_lwpolyline(square(x, 0, 100), close=True)
        msp.add_circle((x + 50, 50), 10)
    rep = report(doc, preset="mechanical")
    assert len(rep["views"]["objects"]) == 3 and rep["views"]["excluded_views"] == 0


def test_corpus_jxs_04_03_is_one_2_mm_plate() -> None:
    path = CORPUS / "pdf" / "openeai-arm__JXS-04-03.pdf"
    if not path.exists():
        pytest.skip(f"corpus file {path} not found")
    from cad3d_pdf.core import PdfOptions
    from cad3d_pdf.core import convert as pdf_convert

    pdf = pdf_convert(path.read_bytes(), PdfOptions())
    dxf = next(a for a in pdf.artifacts if a.name.endswith(".dxf"))
    rep = convert(dxf.data, DxfOptions(preset="mechanical")).report
    size = [rep["bbox"]["max"][i] - rep["bbox"]["min"][i] for i in range(3)]
    assert size == pytest.approx([40, 57, 2], abs=0.5)  # the plate, not the 288 x 203 mm frame
    [obj] = rep["views"]["objects"]
    assert obj["holes"] == 5  # four holes and the slot
    assert rep["sheet"]["frame"]["found"] is True
