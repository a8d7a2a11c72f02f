"""Sheet furniture: frames, title blocks, tables, exploded dimensions, symbols and furniture
blocks stay out of the model; the object itself stays in, at its own size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ezdxf.document import Drawing
from ezdxf.layouts import BaseLayout

from cad3d_dxf.core import DxfOptions, convert
from cad3d_dxf.core.sense.blocks import block_excluder, block_kind

from .helpers import CORPUS, new_doc, report, run


def _size(rep: dict[str, Any]) -> list[float]:
    low, high = rep["bbox"]["min"], rep["bbox"]["max"]
    return [round(high[i] - low[i], 3) for i in range(2)]


def _plate(msp: BaseLayout, x: float = 100.0, y: float = 120.0) -> None:
    """A 100 x 60 plate with two 10 mm holes."""
    msp.add_lwpolyline([(x, y), (x + 100, y), (x + 100, y + 60), (x, y + 60)], close=True)
    msp.add_circle((x + 20, y + 30), 5)
    msp.add_circle((x + 80, y + 30), 5)


def _rect(msp: BaseLayout, x0: float, y0: float, x1: float, y1: float, layer: str = "0") -> None:
    msp.add_lwpolyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], close=True, dxfattribs={"layer": layer})


_TITLE_TEXTS = ("TITLE: BRACKET", "SCALE 1:1", "MATERIAL: S235", "UNIT: mm", "DRAWN: A.B.", "QTY: 2")


def _title_grid(space: BaseLayout, x0: float = 230.0, y0: float = 10.0) -> None:
    """A 180 x 40 grid of 3 x 4 cells as exploded LINEs, a text in six of them."""
    for k in range(5):
        space.add_line((x0, y0 + 10 * k), (x0 + 180, y0 + 10 * k))
    for k in range(4):
        space.add_line((x0 + 60 * k, y0), (x0 + 60 * k, y0 + 40))
    for index, text in enumerate(_TITLE_TEXTS):
        column, row = divmod(index, 4)
        space.add_text(text, height=2.5).set_placement((x0 + 2 + 60 * column, y0 + 33 - 10 * row))


def _a3_sheet(doc: Drawing, title_block: bool = True) -> None:
    """A3 at 1:1 in mm, double border, everything on layer 0."""
    msp = doc.modelspace()
    _rect(msp, 0, 0, 420, 297)
    _rect(msp, 20, 10, 410, 287)
    if title_block:
        _title_grid(msp)


def test_a3_frame_and_title_block_are_not_the_part() -> None:
    doc = new_doc()
    _a3_sheet(doc)
    _plate(doc.modelspace())
    rep = run(doc, format="glb", preset="mechanical").report
    assert _size(rep) == [100.0, 60.0]
    assert rep["parts"]["count"] == 1 and rep["parts"]["items"][0]["holes"] == 2
    sheet = rep["sheet"]
    assert sheet["frame"]["found"] and sheet["frame"]["bbox"] == [0.0, 0.0, 420.0, 297.0]
    assert "double_border" in sheet["frame"]["evidence_kinds"] and "title_block" in sheet["frame"]["evidence_kinds"]
    assert sheet["frame"]["sheet_format"].startswith("A3")
    fields = sheet["title_block"]["fields"]
    assert fields["title"] == "BRACKET" and fields["scale"] == "1:1"
    assert fields["material"] == "S235" and fields["unit"] == "mm" and fields["quantity"] == "2"
    # Both borders and the 9 grid lines, two of which lie on the inner border.
    assert sheet["excluded"] == {"frame": 4, "title_block": 7}


def test_title_block_as_block_with_attributes() -> None:
    doc = new_doc()
    _a3_sheet(doc, title_block=False)
    block = doc.blocks.new("TITLEBLOCK")
    for k in range(3):
        block.add_line((0, 20 * k), (180, 20 * k))
    for x in (0, 90, 180):
        block.add_line((x, 0), (x, 40))
    for tag, y in (("TITLE", 25), ("SCALE", 5), ("MATERIAL", 15)):
        block.add_attdef(tag, (2, y), dxfattribs={"height": 2.5})
    msp = doc.modelspace()
    ref = msp.add_blockref("TITLEBLOCK", (230, 10))
    ref.add_auto_attribs({"TITLE": "BRACKET", "SCALE": "1:2", "MATERIAL": "AlMg3"})
    _plate(msp)
    rep = run(doc, format="glb").report
    assert _size(rep) == [100.0, 60.0]
    assert rep["parts"]["count"] == 1
    sheet = rep["sheet"]
    assert sheet["frame"]["found"]
    assert sheet["title_block"]["fields"] == {"title": "BRACKET", "scale": "1:2", "material": "AlMg3"}
    assert sheet["blocks"] == {"title_block": ["TITLEBLOCK"]}


def test_plate_whose_outline_is_the_largest_rectangle_keeps_it() -> None:
    doc = new_doc()
    _plate(doc.modelspace(), 0, 0)
    doc.modelspace().add_text("100", height=3).set_placement((45, -8))
    rep = run(doc, format="glb").report
    assert _size(rep) == [100.0, 60.0]
    assert rep["parts"]["items"][0]["holes"] == 2
    assert rep["sheet"]["frame"] == {"found": False}


def test_a4_sized_plate_with_holes_is_not_a_frame() -> None:
    """297 x 210 has the sheet's proportions and a clear margin around its holes: still a plate."""
    doc = new_doc()
    msp = doc.modelspace()
    _rect(msp, 0, 0, 297, 210)
    for x in (30, 267):
        msp.add_circle((x, 105), 8)
    msp.add_text("297", height=5).set_placement((140, -12))
    rep = run(doc, format="glb").report
    assert _size(rep) == [297.0, 210.0]
    assert rep["parts"]["count"] == 1 and rep["parts"]["items"][0]["holes"] == 2
    assert rep["sheet"]["frame"] == {"found": False}
    assert rep["sheet"]["kept"] and "sheet_ratio" not in str(rep["sheet"]["frame"])


def test_building_outer_wall_is_not_a_frame() -> None:
    """Double-line outer walls enclose everything, with inner walls meeting them: a building."""
    doc = new_doc()
    msp = doc.modelspace()
    _rect(msp, 0, 0, 10000, 8000)
    _rect(msp, 250, 250, 9750, 7750)
    msp.add_line((5000, 250), (5000, 7750))
    msp.add_line((5150, 250), (5150, 7750))
    msp.add_text("LIVING", height=300).set_placement((2000, 4000))
    msp.add_text("KITCHEN", height=300).set_placement((7000, 4000))
    rep = report(doc, preset="architecture")
    assert rep["sheet"]["frame"] == {"found": False}
    assert _size(rep) == [10000.0, 8000.0]
    assert rep["sheet"]["excluded"] == {}


def test_exploded_dimension_with_solid_arrowheads_is_not_extruded() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    _plate(msp, 0, 0)
    # Extension lines from the plate's corners and a dimension line between them close a
    # 100 x 10 strip under the plate unless the dimension is recognised.
    msp.add_line((0, 0), (0, -12))
    msp.add_line((100, 0), (100, -12))
    msp.add_line((0, -10), (100, -10))
    msp.add_solid([(0, -10), (3.5, -10.6), (3.5, -9.4)])
    msp.add_solid([(100, -10), (96.5, -10.6), (96.5, -9.4)])
    msp.add_text("100", height=2.5).set_placement((48, -8.5))
    rep = run(doc, format="glb", preset="mechanical").report
    assert _size(rep) == [100.0, 60.0]
    assert rep["parts"]["count"] == 1
    assert rep["sheet"]["excluded"]["dimension"] >= 3


def _block(doc: Drawing, name: str, size: float, circle: bool = False) -> None:
    block = doc.blocks.new(name)
    if circle:
        block.add_circle((0, 0), size / 2)
    else:
        block.add_lwpolyline([(0, 0), (size, 0), (size, size / 2), (0, size / 2)], close=True)


def test_furniture_fixtures_and_trees_are_left_out_but_doors_stay() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    doc.layers.add("A-WALL")
    doc.layers.add("A-DOOR")
    _rect(msp, 0, 0, 6000, 200, "A-WALL")
    _rect(msp, 0, 4800, 6000, 5000, "A-WALL")
    _block(doc, "BED-DOUBLE", 1600)
    _block(doc, "xref-A$0$FIXT-WASHER26", 600, circle=True)
    _block(doc, "TREE-OAK", 3000, circle=True)
    _block(doc, "Door", 900)
    msp.add_blockref("BED-DOUBLE", (1000, 1000))
    msp.add_blockref("xref-A$0$FIXT-WASHER26", (4000, 2000))
    msp.add_blockref("TREE-OAK", (9000, 2500))  # a tree beyond the building would widen it
    msp.add_blockref("Door", (3000, 2000), dxfattribs={"layer": "A-DOOR"})
    # plan="plain": what the plan step makes of a door is its business; here the door's geometry
    # must simply reach the model.
    rep = run(doc, format="glb", preset="architecture", plan="plain").report
    excluded = rep["sheet"]["excluded"]
    assert excluded == {"furniture": 1, "fixture": 1, "plant": 1}
    assert rep["sheet"]["blocks"]["fixture"] == ["xref-A$0$FIXT-WASHER26"]
    assert _size(rep)[0] == 6000.0  # the tree at x = 9000 is not in the model
    assert rep["layers"]["A-DOOR"].get("parts", 0) >= 1
    assert rep["layers"]["0"].get("parts", 0) == 0


def test_furniture_names_need_the_architecture_preset() -> None:
    options = DxfOptions(preset="mechanical")
    exclude = block_excluder(options)
    assert exclude is not None
    assert exclude("TABLE", "0") == "" and exclude("NORTH-ARROW", "0") == "symbol"
    assert block_excluder(DxfOptions(sheet="keep")) is None


@pytest.mark.parametrize(
    ("name", "layer", "kind"),
    [
        ("BED-DOUBLE", "0", "furniture"),
        ("xref-Bishop-Overland-08$0$FIXT-OVALBATH", "0", "fixture"),
        ("P-Toilet", "0", "fixture"),
        ("ARBRE10", "plants", "plant"),
        ("X-1", "A-FURN", "furniture"),
        ("Door", "Door", ""),
        ("Title_Block-0", "0", "title_block"),
        ("US Projection 3rd Angle-0", "0", "symbol"),
        ("SECTION A-A", "0", ""),
        ("SECTION-MARK", "0", "symbol"),
        ("Кровать", "0", "furniture"),
        ("درخت", "0", "plant"),
        ("TUBE-40", "0", ""),
    ],
)
def test_block_words(name: str, layer: str, kind: str) -> None:
    assert block_kind(name, layer) == kind


def test_sheet_keep_models_the_frame_and_reports_it() -> None:
    doc = new_doc()
    _a3_sheet(doc)
    _plate(doc.modelspace())
    rep = run(doc, format="glb", sheet="keep").report
    assert _size(rep) == [420.0, 297.0]
    assert rep["sheet"]["frame"]["found"] and rep["sheet"]["frame"]["kept"]
    assert rep["sheet"]["excluded"] == {}


# --- corpus regressions ------------------------------------------------------------------------


def _corpus(kind: str, name: str) -> bytes:
    path = CORPUS / kind / name
    if not path.exists():
        pytest.skip(f"corpus file {path} is not available")
    return Path(path).read_bytes()


def test_richland_house_plan_frame_is_not_a_floor_slab() -> None:
    rep = convert(_corpus("dxf", "richland__House_Plan-01.dxf"), DxfOptions(preset="architecture")).report
    frame = rep["sheet"]["frame"]
    assert frame["found"] and frame["size"] == [475.0, 387.5]
    width, depth = _size(rep)  # mm; the frame is 475 x 387.5 in = 12.07 x 9.84 m
    assert width < 9000 and depth < 8000
    assert "frame floor" not in rep["layers"] or not rep["layers"]["frame floor"].get("parts")
    assert rep["sheet"]["title_block"]["fields"]["title"].startswith("Richland Pre-fab")


def test_ceco_plants_and_frame_are_not_extruded() -> None:
    rep = convert(
        _corpus("dxf", "skymakerolof-dxf__Ceco.NET-Architecture-Tm-53.dxf"), DxfOptions(preset="architecture")
    )
    sheet = rep.report["sheet"]
    assert sheet["frame"]["found"]
    assert sheet["excluded"]["plant"] >= 11 and sheet["excluded"]["furniture"] == 11  # 11 trees, 10 sofas, 1 table
    assert not rep.report["layers"]["plants"].get("parts")
    assert "Ceco.NET 53 floor" not in rep.report["layers"]


def test_pdf_sheet_frame_is_not_extruded() -> None:
    from cad3d_pdf.core import PdfOptions
    from cad3d_pdf.core import convert as convert_pdf

    pdf = convert_pdf(_corpus("pdf", "openeai-arm__JXS-04-03.pdf"), PdfOptions(), lambda *_: None)
    dxf = next(a.data for a in pdf.artifacts if a.name.endswith(".dxf"))
    rep = convert(dxf, DxfOptions(preset="mechanical")).report
    sheet = rep["sheet"]
    assert sheet["frame"]["found"] and sheet["frame"]["sheet_format"].startswith("ISO A")
    assert sheet["title_block"]["fields"]["scale"] == "1:1" and sheet["title_block"]["fields"]["unit"] == "mm"
    width, depth = _size(rep)
    assert width < 100 and depth < 150  # the part's views, not the 288 x 203 mm frame


def test_paper_space_viewports_are_not_parts() -> None:
    """A layout's viewport rectangles are windows onto the model, never parts."""
    doc = new_doc()
    _plate(doc.modelspace(), 0, 0)
    layout = doc.layouts.new("Sheet1")
    layout.add_viewport(center=(150, 100), size=(250, 180), view_center_point=(50, 30), view_height=100)
    _rect(layout, 10, 10, 290, 200)
    _rect(layout, 20, 15, 280, 195)
    _title_grid(layout, 100, 15)
    rep = report(doc, layout="Sheet1")
    assert rep["entities"]["seen"].get("VIEWPORT", 0) >= 1
    assert rep["sheet"]["frame"]["found"]
    assert rep["parts"]["count"] == 0
