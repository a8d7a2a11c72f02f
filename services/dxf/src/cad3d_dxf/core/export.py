"""Write the per-layer meshes as GLB, binary STL, OBJ+MTL or a 3D DXF.

The meshes and the file are the two largest things a conversion holds, so every writer takes
ownership of its ``layers`` list and empties it, dropping each mesh as soon as the file no longer
needs it, and writes into a BytesIO, whose final bytes are not copied again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ezdxf
import numpy as np
import trimesh
from trimesh.exchange import gltf as trimesh_gltf

from cad3d_kit.conversion import OutputArtifact

from .colours import DEFAULT_RGB, RGB, ColourRun, hex_colour, nearest_aci
from .extrusion import MeshArrays
from .heap import return_free_memory
from .units import OUTPUT_UNITS

# A POLYFACE indexes vertices with 16-bit signed group codes: split larger meshes.
_POLYFACE_MAX_VERTICES = 32000
# Z-up CAD coordinates -> glTF's Y-up: rotate -90 degrees about X.
_Z_UP_TO_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], dtype=float)


@dataclass
class LayerMesh:
    name: str
    mesh: MeshArrays
    color: RGB | None  # the layer's own colour (the DXF layer's)
    # Consecutive colour runs covering the mesh, each using only its own vertices (colours.py);
    # empty: the whole mesh has the layer's colour.
    runs: list[ColourRun] = field(default_factory=list)

    def colour_runs(self) -> list[ColourRun]:
        if self.runs:
            return self.runs
        return [ColourRun(self.color or DEFAULT_RGB, len(self.mesh.faces), len(self.mesh.vertices))]


def _run_meshes(layer: LayerMesh) -> Iterator[tuple[ColourRun, MeshArrays]]:
    """Each colour run as its own mesh: views of the layer's arrays, the faces renumbered in place
    (the writers own the layer), so splitting by colour copies nothing. The layer's mesh is not
    usable as a whole afterwards."""
    vertex_start = face_start = 0
    for run in layer.colour_runs():
        faces = layer.mesh.faces[face_start : face_start + run.faces]
        if vertex_start:
            faces -= vertex_start
        yield run, MeshArrays(layer.mesh.vertices[vertex_start : vertex_start + run.vertices], faces)
        vertex_start += run.vertices
        face_start += run.faces


def _material_name(layer: LayerMesh, run: ColourRun) -> str:
    """The layer's name when the layer has one colour, else the layer's name and the colour."""
    return layer.name if len(layer.colour_runs()) == 1 else f"{layer.name} {hex_colour(run.rgb)}"


def export(format_: str, layers: list[LayerMesh], metadata: dict[str, Any], unit: str) -> list[OutputArtifact]:
    """The artifacts of ``format_``; ``layers`` is emptied (see the module docstring)."""
    kept = [layer for layer in layers if len(layer.mesh.faces)]
    layers.clear()
    layers = kept
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


def _scene(
    layers: list[LayerMesh], metadata: dict[str, Any], unit: str, extra_runs: dict[str, str] | None = None
) -> trimesh.Scene:
    """One node per layer; a root node converts output units to glTF metres and Z-up to Y-up.

    A layer's first colour run is the node's geometry; every further run is a geometry without a
    node, named in ``extra_runs`` (geometry name -> the layer's geometry name) so ``to_glb`` can
    make it another primitive of the layer's mesh (trimesh writes one primitive per mesh).

    ``layers`` is emptied: trimesh keeps its own 64-bit copy of each layer's face indices, so
    each layer's own arrays are dropped as soon as its node exists."""
    if extra_runs is None:
        extra_runs = {}
    extras: list[tuple[str, trimesh.Trimesh]] = []
    scene = trimesh.Scene()
    scene.metadata.update(metadata)
    root = "drawing"
    scale = np.diag([OUTPUT_UNITS[unit]] * 3 + [1.0])
    scene.graph.update(frame_to=root, frame_from=scene.graph.base_frame, matrix=_Z_UP_TO_Y_UP @ scale)
    layers.reverse()
    while layers:
        layer = layers.pop()
        for index, (run, run_mesh) in enumerate(_run_meshes(layer)):
            material = trimesh.visual.material.PBRMaterial(
                name=_material_name(layer, run),
                baseColorFactor=[*run.rgb, 255],
                metallicFactor=0.0,
                roughnessFactor=0.8,
                doubleSided=False,
            )
            mesh = trimesh.Trimesh(
                vertices=run_mesh.vertices,
                faces=run_mesh.faces,
                process=False,
                visual=trimesh.visual.TextureVisuals(material=material),
            )
            mesh.metadata = {"layer": layer.name, "unit": unit}
            if index == 0:
                scene.add_geometry(mesh, node_name=layer.name, geom_name=layer.name, parent_node_name=root)
            else:
                # NUL cannot occur in a DXF layer name: these never clash with a layer's geometry.
                name = f"\x00{len(extras)}"
                extra_runs[name] = layer.name
                extras.append((name, mesh))
            del run_mesh
        del layer
        return_free_memory()  # the layer's own indices, before the next copy is made
    # After every node's geometry, so the meshes of the nodes keep trimesh's numbering.
    for name, mesh in extras:
        scene.geometry[name] = mesh
    return scene


def _merge_runs_into_layer_meshes(tree: dict[str, Any], extra_runs: dict[str, str]) -> None:
    """Move each extra run's primitive into its layer's mesh and drop the extra meshes.

    Extra runs were added after every node's geometry, so they are the last meshes and no node
    refers to them: dropping them renumbers nothing."""
    if not extra_runs:
        return
    meshes: list[dict[str, Any]] = tree["meshes"]
    by_name = {mesh["name"]: mesh for mesh in meshes if mesh["name"] not in extra_runs}
    kept = len(by_name)
    for mesh in meshes[kept:]:
        by_name[extra_runs[mesh["name"]]]["primitives"].extend(mesh["primitives"])
    del meshes[kept:]


def to_glb(layers: list[LayerMesh], metadata: dict[str, Any], unit: str) -> bytes:
    """The bytes trimesh's ``export_glb`` writes, assembled with one copy of the data instead of three.

    trimesh joins its per-accessor buffers into one blob and then the blob into the file while
    both are still alive, with the meshes alive too. Here its glTF tree and buffers are taken as
    they are, the meshes dropped, and the buffers written one at a time, each dropped once
    written. This uses two of trimesh's private helpers; a test checks the result against
    ``export_glb`` byte for byte, so a trimesh upgrade that changes them fails loudly.
    """
    extra_runs: dict[str, str] = {}
    scene = _scene(layers, metadata, unit, extra_runs)
    tree, buffer_items = trimesh_gltf._create_gltf_structure(
        scene=scene,
        unitize_normals=True,
        include_normals=None,
        buffer_postprocessor=None,
        extension_webp=False,
        extension_draco=False,
    )
    # The buffers hold all the file needs: drop the meshes' arrays before the file is written.
    # Through trimesh's own setters, because its objects hold reference cycles: only a garbage
    # collection would free them, and a full one costs tens of milliseconds.
    for mesh in scene.geometry.values():
        mesh.faces = None
        mesh.vertices = None
    del scene
    return_free_memory()
    _merge_runs_into_layer_meshes(tree, extra_runs)
    views = trimesh_gltf._build_views(buffer_items)
    data_length = sum(len(item) for item in buffer_items.values())
    if data_length > 0:
        tree["buffers"] = [{"byteLength": data_length}]
        tree["bufferViews"] = views
    content = trimesh.util.jsonify(tree, separators=(",", ":"))
    content += (4 - ((len(content) + 20) % 4)) * " "  # the binary chunk starts 4-byte aligned
    json_chunk = content.encode("utf-8")
    magic = trimesh_gltf._magic
    out = io.BytesIO()
    header = [magic["gltf"], 2, len(json_chunk) + data_length + 28, len(json_chunk), magic["json"]]
    out.write(np.array(header, dtype="<u4").tobytes())
    out.write(json_chunk)
    out.write(np.array([data_length, 0x004E4942], dtype="<u4").tobytes())  # "BIN\0"
    items = list(buffer_items.values())
    buffer_items.clear()
    items.reverse()
    while items:
        out.write(items.pop())
    return out.getvalue()


_STL_RECORD = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
# Faces are turned into output rows this many at a time (STL expands each to 72 bytes of float64
# corners first), so no temporary is as large as the mesh.
_ROWS_PER_CHUNK = 65536


def to_stl(layers: list[LayerMesh]) -> bytes:
    """Binary STL written a chunk of triangles at a time (``layers`` is emptied)."""
    out = io.BytesIO()
    out.write(b"cad3d-dxf binary STL".ljust(80, b" "))
    out.write(np.uint32(sum(len(layer.mesh.faces) for layer in layers)).tobytes())
    layers.reverse()
    while layers:
        mesh = layers.pop().mesh
        for start in range(0, len(mesh.faces), _ROWS_PER_CHUNK):
            triangles = mesh.vertices[mesh.faces[start : start + _ROWS_PER_CHUNK]]
            normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
            lengths = np.linalg.norm(normals, axis=1, keepdims=True)
            normals = np.divide(normals, lengths, out=np.zeros_like(normals), where=lengths > 0)
            records = np.zeros(len(triangles), dtype=_STL_RECORD)
            records["normal"] = normals
            records["vertices"] = triangles
            out.write(records.tobytes())
    return out.getvalue()


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
    and one material per layer, and format vertices with numpy instead of per-vertex Python.

    Written as UTF-8 bytes (a text buffer would be copied to a str and then encoded); ``layers``
    is emptied."""
    obj = io.BytesIO()
    mtl = io.StringIO()
    obj.write(f"# cad3d-dxf, unit {metadata.get('unit', '')}\nmtllib model.mtl\n".encode())
    used: set[str] = set()
    offset = 1
    layers.reverse()
    while layers:
        layer = layers.pop()
        name = _safe_name(layer.name, used)
        obj.write(f"o {name}\ng {name}\n".encode())
        # Numbers only: ASCII, so numpy's latin-1 encoding of these lines is their UTF-8.
        np.savetxt(obj, layer.mesh.vertices, fmt="v %.9g %.9g %.9g")
        face_start = 0
        for run in layer.colour_runs():
            material = name if len(layer.colour_runs()) == 1 else _safe_name(f"{name}_{hex_colour(run.rgb)[1:]}", used)
            r, g, b = (c / 255.0 for c in run.rgb)
            mtl.write(f"newmtl {material}\nKd {r:.4f} {g:.4f} {b:.4f}\nKa 0 0 0\nd 1\nillum 1\n\n")
            obj.write(f"usemtl {material}\n".encode())
            face_end = face_start + run.faces
            for start in range(face_start, face_end, _ROWS_PER_CHUNK):  # no full-size index copy
                chunk = layer.mesh.faces[start : min(start + _ROWS_PER_CHUNK, face_end)].astype(np.int64) + offset
                np.savetxt(obj, chunk, fmt="f %d %d %d")
            face_start = face_end
        offset += len(layer.mesh.vertices)
    return obj.getvalue(), mtl.getvalue().encode()


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
    names = [_safe_name(layer.name, used) for layer in layers]
    for name, layer in zip(names, layers, strict=True):
        dxf_layer = doc.layers.get(name) if doc.layers.has_entry(name) else doc.layers.add(name)
        layer_rgb = layer.color or DEFAULT_RGB
        dxf_layer.rgb = layer_rgb  # kept by ezdxf only from R2004 on: the ACI is what R2000 has
        dxf_layer.color = nearest_aci(layer_rgb)
    # Only once every layer table entry has its handle: the polyfaces number on from here.
    handles = doc.entitydb.handles
    next_handle = int(handles.next(), 16)
    # Encoded chunk by chunk: the text of a large model is several times its mesh, so it should
    # exist once, as bytes, not also as str parts, their join and the encoded copy.
    parts: list[bytes] = []
    layers.reverse()
    names.reverse()
    while layers:
        layer = layers.pop()
        name = names.pop()
        layer_rgb = layer.color or DEFAULT_RGB
        for run, run_mesh in _run_meshes(layer):
            for chunk in _chunks(run_mesh, _POLYFACE_MAX_VERTICES):
                text, next_handle = _polyface_text(chunk, name, _colour_tags(run.rgb, layer_rgb), owner, next_handle)
                parts.append(text.encode("utf-8"))
    handles.reset(f"{next_handle:X}")
    stream = io.StringIO()
    doc.write(stream)
    text = stream.getvalue()
    marker = "  2\nENTITIES\n"
    at = text.index(marker) + len(marker)
    out = io.BytesIO()
    out.write(text[:at].encode("utf-8"))
    parts.reverse()
    while parts:
        out.write(parts.pop())
        # Each part is tens of MB from the heap, not its own mapping: give its pages back before
        # the file grows by the next one, or a large model's text is held twice at the end.
        return_free_memory()
    out.write(text[at:].encode("utf-8"))
    return out.getvalue()


def _colour_tags(rgb: RGB, layer_rgb: RGB) -> tuple[str, str]:
    """Colour tags of a polyface (always) and of its face records (only off the layer's colour).

    True colour (420) for readers since R2004 and ezdxf, the nearest ACI (62) for older ones.
    AutoCAD colours each face by its face record, so a run off the layer's colour needs them
    there too; runs in the layer's colour leave the records BYLAYER (no bytes per face)."""
    tags = f" 62\n{nearest_aci(rgb)}\n420\n{ezdxf.rgb2int(rgb)}\n"
    return tags, "" if rgb == layer_rgb else tags


def _polyface_text(
    mesh: MeshArrays, layer: str, colour_tags: tuple[str, str], owner: str, handle: int
) -> tuple[str, int]:
    polyline_handle = handle
    polyline_colour, face_colour = colour_tags
    vertex_head = f"100\nAcDbEntity\n  8\n{layer}\n100\nAcDbVertex\n"
    out = [
        f"  0\nPOLYLINE\n  5\n{polyline_handle:X}\n330\n{owner}\n100\nAcDbEntity\n  8\n{layer}\n{polyline_colour}"
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
        f"  0\nVERTEX\n  5\n{h:X}\n330\n{owner}\n100\nAcDbEntity\n  8\n{layer}\n{face_colour}100\nAcDbFaceRecord\n"
        f" 10\n0.0\n 20\n0.0\n 30\n0.0\n 70\n128\n 71\n{a}\n 72\n{b}\n 73\n{c}\n"
        for h, (a, b, c) in zip(range(handle, handle + len(mesh.faces)), (mesh.faces + 1).tolist(), strict=True)
    )
    handle += len(mesh.faces)
    out.append(f"  0\nSEQEND\n  5\n{handle:X}\n330\n{polyline_handle:X}\n100\nAcDbEntity\n  8\n{layer}\n")
    return "".join(out), handle + 1


def _chunks(mesh: MeshArrays, max_vertices: int) -> Iterator[MeshArrays]:
    """Split by faces so each chunk references at most ``max_vertices`` vertices (made one at a
    time: together the chunks are a copy of the mesh)."""
    if len(mesh.vertices) <= max_vertices:
        yield mesh
        return
    faces_per_chunk = max(1, max_vertices // 3)
    for start in range(0, len(mesh.faces), faces_per_chunk):
        faces = mesh.faces[start : start + faces_per_chunk]
        unique, inverse = np.unique(faces, return_inverse=True)
        yield MeshArrays(mesh.vertices[unique], inverse.reshape(-1, 3))
