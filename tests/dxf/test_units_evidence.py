"""Units checked against the drawing: dimension texts, notes, title block and plausible sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cad3d_dxf.core import DxfOptions, inspect
from cad3d_dxf.core.entities import Collected
from cad3d_dxf.core.sense.decisions import SheetDecision
from cad3d_dxf.core.sense.units import decide_units
from cad3d_dxf.core.sense.units_text import displayed_length, unit_named_in

from .helpers import new_doc, report

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24'-7 1/2\"", (295.5, "in")),
        ("3'-0\"", (36.0, "in")),
        ("16'", (192.0, "in")),
        ("0'-5 1/4\"", (5.25, "in")),
        ('30"', (30.0, "in")),
        ("12.5", (12.5, "")),
        ("1,250", (1.25, "")),
        ("1200 mm", (1200.0, "mm")),
        ("Ø8", (8.0, "")),
        ("%%c10", (10.0, "")),
        ("R5", (5.0, "")),
        ("2x M6", (6.0, "")),
    ],
)
def test_displayed_lengths(text: str, expected: tuple[float, str]) -> None:
    found = displayed_length(text)
    assert found is not None
    assert (pytest.approx(found[0]), found[1]) == expected


@pytest.mark.parametrize("text", ["108°", "45\\U+00B0", "±0.1", "SEE NOTE", ""])
def test_what_is_not_one_length(text: str) -> None:
    assert displayed_length(text) is None


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("UNIT: mm", "mm"),
        ("ALL DIMENSIONS IN INCHES", "in"),
        ("毫米", "mm"),
        ("in", "in"),
        ("DIMENSIONS IN METRES", "m"),
    ],
)
def test_unit_names(text: str, unit: str) -> None:
    assert unit_named_in(text) == unit


def _house_in_inches(insunits: int) -> object:
    """A 40 ft x 30 ft house drawn in inches, with feet-inch dimensions, whatever $INSUNITS says."""
    doc = new_doc(units=insunits)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (480, 0), (480, 360), (0, 360)], close=True, dxfattribs={"layer": "A-WALL"})
    msp.add_lwpolyline([(6, 6), (474, 6), (474, 354), (6, 354)], close=True, dxfattribs={"layer": "A-WALL"})
    style = doc.dimstyles.get("Standard")
    style.dxf.dimlunit = 4  # architectural: feet and inches
    # ezdxf renders decimals whatever the format: the texts are written as a US drafter shows them.
    for start, end, base, shown in (
        ((0, 0), (480, 0), (0, -30), "40'-0\""),
        ((0, 0), (0, 360), (-30, 0), "30'-0\""),
        ((6, 6), (474, 6), (0, 40), "39'-0\""),
    ):
        angle = 90 if start[0] == end[0] else 0
        dim = msp.add_linear_dim(base=base, p1=start, p2=end, angle=angle, text=shown, dxfattribs={"layer": "DIM"})
        dim.render()
    return doc


def test_a_house_drawn_in_inches_but_saved_as_millimetres_is_read_in_inches() -> None:
    rep = report(_house_in_inches(4), preset="architecture", output_unit="m")  # type: ignore[arg-type]
    units = rep["units"]
    assert (units["declared"], units["used"], units["source"]) == ("mm", "in", "evidence")
    assert units["confidence"] > 0.5
    assert any(e["kind"] == "dimension_text" and e["suggests"] == "in" for e in units["evidence"])
    width = rep["bbox"]["max"][0] - rep["bbox"]["min"][0]
    assert width == pytest.approx(480 * 0.0254, rel=1e-6)  # 12.19 m, not 0.48 m
    assert "units_overridden" in {w["code"] for w in rep["warnings"]}


def test_declared_keeps_the_header_unit_and_still_lists_the_evidence() -> None:
    rep = report(_house_in_inches(4), preset="architecture", input_unit="declared")  # type: ignore[arg-type]
    units = rep["units"]
    assert (units["used"], units["source"]) == ("mm", "declared")
    assert any(e["suggests"] == "in" for e in units["evidence"])
    assert "units_overridden" not in {w["code"] for w in rep["warnings"]}


def test_an_explicit_input_unit_wins() -> None:
    rep = report(_house_in_inches(4), preset="architecture", input_unit="cm", output_unit="m")  # type: ignore[arg-type]
    assert (rep["units"]["used"], rep["units"]["source"]) == ("cm", "option")
    assert rep["bbox"]["max"][0] - rep["bbox"]["min"][0] == pytest.approx(4.80)


def test_a_correct_millimetre_plate_keeps_its_unit() -> None:
    doc = new_doc(units=4)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (120, 0), (120, 80), (0, 80)], close=True)
    msp.add_circle((60, 40), 10)
    msp.add_linear_dim(base=(0, -15), p1=(0, 0), p2=(120, 0), dxfattribs={"layer": "DIM"}).render()
    rep = report(doc, preset="mechanical")
    assert (rep["units"]["used"], rep["units"]["source"]) == ("mm", "declared")
    assert rep["bbox"]["max"][0] - rep["bbox"]["min"][0] == pytest.approx(120)


def test_a_unitless_drawing_takes_the_unit_its_notes_state() -> None:
    doc = new_doc(units=0)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (5, 0), (5, 3), (0, 3)], close=True)
    msp.add_text("ALL DIMENSIONS IN INCHES", dxfattribs={"insert": (0, -1), "height": 0.2})
    rep = report(doc, height=1, output_unit="mm")
    assert (rep["units"]["used"], rep["units"]["source"]) == ("in", "evidence")
    assert rep["bbox"]["max"][0] == pytest.approx(5 * 25.4)
    plain = new_doc(units=0)
    plain.modelspace().add_lwpolyline([(0, 0), (5, 0), (5, 3), (0, 3)], close=True)
    assert report(plain, height=1)["units"]["source"] == "default"


def test_the_title_block_unit_field_is_evidence() -> None:
    sheet = SheetDecision(title_block={"bbox": [0, 0, 1, 1], "evidence": "test", "fields": {"unit": "毫米"}})
    decided = decide_units(Collected(), 0, {}, DxfOptions(preset="mechanical"), sheet)
    assert (decided.used, decided.source) == ("mm", "evidence")
    assert decided.evidence[0]["kind"] == "title_block"


@pytest.mark.parametrize(
    ("name", "preset", "used", "size_m"),
    [
        ("skymakerolof-dxf__floorplan.dxf", "architecture", "in", (10, 40)),
        ("richland__House_Plan-01.dxf", "architecture", "in", (5, 20)),
        ("skymakerolof-dxf__Ceco.NET-Architecture-Tm-53.dxf", "architecture", "m", (10, 60)),
        # Unitless, 284 x 210 units: a mechanical part is taken to be in millimetres, not metres.
        ("skymakerolof-dxf__issue42.dxf", "mechanical", "mm", (0.05, 0.5)),
    ],
)
def test_corpus_units(name: str, preset: str, used: str, size_m: tuple[float, float]) -> None:
    path = CORPUS / "dxf" / name
    if not path.exists():
        pytest.skip(f"corpus file {path} not found")
    rep = inspect(path.read_bytes(), DxfOptions(preset=preset, output_unit="m")).report
    assert rep["units"]["used"] == used
    size = max(rep["bbox"]["max"][i] - rep["bbox"]["min"][i] for i in (0, 1))
    assert size_m[0] <= size <= size_m[1]


def test_a_file_without_a_header_section_is_unitless_not_ezdxfs_default() -> None:
    body = "0\nSECTION\n2\nENTITIES\n" + "".join(
        f"0\nLINE\n8\n0\n10\n{x0}\n20\n{y0}\n11\n{x1}\n21\n{y1}\n"
        for x0, y0, x1, y1 in ((0, 0, 40, 0), (40, 0, 40, 40), (40, 40, 0, 40), (0, 40, 0, 0))
    )
    data = (body + "0\nENDSEC\n0\nEOF\n").encode()
    rep = inspect(data, DxfOptions(height=5)).report
    assert (rep["units"]["declared"], rep["units"]["used"]) == ("unitless", "unitless")
    assert rep["bbox"]["max"][0] == pytest.approx(40)  # taken to be in the output unit, mm
