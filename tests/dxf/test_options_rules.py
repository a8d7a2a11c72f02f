"""Options validation, per-layer rules JSON and presets (English, Persian and Russian layer names)."""

from __future__ import annotations

import json

import pytest

from cad3d_dxf.core import DxfOptions
from cad3d_dxf.core.rules import layer_category
from cad3d_kit.conversion import ConversionError

from .helpers import glb_scene, new_doc, report, run, square


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "step"},
        {"height": -1.0},
        {"height": float("nan")},
        {"preset": "spaceship"},
        {"output_unit": "furlong"},
        {"rules_json": "{not json"},
        {"rules_json": json.dumps({"layers": [{"height": 3}]})},  # no match
        {"rules_json": json.dumps({"layers": [{"match": "A", "height": 0}]})},
        {"rules_json": json.dumps({"layers": [{"match": "A", "color": "red"}]})},
        {"rules_json": json.dumps({"layers": [{"match": "A", "bogus": 1}]})},
        {"rules_json": json.dumps({"default": {"height": "tall"}})},
        {"rules_json": json.dumps(42)},
    ],
)
def test_invalid_options_are_rejected_with_invalid_options(kwargs: dict) -> None:
    with pytest.raises(ConversionError) as caught:
        DxfOptions(**kwargs)
    assert caught.value.code == "invalid_options"


def test_from_mapping_treats_empty_and_zero_as_defaults_and_rejects_unknown_keys() -> None:
    options = DxfOptions.from_mapping(
        {"format": "STL", "height": 0, "preset": "", "rules_json": "", "layout": "", "output_unit": ""}
    )
    assert options == DxfOptions(format="stl")
    assert DxfOptions.from_mapping({"height": 2500}).height == 2500.0
    for bad in ({"colour": "red"}, {"height": "3000"}, {"format": 3}, {"height": True}):
        with pytest.raises(ConversionError) as caught:
            DxfOptions.from_mapping(bad)
        assert caught.value.code == "invalid_options"


def test_rules_set_height_base_colour_and_exclude_per_layer() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    for index, layer in enumerate(("WALL-EXT", "WALL-INT", "DIM", "SLAB")):
        msp.add_lwpolyline(square(index * 100, 0, 10), close=True, dxfattribs={"layer": layer})
    rules = {
        "default": {"height": 500},
        "layers": [
            {"match": "wall-*", "height": 3000, "color": "#ff8800"},
            {"match": "DIM", "include": False},
            {"match": "SLAB", "height": 200, "base": -200, "color": [10, 20, 30]},
        ],
    }
    result = run(doc, rules_json=json.dumps(rules))
    items = {p["layer"]: p for p in result.report["parts"]["items"]}
    assert set(items) == {"WALL-EXT", "WALL-INT", "SLAB"}
    assert (items["WALL-EXT"]["height"], items["WALL-INT"]["height"]) == (3000, 3000)
    assert (items["SLAB"]["base"], items["SLAB"]["height"]) == (-200, 200)
    assert result.report["layers"]["DIM"]["included"] is False
    scene = glb_scene(result)
    assert scene.geometry["WALL-EXT"].visual.material.baseColorFactor[:3].tolist() == [255, 136, 0]
    assert scene.geometry["SLAB"].visual.material.baseColorFactor[:3].tolist() == [10, 20, 30]


def test_option_height_is_the_default_and_user_rules_beat_entity_thickness() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_circle((0, 0), 5, dxfattribs={"layer": "PLAIN"})
    msp.add_circle((100, 0), 5, dxfattribs={"layer": "THICK", "thickness": 40})
    msp.add_circle((200, 0), 5, dxfattribs={"layer": "RULED", "thickness": 40})
    rules = json.dumps([{"match": "RULED", "height": 7}])
    items = {p["layer"]: p for p in report(doc, height=123, rules_json=rules)["parts"]["items"]}
    assert items["PLAIN"]["height"] == 123
    assert items["THICK"]["height"] == 40
    assert items["RULED"]["height"] == 7


@pytest.mark.parametrize(
    ("layer", "category"),
    [
        ("A-WALL", "wall"),
        ("Walls_External", "wall"),
        ("Стены", "wall"),
        ("стена наружная", "wall"),
        ("دیوار", "wall"),
        ("ديوار-بیرونی", "wall"),  # Arabic yeh, as many Persian files are typed
        ("A-DOOR", "door"),
        ("Двери", "door"),
        ("در", "door"),
        ("درب ورودی", "door"),
        ("Windows", "window"),
        ("Окна", "window"),
        ("پنجره", "window"),
        ("S-COLS", "column"),
        ("Колонны", "column"),
        ("ستون", "column"),
        ("Floor Slab", "slab"),
        ("Плиты перекрытия", "slab"),
        ("کف", "slab"),
        ("A-ANNO-DIMS", "ignore"),
        ("Размеры", "ignore"),
        ("متن", "ignore"),
        ("Defpoints", "ignore"),
        ("Layer 7", ""),
        ("درجه", ""),  # starts like "در" (door) but is another word
        ("Полилиния", ""),  # starts like "пол" (floor) but is another word
    ],
)
def test_preset_layer_categories_in_three_languages(layer: str, category: str) -> None:
    assert layer_category(layer) == category


def test_architecture_preset_heights_and_ignored_layers() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    layers = ("Стены", "پنجره", "A-DOOR", "Размеры", "Furniture")
    for index, layer in enumerate(layers):
        msp.add_lwpolyline(square(index * 1000, 0, 100), close=True, dxfattribs={"layer": layer})
    # plan="plain": each layer extruded by its preset category, no wall/opening inference.
    rep = report(doc, preset="architecture", plan="plain")
    items = {p["layer"]: p for p in rep["parts"]["items"]}
    assert (items["Стены"]["base"], items["Стены"]["height"]) == (0, 3000)
    assert (items["پنجره"]["base"], items["پنجره"]["height"]) == (900, 1200)
    assert items["A-DOOR"]["height"] == 2100
    assert "Размеры" not in items and "Furniture" not in items
    assert rep["layers"]["Размеры"]["included"] is False
    # With plan inference, door and window shapes are evidence of openings, never solids that
    # would block a doorway: they are counted, not extruded.
    planned = report(doc, preset="architecture")
    layers_built = {p["layer"] for p in planned["parts"]["items"]}
    assert "پنجره" not in layers_built and "A-DOOR" not in layers_built
    assert sum(planned["plan"]["not_walls"]["dropped"].values()) >= 2


def test_mechanical_preset_makes_plates_of_default_thickness() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "CONTOUR"})
    msp.add_circle((50, 50), 5, dxfattribs={"layer": "CONTOUR"})
    msp.add_line((0, 50), (100, 50), dxfattribs={"layer": "CENTER"})
    [part] = report(doc, preset="mechanical")["parts"]["items"]
    assert (part["height"], part["holes"], part["role"]) == (10, 1, "plate")


def test_architecture_plan_of_loose_lines_gets_walls_and_room_slabs() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # Two rooms (4 m x 3 m inside) with 200 mm walls, all drawn as loose lines on "Walls".
    outer = [(0, 0), (8600, 0), (8600, 3400), (0, 3400)]
    rooms = [
        [(200, 200), (4200, 200), (4200, 3200), (200, 3200)],
        [(4400, 200), (8400, 200), (8400, 3200), (4400, 3200)],
    ]
    for ring in [outer, *rooms]:
        for start, end in zip(ring, ring[1:] + ring[:1], strict=True):
            msp.add_line(start, end, dxfattribs={"layer": "Walls"})
    rep = report(doc, preset="architecture")
    assert rep["regions"]["rooms"] == 2
    walls = [p for p in rep["parts"]["items"] if p["layer"] == "Walls"]
    slabs = [p for p in rep["parts"]["items"] if p["role"] == "slab"]
    assert len(walls) == 1 and walls[0]["height"] == 3000 and walls[0]["holes"] == 2
    assert walls[0]["area"] == pytest.approx(8600 * 3400 - 2 * 4000 * 3000)
    assert len(slabs) == 2
    assert all((s["base"], s["height"]) == (-200, 200) for s in slabs)
    assert sum(s["area"] for s in slabs) == pytest.approx(2 * 4000 * 3000)


def test_architecture_walls_from_parallel_lines_left_open_at_a_door() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    # A 200 mm wall drawn as two parallel lines, interrupted by a 900 mm door opening, ends open.
    for y in (0, 200):
        msp.add_line((0, y), (2000, y), dxfattribs={"layer": "A-WALL"})
        msp.add_line((2900, y), (5000, y), dxfattribs={"layer": "A-WALL"})
    rep = report(doc, preset="architecture")
    walls = [p for p in rep["parts"]["items"] if p["layer"] == "A-WALL"]
    assert len(walls) == 2
    assert sorted(w["area"] for w in walls) == pytest.approx([2000 * 200, 2100 * 200])
    assert all((w["base"], w["height"], w["role"]) == (0, 3000, "wall") for w in walls)
    assert rep["parts"]["all_watertight"]
