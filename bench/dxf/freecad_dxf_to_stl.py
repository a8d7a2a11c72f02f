"""Runs INSIDE FreeCAD's headless ``freecadcmd``: DXF -> extruded solids -> STL, FreeCAD's way.

Driven by bench_freecad.py through environment variables (freecadcmd does not pass arguments
to scripts): CAD3D_DXF (input), CAD3D_STL (output), CAD3D_HEIGHT (extrusion height),
CAD3D_RESULT (JSON file for the timings). This is the script a user has to write to get solids
out of FreeCAD: its DXF importer yields loose edges, which are sorted into wires; closed wires
become faces (no hole nesting) and are extruded.
"""

import json
import os
import time

import FreeCAD
import Import
import Mesh
import Part

source = os.environ["CAD3D_DXF"]
target = os.environ["CAD3D_STL"]
height = float(os.environ.get("CAD3D_HEIGHT", "1000"))
result_path = os.environ["CAD3D_RESULT"]
result: dict[str, object] = {"stage": "import"}


def save() -> None:
    with open(result_path, "w") as stream:
        json.dump(result, stream)


started = time.perf_counter()
save()
doc = FreeCAD.newDocument("bench")
Import.readDXF(source, doc.Name, False)  # FreeCAD's C++ DXF importer
doc.recompute()
result["import_s"] = time.perf_counter() - started
result["stage"] = "build"
save()

build_started = time.perf_counter()
edges = []
for obj in doc.Objects:
    shape = getattr(obj, "Shape", None)
    if shape is not None and not shape.isNull():
        edges.extend(shape.Edges)
solids = []
failed = 0
for chain in Part.sortEdges(edges) if edges else []:
    try:
        wire = Part.Wire(chain)
        if not wire.isClosed():
            continue
        face = Part.Face(wire)
        solids.append(face.extrude(FreeCAD.Vector(0, 0, height)))
    except Exception:  # a wire FreeCAD cannot face is counted, not fatal
        failed += 1
result["build_s"] = time.perf_counter() - build_started
result["edges"] = len(edges)
result["solids"] = len(solids)
result["failed_wires"] = failed
result["stage"] = "mesh"
save()

mesh_started = time.perf_counter()
mesh = Mesh.Mesh()
watertight = 0
for solid in solids:
    part_mesh = Mesh.Mesh(solid.tessellate(0.1))
    watertight += bool(part_mesh.isSolid())
    mesh.addMesh(part_mesh)
mesh.write(target)
result["mesh_s"] = time.perf_counter() - mesh_started
result["watertight"] = watertight
result["total_s"] = time.perf_counter() - started
result["stage"] = "done"
save()
