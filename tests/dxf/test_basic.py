"""The simple path end to end: closed LWPOLYLINEs extruded to a GLB that trimesh reads back."""

from __future__ import annotations

import io

import pytest
import trimesh

from cad3d_dxf.core import CONVERTER_VERSION, DxfOptions, convert

from .helpers import dxf_bytes, new_doc


def test_closed_lwpolylines_extrude_to_glb() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (100, 0), (100, 50), (0, 50)], close=True, dxfattribs={"layer": "A"})
    msp.add_lwpolyline([(200, 0), (260, 0), (260, 30)], close=True, dxfattribs={"layer": "B"})

    result = convert(dxf_bytes(doc), DxfOptions(height=25))

    assert result.converter_version == CONVERTER_VERSION
    [artifact] = result.artifacts
    assert (artifact.name, artifact.media_type) == ("model.glb", "model/gltf-binary")
    scene = trimesh.load(io.BytesIO(artifact.data), file_type="glb")
    assert set(scene.geometry) == {"A", "B"}
    assert {n for n in scene.graph.nodes_geometry} == {"A", "B"}
    for mesh in scene.geometry.values():
        assert mesh.is_watertight
        assert mesh.volume > 0
    assert result.report["total_volume"] == pytest.approx((100 * 50 + 60 * 30 / 2) * 25, rel=1e-9)
    assert result.report["parts"]["all_watertight"] is True


def test_progress_is_reported_in_order_up_to_100() -> None:
    doc = new_doc()
    doc.modelspace().add_circle((0, 0), 10)
    events: list[tuple[float, str, str]] = []
    convert(dxf_bytes(doc), DxfOptions(), lambda percent, stage, message: events.append((percent, stage, message)))
    percents = [p for p, _, _ in events]
    assert percents == sorted(percents)
    assert percents[0] == 0 and percents[-1] == 100
    assert {"read", "geometry", "regions", "extrude", "export", "done"} <= {s for _, s, _ in events}


def test_inspect_reports_without_artifacts() -> None:
    from cad3d_dxf.core import inspect

    doc = new_doc()
    doc.modelspace().add_lwpolyline([(0, 0), (10, 0), (10, 10)], close=True)
    result = inspect(dxf_bytes(doc), DxfOptions(height=2))
    assert result.artifacts == []
    assert result.report["total_volume"] == pytest.approx(100.0)
    assert result.converter_version == CONVERTER_VERSION
