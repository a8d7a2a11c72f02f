"""Near-closed outlines are closed against their own size; whatever stays open is warned about."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ezdxf
import pytest

from cad3d_dxf.core import DxfOptions, inspect

from .helpers import CORPUS, new_doc, report

LASER_PANEL = CORPUS / "dxf" / "comanda-postgis__ex1_laser_panel.dxf"


def _far_corner(msp: Any, layer: str = "FAR") -> None:
    """A closed 10 mm square 10 m away: the drawing is 10 m across, so the global healing
    tolerance (diagonal * 1e-5 = 0.14 mm) closes nothing of a 100 mm part's 0.5 mm gap."""
    msp.add_lwpolyline(
        [(10000, 10000), (10010, 10000), (10010, 10010), (10000, 10010)], close=True, dxfattribs={"layer": layer}
    )


def _warnings(rep: dict[str, Any], code: str, layer: str | None = None) -> list[dict[str, Any]]:
    return [
        w
        for w in rep["warnings"]
        if w["code"] == code and (layer is None or w.get("location", {}).get("layer") == layer)
    ]


def _parts(rep: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    return [p for p in rep["parts"]["items"] if p["layer"] == layer]


def test_rectangle_of_four_lines_with_a_small_gap_closes_on_a_large_drawing() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # 100 x 60 mm part; the last line stops 0.5 mm short of the start corner.
    for start, end in [((0, 0), (100, 0)), ((100, 0), (100, 60)), ((100, 60), (0, 60)), ((0, 60), (0, 0.5))]:
        msp.add_line(start, end, dxfattribs={"layer": "PART"})
    _far_corner(msp)
    rep = report(doc)
    assert rep["healing"]["tolerance"] < 0.5  # the drawing-wide healing alone would leave it open
    [part] = _parts(rep, "PART")
    assert part["area"] == pytest.approx(100 * 60, rel=1e-3)
    [closed] = _warnings(rep, "chains_closed", "PART")
    assert "0.5 drawing units" in closed["message"]
    assert rep["healing"]["open_chains"] == 0
    assert not _warnings(rep, "open_outline")


def test_u_shape_with_a_wide_gap_stays_open_and_is_warned_with_layer_and_length() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # A 100 x 100 U whose mouth is 40 mm wide (30 mm stubs from each corner): a shape, not a gap.
    points = [(30, 100), (0, 100), (0, 0), (100, 0), (100, 100), (70, 100)]
    msp.add_lwpolyline(points, dxfattribs={"layer": "OUTLINE"})
    _far_corner(msp)
    rep = report(doc)
    assert _parts(rep, "OUTLINE") == []
    assert not _warnings(rep, "chains_closed")
    [warning] = _warnings(rep, "open_outline", "OUTLINE")
    length = 30 + 100 + 100 + 100 + 30
    assert "'OUTLINE'" in warning["message"] and f"{length:g} drawing units long" in warning["message"]
    assert rep["healing"]["open_chains"] == 1
    assert rep["healing"]["open_length"] == pytest.approx(length)


def test_two_half_circles_whose_ends_nearly_meet_make_one_disc() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_arc((0, 0), 50, 0.0, 180.0, dxfattribs={"layer": "DISC"})
    msp.add_arc((0, 0), 50, 180.5, 359.5, dxfattribs={"layer": "DISC"})  # two gaps of ~0.44 mm
    _far_corner(msp)
    rep = report(doc)
    [disc] = _parts(rep, "DISC")
    assert disc["area"] == pytest.approx(math.pi * 50**2, rel=0.01)
    assert disc["holes"] == 0
    [closed] = _warnings(rep, "chains_closed", "DISC")
    assert "2 gap(s)" in closed["message"]
    assert not _warnings(rep, "open_outline")


def test_no_bridge_to_another_chains_end_when_it_is_the_nearest() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # A square whose top-left corner is missing (ends (0, 99) and (1, 100), 1.41 mm apart) and a
    # stray line ending 0.58 mm from (0, 99) and 1.39 mm from (1, 100): the stray end, not the
    # square's own end, is nearest to both, so the square is not closed through it (a wrong bridge
    # would make a part reaching out along the stray line) and both stay open, warned.
    msp.add_lwpolyline([(0, 99), (0, 0), (100, 0), (100, 100), (1, 100)], dxfattribs={"layer": "PART"})
    msp.add_line((-0.3, 99.5), (-80, 99.5), dxfattribs={"layer": "PART"})
    _far_corner(msp)
    rep = report(doc)
    assert _parts(rep, "PART") == []
    assert not _warnings(rep, "chains_closed")
    assert len(_warnings(rep, "open_outline", "PART")) == 2


def test_closed_cut_out_inside_a_plate_is_a_hole() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (200, 0), (200, 100), (0, 100)], close=True, dxfattribs={"layer": "PLATE"})
    # A 40 x 40 cut-out drawn as an open polyline missing 0.6 mm of its last side.
    msp.add_lwpolyline([(80, 30), (120, 30), (120, 70), (80, 70), (80, 30.6)], dxfattribs={"layer": "PLATE"})
    _far_corner(msp)
    [plate] = _parts(report(doc), "PLATE")
    assert plate["holes"] == 1
    assert plate["area"] == pytest.approx(200 * 100 - 40 * 40, rel=1e-3)


def test_open_outline_warnings_are_capped_per_layer_with_a_summary() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    for index in range(120):  # 120 separate short lines: linework, not outlines
        msp.add_line((index * 10, 0), (index * 10, 5 + index * 0.01), dxfattribs={"layer": "CONTOURS"})
    _far_corner(msp)
    rep = report(doc)
    warnings = _warnings(rep, "open_outline", "CONTOURS")
    assert len(warnings) == 51
    assert warnings[0]["message"].startswith("open outline on layer 'CONTOURS'")
    assert "6.19 drawing units long" in warnings[0]["message"]  # the longest first
    assert warnings[-1]["message"].startswith("70 more open outline(s) on layer 'CONTOURS'")
    assert rep["healing"]["open_chains"] == 120


def test_excluded_layers_are_not_warned() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_line((0, 0), (100, 0), dxfattribs={"layer": "A-ANNO-DIMS"})
    msp.add_lwpolyline([(0, 10), (50, 10), (50, 60), (0, 60)], close=True, dxfattribs={"layer": "Walls"})
    rep = report(doc, preset="architecture")
    assert not _warnings(rep, "open_outline")


def test_parallel_wall_lines_are_walls_not_open_outline_warnings() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    for y in (0, 200):
        msp.add_line((0, y), (2000, y), dxfattribs={"layer": "A-WALL"})
    msp.add_line((0, 1000), (1500, 1000), dxfattribs={"layer": "A-WALL"})  # no partner: lost, so warned
    rep = report(doc, preset="architecture")
    assert [p["area"] for p in _parts(rep, "A-WALL")] == [pytest.approx(2000 * 200)]
    [warning] = _warnings(rep, "open_outline", "A-WALL")
    assert "1500 drawing units long" in warning["message"]


def _loose_outline_chains() -> tuple[int, int]:
    """(closed rings a person sees, chains left open) from the panel's loose linework, counted
    independently of cad3d: every LINE/ARC/open LWPOLYLINE/SPLINE end joined to its nearest
    other end when they are within 2 mm, then rings counted as components whose every end is
    joined."""
    doc = ezdxf.readfile(LASER_PANEL)
    ends: list[tuple[float, float]] = []
    for entity in doc.modelspace():
        kind = entity.dxftype()
        if kind == "LINE":
            ends += [tuple(entity.dxf.start)[:2], tuple(entity.dxf.end)[:2]]
        elif kind == "ARC":
            ends += [tuple(p)[:2] for p in (entity.start_point, entity.end_point)]
        elif kind == "LWPOLYLINE" and not entity.closed:
            points = entity.get_points("xy")
            ends += [points[0], points[-1]]
        elif kind == "SPLINE" and not entity.closed:
            points = list(entity.flattening(0.1))
            ends += [tuple(points[0])[:2], tuple(points[-1])[:2]]
    # Union-find over pieces (ends 2i, 2i+1) through ends within 2 mm of each other.
    parent = list(range(len(ends) // 2))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined = [False] * len(ends)
    for i, (x, y) in enumerate(ends):
        for j in range(i + 1, len(ends)):
            if j != i ^ 1 and math.dist((x, y), ends[j]) <= 2.0:
                joined[i] = joined[j] = True
                parent[find(i // 2)] = find(j // 2)
    components: dict[int, bool] = {}
    for i in range(len(ends)):
        root = find(i // 2)
        components[root] = components.get(root, True) and joined[i]
    return sum(components.values()), sum(not closed for closed in components.values())


@pytest.mark.skipif(not LASER_PANEL.exists(), reason="corpus file not present")
def test_laser_panel_keeps_every_cut_out_and_drops_no_chain_silently() -> None:
    rep = inspect(Path(LASER_PANEL).read_bytes(), DxfOptions(preset="mechanical")).report
    # A person sees one large panel and four side panels. The large one has 21 cut-outs: the top
    # slot, 4 flames above the sun (two of them drawn with 0.15 and 1.05 mm gaps), 12 sun rays,
    # the centre circle, the bottom window and 2 slots; each side panel has 10 waves and a hole.
    parts = rep["parts"]["items"]
    assert len(parts) == 5
    assert sorted(p["holes"] for p in parts) == [11, 11, 11, 11, 21]
    assert sum(p["holes"] for p in parts) == 65
    # Counted apart from cad3d: the loose linework is 25 closed loops (5 panel outlines, 20 cut-outs)
    # and nothing open; the other 45 cut-outs are closed polylines and circles.
    assert _loose_outline_chains() == (25, 0)
    assert rep["regions"]["closed_contours"] == 45
    assert 25 - 5 + 45 == 65
    assert rep["healing"]["open_chains"] == 0 and not _warnings(rep, "open_outline")
    [closed] = _warnings(rep, "chains_closed")
    assert closed["message"].startswith("layer '0': 2 gap(s) up to 1.04567 drawing units")
