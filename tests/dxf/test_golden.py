"""Golden tests: generated drawings whose expected results are worked out by hand."""

from __future__ import annotations

import math

import pytest

from .helpers import new_doc, report, run, square


def test_golden_mechanical_flange() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_circle((0, 0), 100, dxfattribs={"layer": "Contour"})
    msp.add_circle((0, 0), 30, dxfattribs={"layer": "Contour"})
    for k in range(6):
        angle = k * math.tau / 6
        msp.add_circle((70 * math.cos(angle), 70 * math.sin(angle)), 8, dxfattribs={"layer": "Holes"})
    msp.add_line((-120, 0), (120, 0), dxfattribs={"layer": "Center"})
    msp.add_line((0, -120), (0, 120), dxfattribs={"layer": "Center"})
    dim = msp.add_diameter_dim((0, 0), radius=100, angle=45, dxfattribs={"layer": "Dimensions"})
    dim.render()
    result = run(doc, preset="mechanical", format="stl")
    rep = result.report
    assert rep["parts"]["count"] == 1 and rep["parts"]["all_watertight"]
    [part] = rep["parts"]["items"]
    assert (part["holes"], part["height"], part["base"], part["role"]) == (7, 10, 0, "plate")
    area = math.pi * (100**2 - 30**2 - 6 * 8**2)
    assert part["area"] == pytest.approx(area, rel=1e-3)
    assert rep["total_volume"] == pytest.approx(part["area"] * 10, rel=1e-9)
    assert rep["bbox"]["min"] == pytest.approx([-100, -100, 0], abs=0.05)
    assert rep["bbox"]["max"] == pytest.approx([100, 100, 10], abs=0.05)
    assert rep["layers"]["Center"]["included"] is False
    assert rep["layers"]["Dimensions"]["included"] is False
    assert rep["entities"]["used"]["CIRCLE"] == 8


def test_golden_two_room_house() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    outer = [(0, 0), (8600, 0), (8600, 3400), (0, 3400)]
    rooms = [square(200, 200, 3000), [(3400, 200), (8400, 200), (8400, 3200), (3400, 3200)]]
    for ring in [outer, *rooms]:
        for start, end in zip(ring, ring[1:] + ring[:1], strict=True):
            msp.add_line(start, end, dxfattribs={"layer": "A-WALL"})
    column = doc.blocks.new("COLUMN", base_point=(150, 150))
    column.add_lwpolyline(square(0, 0, 300), close=True)
    for x in (1000, 5000):
        msp.add_blockref("COLUMN", (x, 1700), dxfattribs={"layer": "S-COLS"})
    msp.add_lwpolyline(square(6000, 1000, 800), close=True, dxfattribs={"layer": "Furniture"})
    msp.add_text("Living", dxfattribs={"layer": "A-ANNO-TEXT", "insert": (500, 500)})
    rep = report(doc, preset="architecture")
    by_role: dict[str, list[dict]] = {}
    for part in rep["parts"]["items"]:
        by_role.setdefault(part["role"], []).append(part)
    [walls] = by_role["wall"]
    assert walls["area"] == pytest.approx(8600 * 3400 - 3000 * 3000 - 5000 * 3000)
    assert (walls["base"], walls["height"], walls["holes"]) == (0, 3000, 2)
    slabs = sorted(p["area"] for p in by_role["slab"])
    assert slabs == pytest.approx([3000 * 3000, 5000 * 3000])
    assert all((p["base"], p["height"]) == (-200, 200) for p in by_role["slab"])
    columns = by_role["column"]
    assert len(columns) == 2 and all(c["area"] == pytest.approx(300 * 300) for c in columns)
    assert "Furniture" not in {p["layer"] for p in rep["parts"]["items"]}
    expected_volume = walls["area"] * 3000 + sum(slabs) * 200 + 2 * 300 * 300 * 3000
    assert rep["total_volume"] == pytest.approx(expected_volume, rel=1e-9)
    assert rep["parts"]["all_watertight"]
    assert rep["bbox"]["min"] == pytest.approx([0, 0, -200])
    assert rep["bbox"]["max"] == pytest.approx([8600, 3400, 3000])
