"""Our 3D DXF read back by FreeCAD's own DXF importers (Debian's ``freecad``, run as ``freecadcmd``).

FreeCAD 0.20 has two DXF importers:
- the default (C++) one has no mesh support at all: measured here, a 3DFACE or a MESH entity
  imports as nothing, and a POLYFACE as a polyline through its vertices. The first test pins what
  it reads of our file: every vertex of every part, at its position;
- the legacy (Python) one turns POLYFACE meshes into FreeCAD meshes (``importDXF.drawMesh``), but
  it parses files with libraries FreeCAD downloads on first use, which cannot happen offline. The
  second test runs FreeCAD's own ``drawMesh`` on our file's POLYFACE records, handed over as the
  (group code, value) lists that downloaded reader produces; only that parsing step is stood in.
Skipped where ``freecadcmd`` is not installed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def _our_3d_dxf(tmp_path: Path) -> Path:
    [artifact] = convert(_plate_with_hole_and_block(), DxfOptions(format="dxf", height=10)).artifacts
    path = tmp_path / "model.dxf"
    path.write_bytes(artifact.data)
    return path


def _run_in_freecad(tmp_path: Path, script: str, **env: str) -> Any:
    """What ``script`` wrote to $CAD3D_RESULT inside freecadcmd (paths travel in the environment)."""
    script_path = tmp_path / "freecad_script.py"
    script_path.write_text(script)
    out = tmp_path / "freecad.json"
    environ = {**os.environ, **env, "CAD3D_RESULT": str(out)}
    completed = subprocess.run([str(FREECADCMD), str(script_path)], env=environ, capture_output=True, timeout=180)
    assert out.exists(), completed.stdout.decode(errors="replace")[-2000:]
    return json.loads(out.read_text())


def test_freecad_reads_every_vertex_of_our_3d_dxf(tmp_path: Path) -> None:
    path = _our_3d_dxf(tmp_path)

    # The vertices as written, read back by ezdxf: the reference FreeCAD must match.
    doc = ezdxf.readfile(path)
    ours: list[list[float]] = []
    for polyface in doc.modelspace().query("POLYLINE"):
        assert polyface.is_poly_face_mesh
        ours.extend(list(v) for v in MeshBuilder.from_polyface(polyface).vertices)
    expected = _rounded(np.asarray(ours))

    freecad = _run_in_freecad(tmp_path, _READ_BACK, CAD3D_DXF=str(path))

    assert freecad["objects"] >= 2  # one per polyface at least: both layers arrived
    assert _rounded(np.asarray(freecad["points"])) == expected
    # The plate spans 0..100 x 0..100 x 0..10 and the boss sits on its 5 mm elevation.
    z = np.asarray(freecad["points"])[:, 2]
    assert z.min() == pytest.approx(0.0) and z.max() == pytest.approx(15.0)


# Inside freecadcmd: FreeCAD's legacy importer builds a mesh from each polyface, as on import.
_DRAW_MESH = """
import json, os, sys
import FreeCAD
sys.path.append(os.path.join(FreeCAD.getResourceDir(), "Mod", "Draft"))
import importDXF

class Record:
    # What the downloaded dxfReader hands drawMesh: .flags, .points and the raw (code, value) pairs.
    def __init__(self, tags):
        self.data = [list(tag) for tag in tags]
        self.flags = importDXF.rawValue(self, 70) or 0
        self.loc = [importDXF.rawValue(self, code) or 0.0 for code in (10, 20, 30)]
    def __len__(self):
        return 3
    def __getitem__(self, index):
        return self.loc[index]
    def __iter__(self):
        return iter(self.loc)

results = []
for polyface in json.load(open(os.environ["CAD3D_POLYFACES"])):
    entity = Record(polyface["tags"])
    entity.points = [Record(vertex) for vertex in polyface["vertices"]]
    mesh = importDXF.drawMesh(entity)
    shell = importDXF.drawMesh(entity, forceShape=True)
    results.append({
        "facets": mesh.CountFacets, "points": mesh.CountPoints, "solid": mesh.isSolid(),
        "volume": mesh.Volume, "shell_closed": shell.isClosed(),
    })
with open(os.environ["CAD3D_RESULT"], "w") as stream:
    json.dump(results, stream)
"""


def _polyface_records(path: Path) -> list[dict[str, object]]:
    """Each POLYFACE's own tags and its VERTEX records' tags, straight from the file."""
    from ezdxf.lldxf.tagger import ascii_tags_loader

    polyfaces: list[dict[str, object]] = []
    current: list[tuple[int, object]] | None = None
    with path.open(encoding="utf-8") as stream:
        for tag in ascii_tags_loader(stream):
            if tag.code == 0:
                if tag.value == "POLYLINE":
                    current = []
                    polyfaces.append({"tags": current, "vertices": []})
                elif tag.value == "VERTEX" and polyfaces:
                    current = []
                    polyfaces[-1]["vertices"].append(current)  # type: ignore[attr-defined]
                else:
                    current = None
            elif current is not None:
                value = tag.value
                if 10 <= tag.code < 60 or 70 <= tag.code < 80:
                    value = float(value) if tag.code < 60 else int(value)
                current.append((tag.code, value))
    return polyfaces


def test_freecads_legacy_importer_builds_closed_meshes_from_our_polyfaces(tmp_path: Path) -> None:
    path = _our_3d_dxf(tmp_path)
    records = tmp_path / "polyfaces.json"
    records.write_text(json.dumps(_polyface_records(path)))

    expected = [MeshBuilder.from_polyface(p) for p in ezdxf.readfile(path).modelspace().query("POLYLINE")]
    assert len(expected) == 2  # one part per layer here

    meshes = _run_in_freecad(tmp_path, _DRAW_MESH, CAD3D_POLYFACES=str(records))

    assert [m["facets"] for m in meshes] == [len(m.faces) for m in expected]
    assert [m["points"] for m in meshes] == [len(_rounded(np.asarray(m.vertices))) for m in expected]
    assert all(m["solid"] and m["shell_closed"] for m in meshes)
    # The plate with its hole and the boss, by volume: FreeCAD measures what we extruded.
    volumes = sorted(m["volume"] for m in meshes)
    boss, plate = 30 * 30 * 10, 100 * 100 * 10 - math.pi * 10**2 * 10
    assert volumes[0] == pytest.approx(boss, rel=1e-6)
    assert volumes[1] == pytest.approx(plate, rel=2e-3)  # the hole is a polygon, not a circle
