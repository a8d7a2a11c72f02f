"""Loading a converted model (GLB, STL, OBJ, PLY, 3D DXF) as coloured triangles for the preview.

Everything ends up in one frame: metres, Z up, as the drawing was. glTF files are in metres with
Y up by definition; STL/OBJ/PLY carry no unit, so the caller says which (cad3d writes them in its
output unit, mm unless asked otherwise) and cad3d's own OBJ names it in its first comment line.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import trimesh

from cad3d_dxf.core.units import OUTPUT_UNITS, drawing_unit

# Colour of faces whose file gives none (light grey reads well shaded on white).
DEFAULT_RGB = (190, 190, 190)
# glTF is Y up; the drawing was Z up: (x, y, z)_gltf -> (x, -z, y).
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
_OBJ_UNIT = re.compile(rb"^#\s*cad3d[^\n]*\bunit\s+([a-z]+)", re.IGNORECASE)


@dataclass
class ModelTriangles:
    """Every triangle of a model: ``corners`` (N, 3, 3) in metres, Z up; ``colours`` (N, 3) uint8.

    ``unit`` is the unit the model was written in, used to label the scale bar."""

    corners: np.ndarray
    colours: np.ndarray
    unit: str
    parts: int

    @property
    def bounds(self) -> np.ndarray:
        if not len(self.corners):
            return np.zeros((2, 3))
        flat = self.corners.reshape(-1, 3)
        return np.array([flat.min(axis=0), flat.max(axis=0)])


def metres_per_unit(unit: str) -> float:
    if unit not in OUTPUT_UNITS:
        raise ValueError(f"unknown unit {unit!r}; one of {', '.join(OUTPUT_UNITS)}")
    return OUTPUT_UNITS[unit]


def load_model(
    data: bytes, fmt: str, *, unit: str | None = None, companions: dict[str, bytes] | None = None
) -> ModelTriangles:
    """The model's triangles in metres, Z up, with one colour per face.

    ``unit`` overrides the unit an STL/OBJ/PLY/DXF is taken to be in (glTF is always metres);
    ``companions`` are files the model refers to by name (an OBJ's material library)."""
    fmt = fmt.lower()
    if fmt == "glb" or fmt == "gltf":
        scene = trimesh.load(io.BytesIO(data), file_type=fmt)
        declared = str(getattr(scene, "metadata", {}).get("unit", "") or "")
        label = unit or (declared if declared in OUTPUT_UNITS else "m")
        return _scene_triangles(scene, _Y_UP_TO_Z_UP, label)
    if fmt == "dxf":
        return dxf_triangles(data, unit=unit)
    if fmt not in ("stl", "obj", "ply"):
        raise ValueError(f"cannot preview a {fmt!r} model; glb, stl, obj, ply or dxf")
    if unit is None:
        found = _OBJ_UNIT.match(data[:200]) if fmt == "obj" else None
        declared = found.group(1).decode().lower() if found else ""
        unit = declared if declared in OUTPUT_UNITS else "mm"
    loaded = trimesh.load(io.BytesIO(data), file_type=fmt, resolver=companions or {})
    return _scene_triangles(loaded, np.eye(3) * metres_per_unit(unit), unit)


def _scene_triangles(loaded: Any, frame: np.ndarray, unit: str) -> ModelTriangles:
    """Triangles of every node of a scene (or of one mesh), moved by ``frame`` after the node's own
    transform, each face in its mesh's colour (material, face or vertex colours, or texture)."""
    scene = loaded if isinstance(loaded, trimesh.Scene) else trimesh.Scene(loaded)
    corners: list[np.ndarray] = []
    colours: list[np.ndarray] = []
    for node in scene.graph.nodes_geometry:
        transform, geometry_name = scene.graph[node]
        mesh = scene.geometry.get(geometry_name)
        if not isinstance(mesh, trimesh.Trimesh) or not len(mesh.faces):
            continue
        vertices = trimesh.transform_points(mesh.vertices, transform) @ frame.T
        corners.append(vertices[mesh.faces])
        colours.append(_face_colours(mesh))
    if not corners:
        return ModelTriangles(np.zeros((0, 3, 3)), np.zeros((0, 3), np.uint8), unit, 0)
    return ModelTriangles(np.concatenate(corners), np.concatenate(colours), unit, len(corners))


def _face_colours(mesh: trimesh.Trimesh) -> np.ndarray:
    visual = mesh.visual
    try:
        if isinstance(visual, trimesh.visual.TextureVisuals):
            if visual.uv is None or getattr(visual.material, "image", None) is None:
                # A plain material (cad3d's layer colours): one colour for the whole mesh.
                rgb = np.asarray(visual.material.main_color)[:3].astype(np.uint8)
                return np.tile(rgb, (len(mesh.faces), 1))
            visual = visual.to_color()  # an image texture (a photo relief) sampled at the UVs
        if visual is not None and visual.kind == "face":
            return np.asarray(visual.face_colors)[:, :3].astype(np.uint8)
        if visual is not None and visual.kind == "vertex":
            per_vertex = np.asarray(visual.vertex_colors)[:, :3].astype(np.float64)
            return per_vertex[mesh.faces].mean(axis=1).round().astype(np.uint8)
    except (ValueError, IndexError, AttributeError):
        pass  # a visual trimesh cannot turn into colours: the mesh is still worth seeing, in grey
    return np.tile(np.array(DEFAULT_RGB, np.uint8), (len(mesh.faces), 1))


def dxf_has_meshes(data: bytes) -> bool:
    """Whether a DXF holds 3D faces (a model cad3d wrote as DXF) rather than a 2D drawing."""
    doc = read_dxf(data)
    return any(_is_mesh(entity) for entity in doc.modelspace())


def dxf_triangles(data: bytes, *, unit: str | None = None) -> ModelTriangles:
    """POLYFACE, MESH and 3DFACE entities of a DXF as triangles in the colour they are drawn in.

    trimesh reads only a DXF's 2D paths, so ezdxf reads the faces."""
    from ezdxf.render import MeshBuilder

    doc = read_dxf(data)
    if unit is None:
        known = drawing_unit(int(doc.header.get("$INSUNITS", 0) or 0))
        unit = known[0] if known and known[0] in OUTPUT_UNITS else "mm"
    scale = metres_per_unit(unit)
    corners: list[list[Any]] = []
    colours: list[tuple[int, int, int]] = []
    parts = 0
    for entity in doc.modelspace():
        if not _is_mesh(entity):
            continue
        parts += 1
        if entity.dxftype() == "POLYLINE":
            for face in entity.faces():
                *vertices, record = face
                rgb = _entity_rgb(record, doc, fallback=_entity_rgb(entity, doc))
                _fan(corners, colours, [v.dxf.location for v in vertices], rgb)
        elif entity.dxftype() == "3DFACE":
            points = list(dict.fromkeys(tuple(v) for v in entity.wcs_vertices()))
            _fan(corners, colours, points, _entity_rgb(entity, doc))
        else:
            builder = MeshBuilder.from_mesh(entity)
            rgb = _entity_rgb(entity, doc)
            for face in builder.faces_as_vertices():
                _fan(corners, colours, list(face), rgb)
    array = np.array(corners, dtype=np.float64).reshape(-1, 3, 3) * scale
    return ModelTriangles(array, np.array(colours, np.uint8).reshape(-1, 3), unit, parts)


def read_dxf(data: bytes) -> Any:
    """The document as the converter reads it (ASCII or binary, strict, else recover mode), so
    the picture shows what the conversion saw."""
    from cad3d_dxf.core.reading import detect_format, load_document

    return load_document(data, detect_format(data)).doc


def _is_mesh(entity: Any) -> bool:
    kind = entity.dxftype()
    if kind == "POLYLINE":
        return bool(entity.is_poly_face_mesh)
    return bool(kind in ("MESH", "3DFACE"))


def _fan(corners: list[list[Any]], colours: list[tuple[int, int, int]], points: list[Any], rgb: Any) -> None:
    """A convex face (what polyfaces and 3DFACEs hold) split into triangles around its first corner."""
    for i in range(1, len(points) - 1):
        corners.append([tuple(points[0]), tuple(points[i]), tuple(points[i + 1])])
        colours.append(rgb)


def _entity_rgb(entity: Any, doc: Any, fallback: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
    """The colour an entity is drawn in: its true colour, its ACI, else its layer's (BYLAYER)."""
    from ezdxf import colors

    if entity.dxf.hasattr("true_color"):
        return _triple(entity.rgb)
    aci = entity.dxf.get("color", 256)
    if 0 < aci < 256:
        return _triple(colors.aci2rgb(aci))
    if fallback is not None:
        return fallback
    layer = doc.layers.get(entity.dxf.get("layer", "0"))
    if layer is None:
        return DEFAULT_RGB
    if layer.rgb is not None:
        return _triple(layer.rgb)
    return _triple(colors.aci2rgb(abs(layer.color) or 7))


def _triple(rgb: Any) -> tuple[int, int, int]:
    red, green, blue = rgb
    return int(red), int(green), int(blue)
