"""Write the per-layer meshes as GLB, binary STL, OBJ+MTL or a 3D DXF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import ezdxf
import numpy as np
import trimesh

from cad3d_kit.conversion import OutputArtifact

from .extrusion import MeshArrays
from .units import OUTPUT_UNITS

RGB = tuple[int, int, int]
DEFAULT_RGB: RGB = (200, 200, 200)
# A POLYFACE indexes vertices with 16-bit signed group codes: split larger meshes.
_POLYFACE_MAX_VERTICES = 32000
# Z-up CAD coordinates -> glTF's Y-up: rotate -90 degrees about X.
_Z_UP_TO_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)


@dataclass
class LayerMesh:
    name: str
    mesh: MeshArrays
    color: RGB | None


def export(format_: str, layers: list[LayerMesh], metadata: dict[str, Any], unit: str) -> list[OutputArtifact]:
    layers = [layer for layer in layers if len(layer.mesh.faces)]
    if format_ == "glb":
        return [OutputArtifact("model.glb", "model/gltf-binary", to_glb(layers, metadata, unit))]
    if format_ == "stl":
        return [OutputArtifact("model.stl", "model/stl", to_stl(layers))]
    if format_ == "obj":
        obj, mtl = to_obj(layers, metadata)
        return [OutputArtifact("model.obj", "model/obj", obj), OutputArtifact("model.mtl", "model/mtl", mtl)]
    if format_ == "dxf":
        return [OutputArtifact("model.dxf", "image/vnd.dxf", to_dxf(layers, unit))]
    raise ValueError(f"unknown format {format_!r}")


def to_glb(layers: list[LayerMesh], metadata: dict[str, Any], unit: str) -> bytes:
    """One node per layer; a root node converts output units to glTF metres and Z-up to Y-up."""
    scene = trimesh.Scene()
    scene.metadata.update(metadata)
    root = "drawing"
    scale = np.diag([OUTPUT_UNITS[unit]] * 3 + [1.0])
    scene.graph.update(frame_to=root, frame_from=scene.graph.base_frame, matrix=_Z_UP_TO_Y_UP @ scale)
    for layer in layers:
        rgb = layer.color or DEFAULT_RGB
        material = trimesh.visual.material.PBRMaterial(
            name=layer.name, baseColorFactor=[*rgb, 255], metallicFactor=0.0, roughnessFactor=0.8, doubleSided=False
        )
        mesh = trimesh.Trimesh(
            vertices=layer.mesh.vertices,
            faces=layer.mesh.faces,
            process=False,
            visual=trimesh.visual.TextureVisuals(material=material),
        )
        mesh.metadata = {"layer": layer.name, "unit": unit}
        scene.add_geometry(mesh, node_name=layer.name, geom_name=layer.name, parent_node_name=root)
    return bytes(scene.export(file_type="glb"))


def to_stl(layers: list[LayerMesh]) -> bytes:
    mesh = MeshArrays.concatenate([layer.mesh for layer in layers])
    triangles = mesh.vertices[mesh.faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
    record = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
    data = np.zeros(len(triangles), dtype=record)
    data["normal"] = normals
    data["vertices"] = triangles
    header = b"cad3d-dxf binary STL".ljust(80, b" ")
    return header + np.uint32(len(data)).tobytes() + data.tobytes()


def _safe_name(name: str, used: set[str]) -> str:
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "layer"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}_{n}"
    used.add(candidate)
    return candidate


def to_obj(layers: list[LayerMesh], metadata: dict[str, Any]) -> tuple[bytes, bytes]:
    """Hand-written because trimesh's OBJ export merges a scene into one object; we keep one group
    and one material per layer, and format vertices with numpy instead of per-vertex Python."""
    obj = io.StringIO()
    mtl = io.StringIO()
    obj.write(f"# cad3d-dxf, unit {metadata.get('unit', '')}\nmtllib model.mtl\n")
    used: set[str] = set()
    offset = 1
    for layer in layers:
        name = _safe_name(layer.name, used)
        r, g, b = (c / 255.0 for c in (layer.color or DEFAULT_RGB))
        mtl.write(f"newmtl {name}\nKd {r:.4f} {g:.4f} {b:.4f}\nKa 0 0 0\nd 1\nillum 1\n\n")
        obj.write(f"o {name}\ng {name}\nusemtl {name}\n")
        np.savetxt(obj, layer.mesh.vertices, fmt="v %.9g %.9g %.9g")
        np.savetxt(obj, layer.mesh.faces + offset, fmt="f %d %d %d")
        offset += len(layer.mesh.vertices)
    return obj.getvalue().encode(), mtl.getvalue().encode()


_DXF_INSUNITS = {"in": 1, "ft": 2, "mm": 4, "cm": 5, "m": 6, "km": 7, "yd": 10, "um": 13, "dm": 14}


def to_dxf(layers: list[LayerMesh], unit: str) -> bytes:
    """R2000 POLYFACE meshes: read back by ezdxf, FreeCAD and every AutoCAD since R13.

    ezdxf writes the header, tables and layers; the POLYFACE entities themselves are formatted
    here in bulk, because building one ezdxf VERTEX object per vertex and face takes minutes
    for a large plan (measured: 69 s for 80,000 vertices) while this takes well under a second.
    The text is exactly what ezdxf's own ``render_polyface`` writes.
    """
    doc = ezdxf.new("R2000")
    doc.header["$INSUNITS"] = _DXF_INSUNITS.get(unit, 0)
    msp = doc.modelspace()
    owner = msp.layout_key
    used: set[str] = set()
    handles = doc.entitydb.handles
    next_handle = int(handles.next(), 16)
    parts: list[str] = []
    for layer in layers:
        name = _safe_name(layer.name, used)
        dxf_layer = doc.layers.get(name) if doc.layers.has_entry(name) else doc.layers.add(name)
        dxf_layer.rgb = layer.color or DEFAULT_RGB
        for chunk in _chunks(layer.mesh, _POLYFACE_MAX_VERTICES):
            text, next_handle = _polyface_text(chunk, name, owner, next_handle)
            parts.append(text)
    handles.reset(f"{next_handle:X}")
    stream = io.StringIO()
    doc.write(stream)
    text = stream.getvalue()
    marker = "  2\nENTITIES\n"
    at = text.index(marker) + len(marker)
    return (text[:at] + "".join(parts) + text[at:]).encode("utf-8")


def _polyface_text(mesh: MeshArrays, layer: str, owner: str, handle: int) -> tuple[str, int]:
    polyline_handle = handle
    vertex_head = f"100\nAcDbEntity\n  8\n{layer}\n100\nAcDbVertex\n"
    out = [
        f"  0\nPOLYLINE\n  5\n{polyline_handle:X}\n330\n{owner}\n100\nAcDbEntity\n  8\n{layer}\n"
        f"100\nAcDbPolyFaceMesh\n 66\n1\n 10\n0.0\n 20\n0.0\n 30\n0.0\n 70\n64\n"
        f" 71\n{len(mesh.vertices)}\n 72\n{len(mesh.faces)}\n"
    ]
    handle += 1
    out.extend(
        f"  0\nVERTEX\n  5\n{h:X}\n330\n{owner}\n{vertex_head}100\nAcDbPolyFaceMeshVertex\n"
        f" 10\n{x!r}\n 20\n{y!r}\n 30\n{z!r}\n 70\n192\n"
        for h, (x, y, z) in zip(range(handle, handle + len(mesh.vertices)), mesh.vertices.tolist(), strict=True)
    )
    handle += len(mesh.vertices)
    out.extend(
        f"  0\nVERTEX\n  5\n{h:X}\n330\n{owner}\n100\nAcDbEntity\n  8\n{layer}\n100\nAcDbFaceRecord\n"
        f" 10\n0.0\n 20\n0.0\n 30\n0.0\n 70\n128\n 71\n{a}\n 72\n{b}\n 73\n{c}\n"
        for h, (a, b, c) in zip(range(handle, handle + len(mesh.faces)), (mesh.faces + 1).tolist(), strict=True)
    )
    handle += len(mesh.faces)
    out.append(f"  0\nSEQEND\n  5\n{handle:X}\n330\n{polyline_handle:X}\n100\nAcDbEntity\n  8\n{layer}\n")
    return "".join(out), handle + 1


def _chunks(mesh: MeshArrays, max_vertices: int) -> list[MeshArrays]:
    """Split by faces so each chunk references at most ``max_vertices`` vertices."""
    if len(mesh.vertices) <= max_vertices:
        return [mesh]
    chunks: list[MeshArrays] = []
    faces_per_chunk = max(1, max_vertices // 3)
    for start in range(0, len(mesh.faces), faces_per_chunk):
        faces = mesh.faces[start : start + faces_per_chunk]
        unique, inverse = np.unique(faces, return_inverse=True)
        chunks.append(MeshArrays(mesh.vertices[unique], inverse.reshape(-1, 3)))
    return chunks
