"""Entity colours: GLB primitives per colour within a layer's node, OBJ usemtl runs, DXF polyface colours."""

from __future__ import annotations

import io
import json
import re
import struct
from collections import Counter
from typing import Any

import ezdxf
import numpy as np
import trimesh
from ezdxf.render import MeshBuilder

from cad3d_dxf.core.colours import ColourRun, order_by_colour
from cad3d_dxf.core.export import LayerMesh, to_glb
from cad3d_dxf.core.extrusion import MeshArrays, extrude_polygon
from cad3d_kit.conversion import ConversionResult

from .helpers import new_doc, run, square

RED, GREEN, BLUE, CYAN, MAGENTA = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 255, 255), (255, 0, 255)
# One extruded square: 8 corners, 12 triangles.
SQUARE_VERTICES, SQUARE_FACES = 8, 12


def _glb_json(data: bytes) -> tuple[dict[str, Any], bytes]:
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON"
    tree = json.loads(data[20 : 20 + json_length])
    bin_length, bin_type = struct.unpack_from("<I4s", data, 20 + json_length)
    assert bin_type == b"BIN\x00"
    return tree, data[28 + json_length : 28 + json_length + bin_length]


def _artifact(result: ConversionResult, name: str) -> bytes:
    [data] = [a.data for a in result.artifacts if a.name == name]
    return data


def _layer_primitives(tree: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    """The primitives of the one node named ``layer``, each with its material and counts."""
    [node] = [n for n in tree["nodes"] if n.get("name") == layer]
    rows = []
    for primitive in tree["meshes"][node["mesh"]]["primitives"]:
        material = tree["materials"][primitive["material"]]
        rows.append(
            {
                "name": material["name"],
                "rgb": tuple(round(c * 255) for c in material["pbrMetallicRoughness"]["baseColorFactor"][:3]),
                "faces": tree["accessors"][primitive["indices"]]["count"] // 3,
                "vertices": tree["accessors"][primitive["attributes"]["POSITION"]]["count"],
            }
        )
    return rows


def _three_colour_doc(layer_color: int) -> ezdxf.document.Drawing:
    """Layer PARTS: a red (ACI 1), a blue (ACI 5) and a BYLAYER square."""
    doc = new_doc()
    doc.layers.add("PARTS", color=layer_color)
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PARTS", "color": 1})
    msp.add_lwpolyline(square(200, 0, 100), close=True, dxfattribs={"layer": "PARTS", "color": 5})
    msp.add_lwpolyline(square(400, 0, 100), close=True, dxfattribs={"layer": "PARTS"})  # BYLAYER
    return doc


def test_glb_layer_node_has_one_primitive_per_entity_colour() -> None:
    result = run(_three_colour_doc(layer_color=3), height=10)
    tree, _ = _glb_json(_artifact(result, "model.glb"))
    assert [n["name"] for n in tree["nodes"] if "mesh" in n] == ["PARTS"]
    assert len(tree["meshes"]) == 1
    rows = _layer_primitives(tree, "PARTS")
    assert [(r["name"], r["rgb"]) for r in rows] == [
        ("PARTS #ff0000", RED),
        ("PARTS #0000ff", BLUE),
        ("PARTS #00ff00", GREEN),
    ]
    assert [(r["faces"], r["vertices"]) for r in rows] == [(SQUARE_FACES, SQUARE_VERTICES)] * 3
    # Read back by trimesh: one geometry per primitive, all faces accounted for, each solid closed.
    scene = trimesh.load(io.BytesIO(_artifact(result, "model.glb")), file_type="glb")
    assert sum(len(g.faces) for g in scene.geometry.values()) == 3 * SQUARE_FACES
    assert all(g.is_watertight for g in scene.geometry.values())
    colours = {tuple(g.visual.material.baseColorFactor[:3].tolist()) for g in scene.geometry.values()}
    assert colours == {RED, BLUE, GREEN}
    assert result.report["layers"]["PARTS"]["colors"] == ["#ff0000", "#0000ff", "#00ff00"]


def test_bylayer_in_the_colour_of_another_entity_shares_its_primitive() -> None:
    result = run(_three_colour_doc(layer_color=1), height=10)  # the layer itself is red
    tree, _ = _glb_json(_artifact(result, "model.glb"))
    rows = _layer_primitives(tree, "PARTS")
    assert [(r["rgb"], r["faces"], r["vertices"]) for r in rows] == [
        (RED, 2 * SQUARE_FACES, 2 * SQUARE_VERTICES),
        (BLUE, SQUARE_FACES, SQUARE_VERTICES),
    ]


def test_single_colour_layer_keeps_one_primitive_named_after_the_layer() -> None:
    doc = new_doc()
    doc.layers.add("PLAIN", color=5)
    msp = doc.modelspace()
    for x in (0, 200):
        msp.add_lwpolyline(square(x, 0, 100), close=True, dxfattribs={"layer": "PLAIN"})
    tree, _ = _glb_json(_artifact(run(doc, height=10), "model.glb"))
    assert [(r["name"], r["rgb"], r["faces"]) for r in _layer_primitives(tree, "PLAIN")] == [
        ("PLAIN", BLUE, 2 * SQUARE_FACES)
    ]


def test_true_colour_wins_over_aci() -> None:
    doc = new_doc()
    doc.layers.add("TC", color=3)
    msp = doc.modelspace()
    msp.add_lwpolyline(
        square(0, 0, 100),
        close=True,
        dxfattribs={"layer": "TC", "color": 1, "true_color": ezdxf.rgb2int((10, 20, 30))},
    )
    tree, _ = _glb_json(_artifact(run(doc, height=10), "model.glb"))
    assert [r["rgb"] for r in _layer_primitives(tree, "TC")] == [(10, 20, 30)]


def test_byblock_takes_the_insert_colour_through_nested_blocks() -> None:
    doc = new_doc()
    doc.layers.add("B", color=3)
    inner = doc.blocks.new("INNER")
    inner.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"color": 0})  # BYBLOCK
    outer = doc.blocks.new("OUTER")
    outer.add_blockref("INNER", (0, 0), dxfattribs={"color": 0})  # BYBLOCK as well: passed on
    outer.add_lwpolyline(square(300, 0, 100), close=True, dxfattribs={"color": 1})  # own colour
    msp = doc.modelspace()
    msp.add_blockref("INNER", (0, 1000), dxfattribs={"layer": "B", "color": 4})
    msp.add_blockref("OUTER", (0, 2000), dxfattribs={"layer": "B", "color": 6})
    msp.add_blockref("INNER", (0, 3000), dxfattribs={"layer": "B"})  # BYLAYER insert: the layer's
    tree, _ = _glb_json(_artifact(run(doc, height=10), "model.glb"))
    rows = _layer_primitives(tree, "B")
    assert Counter({r["rgb"]: r["faces"] // SQUARE_FACES for r in rows}) == Counter(
        {CYAN: 1, MAGENTA: 1, RED: 1, GREEN: 1}
    )


def test_rule_colour_overrides_entity_colours() -> None:
    rules = json.dumps({"layers": [{"match": "PARTS", "color": "#123456"}]})
    result = run(_three_colour_doc(layer_color=3), height=10, rules_json=rules)
    tree, _ = _glb_json(_artifact(result, "model.glb"))
    assert [(r["name"], r["rgb"], r["faces"]) for r in _layer_primitives(tree, "PARTS")] == [
        ("PARTS", (0x12, 0x34, 0x56), 3 * SQUARE_FACES)
    ]
    assert result.report["layers"]["PARTS"]["colors"] == ["#123456"]


def test_overlapping_outlines_merge_into_the_colour_of_the_larger() -> None:
    doc = new_doc()
    doc.layers.add("M", color=3)
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "M", "color": 5})
    msp.add_lwpolyline(square(90, 0, 20), close=True, dxfattribs={"layer": "M", "color": 1})
    result = run(doc, height=10)
    assert result.report["parts"]["count"] == 1
    assert result.report["layers"]["M"]["colors"] == ["#0000ff"]


def test_passed_through_meshes_keep_their_entity_colour() -> None:
    doc = new_doc()
    doc.layers.add("FACES", color=3)
    msp = doc.modelspace()
    msp.add_3dface([(0, 0, 0), (100, 0, 0), (100, 100, 10), (0, 100, 10)], dxfattribs={"layer": "FACES", "color": 1})
    msp.add_3dface([(200, 0, 0), (300, 0, 0), (300, 100, 10)], dxfattribs={"layer": "FACES"})
    tree, _ = _glb_json(_artifact(run(doc, height=10), "model.glb"))
    assert [(r["rgb"], r["faces"]) for r in _layer_primitives(tree, "FACES")] == [(RED, 2), (GREEN, 1)]


def test_obj_has_one_usemtl_per_colour_within_the_layer_group() -> None:
    result = run(_three_colour_doc(layer_color=3), height=10, format="obj")
    obj = _artifact(result, "model.obj").decode()
    mtl = _artifact(result, "model.mtl").decode()
    assert obj.count("\no PARTS\n") == 1 and obj.count("\ng PARTS\n") == 1
    runs = re.findall(r"usemtl (\S+)\n((?:f .*\n)*)", obj)
    assert [(name, body.count("f ")) for name, body in runs] == [
        ("PARTS_ff0000", SQUARE_FACES),
        ("PARTS_0000ff", SQUARE_FACES),
        ("PARTS_00ff00", SQUARE_FACES),
    ]
    assert "newmtl PARTS_ff0000\nKd 1.0000 0.0000 0.0000" in mtl
    assert "newmtl PARTS_0000ff\nKd 0.0000 0.0000 1.0000" in mtl
    assert "newmtl PARTS_00ff00\nKd 0.0000 1.0000 0.0000" in mtl
    loaded = trimesh.load(
        io.BytesIO(_artifact(result, "model.obj")),
        file_type="obj",
        resolver=trimesh.resolvers.ZipResolver({"model.mtl": mtl.encode()}),
        process=False,
    )
    colours = {tuple(g.visual.material.main_color[:3].tolist()): len(g.faces) for g in loaded.geometry.values()}
    assert colours == {RED: SQUARE_FACES, BLUE: SQUARE_FACES, GREEN: SQUARE_FACES}


def test_dxf_polyfaces_carry_their_colour() -> None:
    result = run(_three_colour_doc(layer_color=3), height=10, format="dxf")
    doc = ezdxf.read(io.StringIO(_artifact(result, "model.dxf").decode()))
    faces_by_colour: Counter[tuple[int, int, int]] = Counter()
    for polyface in doc.modelspace().query("POLYLINE"):
        assert polyface.dxf.layer == "PARTS"
        rgb = polyface.rgb
        assert rgb is not None
        # True colour for R2004+ readers, the matching ACI for R2000 ones.
        assert polyface.dxf.color == {RED: 1, BLUE: 5, GREEN: 3}[tuple(rgb)]
        faces_by_colour[tuple(rgb)] += len(MeshBuilder.from_polyface(polyface).faces)
    assert faces_by_colour == Counter({RED: SQUARE_FACES, BLUE: SQUARE_FACES, GREEN: SQUARE_FACES})
    # The layer's colour as before: its most common entity colour (a tie: the first drawn, red).
    assert doc.layers.get("PARTS").dxf.color == 1


def _box(x: float) -> MeshArrays:
    from shapely.geometry import Polygon

    mesh = extrude_polygon(Polygon(square(x, 0, 10)), 0.0, 5.0)
    return MeshArrays(mesh.vertices, mesh.faces.astype(np.int32))


def test_glb_writer_splits_runs_without_changing_the_geometry() -> None:
    pieces = [(RED, _box(0)), (BLUE, _box(20)), (RED, _box(40))]
    expected = MeshArrays.concatenate([_box(0), _box(40), _box(20)])  # reds first, in their order
    ordered, runs = order_by_colour(pieces)
    assert runs == [
        ColourRun(RED, 2 * SQUARE_FACES, 2 * SQUARE_VERTICES),
        ColourRun(BLUE, SQUARE_FACES, SQUARE_VERTICES),
    ]
    mesh = MeshArrays.concatenate(ordered, consume=True)
    data = to_glb([LayerMesh("L", mesh, RED, runs)], {"unit": "mm"}, "mm")
    tree, blob = _glb_json(data)
    [primitive_red, primitive_blue] = tree["meshes"][0]["primitives"]
    corners = []
    for primitive in (primitive_red, primitive_blue):
        position = tree["accessors"][primitive["attributes"]["POSITION"]]
        indices = tree["accessors"][primitive["indices"]]
        view_v, view_i = tree["bufferViews"][position["bufferView"]], tree["bufferViews"][indices["bufferView"]]
        vertices = np.frombuffer(blob, "<f4", position["count"] * 3, view_v.get("byteOffset", 0)).reshape(-1, 3)
        faces = np.frombuffer(blob, "<u4", indices["count"], view_i.get("byteOffset", 0)).reshape(-1, 3)
        corners.append(vertices[faces])
    np.testing.assert_allclose(np.concatenate(corners), expected.vertices[expected.faces].astype(np.float32))


def test_architecture_walls_keep_their_outline_colour_and_floors_stay_grey() -> None:
    doc = new_doc()
    doc.layers.add("A-WALL", color=3)
    msp = doc.modelspace()
    # A wall ring 200 thick around a 3000 x 3000 room, drawn red: one thin region, one room.
    msp.add_lwpolyline(square(0, 0, 3400), close=True, dxfattribs={"layer": "A-WALL", "color": 1})
    msp.add_lwpolyline(square(200, 200, 3000), close=True, dxfattribs={"layer": "A-WALL", "color": 1})
    # Three separate blue wall pieces elsewhere: walls of one layer are unioned together, yet
    # each wall keeps its own colour (blue is the layer's most common colour: 3 to 2).
    for x in (5000, 6000, 7000):
        msp.add_lwpolyline(square(x, 0, 200), close=True, dxfattribs={"layer": "A-WALL", "color": 5})
    result = run(doc, preset="architecture")
    layers = result.report["layers"]
    assert sorted(layers["A-WALL"]["colors"]) == ["#0000ff", "#ff0000"]
    [room] = result.report["plan"]["rooms"]  # unlabelled: "room 1", its slab its own node
    assert layers[f"{room['name']} floor"]["colors"] == ["#c8c8c8"]
    tree, _ = _glb_json(_artifact(result, "model.glb"))
    faces = {r["name"]: r["faces"] for r in _layer_primitives(tree, "A-WALL")}
    assert faces.keys() == {"A-WALL #0000ff", "A-WALL #ff0000"}
    assert faces["A-WALL #0000ff"] == 3 * SQUARE_FACES
