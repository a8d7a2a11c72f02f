"""Our 3D DXF read back by FreeCAD's own DXF importer (Debian's ``freecad``, run as ``freecadcmd``).

FreeCAD 0.20's default (C++) importer has no mesh support at all: measured here, a 3DFACE or a
MESH entity imports as nothing, and a POLYFACE as a polyline through its vertices. POLYFACE is
therefore the only mesh entity FreeCAD reads anything of, and this test pins what it reads: every
vertex of every part, at its position, and nothing else. Faces need FreeCAD's legacy importer,
whose libraries FreeCAD downloads on first use; that cannot run offline, so it is not tested here.
Skipped where ``freecadcmd`` is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from ezdxf.render import MeshBuilder

from cad3d_dxf.core import DxfOptions, convert

from .helpers import dxf_bytes, new_doc, square

FREECADCMD = shutil.which("freecadcmd") or shutil.which("FreeCADCmd")

pytestmark = pytest.mark.skipif(FREECADCMD is None, reason="FreeCAD (freecadcmd) is not installed")

# freecadcmd passes no arguments to scripts, so the paths travel in the environment.
_READ_BACK = """
import json, os
import FreeCAD, Import
doc = FreeCAD.newDocument("readback")
Import.readDXF(os.environ["CAD3D_DXF"], doc.Name, False)
doc.recompute()
points = []
for obj in doc.Objects:
    shape = getattr(obj, "Shape", None)
    if shape is None:
        continue
    for vertex in shape.Vertexes:
        points.append([vertex.X, vertex.Y, vertex.Z])
with open(os.environ["CAD3D_RESULT"], "w") as stream:
    json.dump({"objects": len(doc.Objects), "points": points}, stream)
"""


def _plate_with_hole_and_block() -> bytes:
    doc = new_doc()  # millimetres
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PLATE"})
    msp.add_circle((50, 50), 10, dxfattribs={"layer": "PLATE"})
    msp.add_lwpolyline(square(150, 20, 30), close=True, dxfattribs={"layer": "BOSS", "elevation": 5.0})
    return dxf_bytes(doc)


def _rounded(points: np.ndarray) -> set[tuple[float, float, float]]:
    return {tuple(row) for row in np.round(points, 6).tolist()}  # type: ignore[misc]


def test_freecad_reads_every_vertex_of_our_3d_dxf(tmp_path: Path) -> None:
    result = convert(_plate_with_hole_and_block(), DxfOptions(format="dxf", height=10))
    [artifact] = result.artifacts
    path = tmp_path / "model.dxf"
    path.write_bytes(artifact.data)

    # The vertices as written, read back by ezdxf: the reference FreeCAD must match.
    doc = ezdxf.readfile(path)
    ours: list[list[float]] = []
    for polyface in doc.modelspace().query("POLYLINE"):
        assert polyface.is_poly_face_mesh
        ours.extend(list(v) for v in MeshBuilder.from_polyface(polyface).vertices)
    expected = _rounded(np.asarray(ours))

    script = tmp_path / "read_back.py"
    script.write_text(_READ_BACK)
    out = tmp_path / "freecad.json"
    env = {**os.environ, "CAD3D_DXF": str(path), "CAD3D_RESULT": str(out)}
    completed = subprocess.run([str(FREECADCMD), str(script)], env=env, capture_output=True, timeout=180, check=False)
    assert out.exists(), completed.stdout.decode(errors="replace")[-2000:]
    freecad = json.loads(out.read_text())

    assert freecad["objects"] >= 2  # one per polyface at least: both layers arrived
    assert _rounded(np.asarray(freecad["points"])) == expected
    # The plate spans 0..100 x 0..100 x 0..10 and the boss sits on its 5 mm elevation.
    z = np.asarray(freecad["points"])[:, 2]
    assert z.min() == pytest.approx(0.0) and z.max() == pytest.approx(15.0)
