"""Outputs: GLB nodes/materials/extras, binary STL, OBJ+MTL, 3D DXF read back by ezdxf."""

from __future__ import annotations

import io
import math

import ezdxf
import numpy as np
import pytest
import trimesh
from ezdxf.render import MeshBuilder
from shapely.geometry import Polygon

from cad3d_dxf.core import DxfOptions, convert
from cad3d_dxf.core.export import LayerMesh
from cad3d_dxf.core.extrusion import extrude_polygon

from .helpers import dxf_bytes, glb_scene, new_doc, square


def _two_layer_doc() -> bytes:
    doc = new_doc()
    doc.layers.add("RED", color=1)
    doc.layers.add("BLUE", true_color=ezdxf.rgb2int((0, 0, 255)))
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "RED"})
    msp.add_circle((50, 50), 10, dxfattribs={"layer": "RED"})  # a hole in the red plate
    msp.add_lwpolyline(square(200, 0, 50), close=True, dxfattribs={"layer": "BLUE"})
    return dxf_bytes(doc)


def _expected_volume(report: dict) -> float:
    return sum(p["area"] * p["height"] for p in report["parts"]["items"])


def test_glb_has_one_node_per_layer_with_colour_and_metadata() -> None:
    result = convert(_two_layer_doc(), DxfOptions(height=10))
    scene = glb_scene(result)
    assert set(scene.geometry) == {"RED", "BLUE"}
    nodes = set(scene.graph.nodes_geometry)
    assert nodes == {"RED", "BLUE"}
    red = scene.geometry["RED"].visual.material.baseColorFactor[:3].tolist()
    blue = scene.geometry["BLUE"].visual.material.baseColorFactor[:3].tolist()
    assert red == [255, 0, 0] and blue == [0, 0, 255]
    assert scene.metadata["unit"] == "mm"
    assert scene.metadata["source_unit"] == "mm"
    assert scene.metadata["generator"].startswith("cad3d-dxf/")
    for mesh in scene.geometry.values():
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    # The scene graph turns millimetres into glTF metres and Z-up into Y-up.
    dumped = scene.to_mesh()
    extents = dumped.bounds[1] - dumped.bounds[0]
    assert extents == pytest.approx([0.25, 0.01, 0.1])


def test_stl_is_binary_and_closed() -> None:
    result = convert(_two_layer_doc(), DxfOptions(format="stl", height=10))
    [artifact] = result.artifacts
    assert (artifact.name, artifact.media_type) == ("model.stl", "model/stl")
    count = int(np.frombuffer(artifact.data[80:84], dtype="<u4")[0])
    assert len(artifact.data) == 84 + 50 * count
    mesh = trimesh.load(io.BytesIO(artifact.data), file_type="stl")
    assert len(mesh.faces) == count
    assert mesh.volume == pytest.approx(_expected_volume(result.report), rel=1e-6)


def test_obj_has_groups_and_materials_per_layer() -> None:
    result = convert(_two_layer_doc(), DxfOptions(format="obj", height=10))
    artifacts = {a.name: a for a in result.artifacts}
    assert artifacts["model.obj"].media_type == "model/obj"
    assert artifacts["model.mtl"].media_type == "model/mtl"
    obj = artifacts["model.obj"].data.decode()
    mtl = artifacts["model.mtl"].data.decode()
    assert "mtllib model.mtl" in obj
    assert "usemtl RED" in obj and "usemtl BLUE" in obj
    assert "newmtl RED\nKd 1.0000 0.0000 0.0000" in mtl
    scene = trimesh.load(
        io.BytesIO(artifacts["model.obj"].data),
        file_type="obj",
        resolver=trimesh.resolvers.ZipResolver({"model.mtl": artifacts["model.mtl"].data}),
        group_material=False,
    )
    total = sum(m.volume for m in scene.geometry.values())
    assert total == pytest.approx(_expected_volume(result.report), rel=1e-6)


def test_dxf_output_is_read_back_by_ezdxf_as_closed_meshes() -> None:
    result = convert(_two_layer_doc(), DxfOptions(format="dxf", height=10))
    [artifact] = result.artifacts
    assert (artifact.name, artifact.media_type) == ("model.dxf", "image/vnd.dxf")
    doc = ezdxf.read(io.StringIO(artifact.data.decode()))
    meshes = [e for e in doc.modelspace() if e.dxftype() == "POLYLINE" and e.is_poly_face_mesh]
    assert {m.dxf.layer for m in meshes} == {"RED", "BLUE"}
    volume = 0.0
    for polyface in meshes:
        builder = MeshBuilder.from_polyface(polyface)
        mesh = trimesh.Trimesh(vertices=np.asarray(builder.vertices), faces=np.asarray(builder.faces))
        assert mesh.is_watertight
        volume += mesh.volume
    assert volume == pytest.approx(_expected_volume(result.report), rel=1e-6)
    assert doc.header["$INSUNITS"] == 4


def test_dxf_output_splits_meshes_over_the_polyface_vertex_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from cad3d_dxf.core import export

    # POLYFACE vertex indices are 16-bit signed; the real limit is exercised with a small one.
    assert export._POLYFACE_MAX_VERTICES <= 32767
    monkeypatch.setattr(export, "_POLYFACE_MAX_VERTICES", 300)
    doc = new_doc()
    angles = np.linspace(0, 2 * math.pi, 500, endpoint=False)
    ring = np.column_stack([1e3 * np.cos(angles), 1e3 * np.sin(angles)])
    doc.modelspace().add_lwpolyline(ring.tolist(), close=True)
    result = convert(dxf_bytes(doc), DxfOptions(format="dxf", height=10))
    read_back = ezdxf.read(io.StringIO(result.artifacts[0].data.decode()))
    polyfaces = [e for e in read_back.modelspace() if e.dxftype() == "POLYLINE"]
    assert len(polyfaces) > 3
    builders = [MeshBuilder.from_polyface(p) for p in polyfaces]
    assert all(len(b.vertices) <= 300 for b in builders)
    assert sum(len(b.faces) for b in builders) == 2 * (500 - 2) + 2 * 500
    merged = trimesh.util.concatenate(
        [trimesh.Trimesh(np.asarray(b.vertices), np.asarray(b.faces), process=False) for b in builders]
    )
    merged.merge_vertices()
    assert merged.is_watertight
    assert merged.volume == pytest.approx(result.report["total_volume"], rel=1e-9)


def test_report_is_plain_json() -> None:
    import json

    result = convert(_two_layer_doc(), DxfOptions(height=10))

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return type(value) in (str, int, float, bool)

    assert plain(result.report)
    json.dumps(result.report)
    for key in ("entities", "regions", "healing", "layers", "parts", "total_volume", "bbox", "units", "audit"):
        assert key in result.report


def _layers() -> list[LayerMesh]:
    plate = extrude_polygon(Polygon(square(0, 0, 100), [square(40, 40, 20)]), 0.0, 10.0)
    block = extrude_polygon(Polygon(square(200, 0, 50)), 5.0, 20.0)
    block.faces = block.faces.astype(np.int32)  # finished meshes carry 32-bit indices
    return [LayerMesh("RED", plate, (255, 0, 0)), LayerMesh("Стены", block, None)]


def test_glb_writer_gives_trimesh_export_glb_bytes() -> None:
    from cad3d_dxf.core import export

    metadata = {"generator": "test", "unit": "mm", "offset": [1.0, 2.0, 0.0]}
    layers = _layers()
    expected = export._scene(list(layers), metadata, "mm").export(file_type="glb")
    written = export.to_glb(layers, metadata, "mm")
    assert written == expected
    assert layers == []  # the writer took the meshes over and dropped them


@pytest.mark.parametrize("fmt", ["glb", "stl", "obj", "dxf"])
def test_every_writer_empties_its_layer_list_and_writes_every_face(fmt: str) -> None:
    from cad3d_dxf.core import export

    layers = _layers()
    faces = sum(len(layer.mesh.faces) for layer in layers)
    artifacts = export.export(fmt, layers, {"unit": "mm"}, "mm")
    assert layers == []
    data = artifacts[0].data
    if fmt == "stl":
        assert int(np.frombuffer(data[80:84], dtype="<u4")[0]) == faces
    elif fmt == "obj":
        assert data.count(b"\nf ") == faces and "o Стены".encode() in data
    elif fmt == "dxf":
        doc = ezdxf.read(io.StringIO(data.decode()))
        assert sum(len(MeshBuilder.from_polyface(p).faces) for p in doc.modelspace().query("POLYLINE")) == faces
    else:
        assert sum(len(g.faces) for g in trimesh.load(io.BytesIO(data), file_type="glb").geometry.values()) == faces
