"""The streamed model-space read (streaming.py) gives exactly what the full ezdxf read gives.

Each comparison converts the same bytes twice: once as the pipeline does (model space streamed
where possible) and once with streaming switched off, which is the full strict/recover read.
"""

from __future__ import annotations

import io
import re
from typing import Any

import ezdxf
import pytest
from ezdxf.document import Drawing

from cad3d_dxf.core import DxfOptions, convert, inspect, pipeline
from cad3d_dxf.core.reading import load_document
from cad3d_dxf.core.streaming import StreamFailed, load_streamed
from cad3d_kit.conversion import ConversionResult

from .helpers import CORPUS, binary_dxf_bytes, dxf_bytes, new_doc, square

CORPUS_FILES = sorted((CORPUS / "dxf").iterdir()) if (CORPUS / "dxf").is_dir() else []


def _every_kind_doc() -> Drawing:
    """Every entity kind the collector reads, linked entities, a paperspace entity in the ENTITIES
    section, and an LWPOLYLINE last (its final point is read by looking one tag past it)."""
    doc = new_doc()
    doc.layers.add("WALLS", color=1)
    chair = doc.blocks.new("CHAIR", base_point=(5, 5))
    chair.add_lwpolyline(square(0, 0, 10), close=True)
    chair.add_attdef("TAG", (0, 0))
    msp = doc.modelspace()
    for start, end in (((0, 0), (100, 0)), ((100, 0), (100, 80)), ((100, 80), (0, 80)), ((0, 80), (0, 0))):
        msp.add_line(start, end, dxfattribs={"layer": "WALLS"})
    msp.add_lwpolyline([(120, 0, 0.5), (160, 0, 0), (160, 40, 0), (120, 40, 0)], format="xyb", close=True)
    msp.add_polyline2d([(200, 0), (240, 0), (240, 30), (200, 30)], close=True)
    msp.add_circle((300, 20), 15)
    msp.add_arc((350, 20), 15, 0, 180)
    msp.add_ellipse((400, 20), major_axis=(20, 0), ratio=0.5)
    msp.add_spline_control_frame([(450, 0), (480, 30), (510, 0), (480, -30), (450, 0)]).closed = True
    hatch = msp.add_hatch()
    hatch.paths.add_polyline_path(square(600, 0, 50), is_closed=True)
    hatch.paths.add_polyline_path(square(610, 10, 10), is_closed=True)
    msp.add_solid([(700, 0), (730, 0), (700, 30), (730, 30)])
    msp.add_3dface([(800, 0, 0), (830, 0, 0), (830, 30, 5), (800, 30, 5)])
    mesh = msp.add_mesh()
    with mesh.edit_data() as data:
        data.vertices = [(900, 0, 0), (930, 0, 0), (915, 30, 0), (915, 10, 20)]
        data.faces = [(0, 1, 2), (0, 1, 3), (1, 2, 3), (2, 0, 3)]
    polyface = msp.add_polyface()
    polyface.append_face([(1000, 0, 0), (1030, 0, 0), (1015, 30, 0)])
    insert = msp.add_blockref("CHAIR", (50, 40), dxfattribs={"rotation": 30})
    insert.add_auto_attribs({"TAG": "chair 1"})
    msp.add_blockref("CHAIR", (70, 40)).grid(size=(2, 3), spacing=(15, 15))
    msp.add_text("room", dxfattribs={"insert": (10, 10)})
    doc.layouts.get("Layout1").add_lwpolyline(square(0, 0, 500), close=True, dxfattribs={"layer": "PAPER"})
    msp.add_lwpolyline(square(-100, -100, 30), close=True, dxfattribs={"layer": "LAST"})
    return doc


def _full_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "load_streamed", lambda data, input_format: None)


def _comparable(result: ConversionResult) -> tuple[dict[str, Any], list[bytes]]:
    report = dict(result.report)
    report.pop("timings_ms")
    return report, [a.data for a in result.artifacts]


def _assert_same_as_full_read(data: bytes, monkeypatch: pytest.MonkeyPatch, **options: Any) -> None:
    streamed = _comparable(convert(data, DxfOptions(**options)))
    with monkeypatch.context() as patch:
        _full_read(patch)
        full = _comparable(convert(data, DxfOptions(**options)))
    assert streamed == full


def test_streamed_document_has_no_model_space_yet_streams_every_entity_as_loaded() -> None:
    doc = _every_kind_doc()
    data = dxf_bytes(doc)
    streamed = load_streamed(data, "dxf-ascii")
    assert streamed is not None
    assert len(streamed.doc.modelspace()) == 0  # the memory saving: no entity is kept
    full = load_document(data, "dxf-ascii").doc.modelspace()
    entities = list(streamed.modelspace())
    assert [(e.dxftype(), e.dxf.handle) for e in entities] == [(e.dxftype(), e.dxf.handle) for e in full]
    assert "PAPER" not in {e.dxf.layer for e in entities}
    for mine, theirs in zip(entities, full, strict=True):
        assert mine.dxfattribs() == theirs.dxfattribs()
        if mine.dxftype() == "LWPOLYLINE":
            assert list(mine.get_points()) == list(theirs.get_points())
        if mine.dxftype() == "POLYLINE":
            assert [v.dxfattribs() for v in mine.vertices] == [v.dxfattribs() for v in theirs.vertices]
        if mine.dxftype() == "INSERT":
            assert [a.dxf.text for a in mine.attribs] == [a.dxf.text for a in theirs.attribs]
    assert entities[-1].dxf.layer == "LAST" and len(list(entities[-1].get_points())) == 4


@pytest.mark.parametrize("binary", [False, True], ids=["ascii", "binary"])
@pytest.mark.parametrize("preset", [None, "architecture"])
def test_streamed_conversion_equals_the_full_read(
    binary: bool, preset: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _every_kind_doc()
    data = binary_dxf_bytes(doc) if binary else dxf_bytes(doc)
    assert load_streamed(data, "dxf-binary" if binary else "dxf-ascii") is not None
    _assert_same_as_full_read(data, monkeypatch, preset=preset, height=10)


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_streamed_report_equals_the_full_read_on_real_drawings(path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    try:
        streamed = inspect(data, DxfOptions()).report
    except Exception as exc:  # an unreadable file must fail the same way both ways
        with monkeypatch.context() as patch:
            _full_read(patch)
            with pytest.raises(type(exc)):
                inspect(data, DxfOptions())
        return
    with monkeypatch.context() as patch:
        _full_read(patch)
        full = inspect(data, DxfOptions()).report
    streamed.pop("timings_ms")
    full.pop("timings_ms")
    assert streamed == full


def test_entities_without_handles_take_the_full_read(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = new_doc("R12")
    doc.modelspace().add_polyline2d(square(0, 0, 10), close=True)
    doc.modelspace().add_circle((30, 5), 5)
    assert load_streamed(dxf_bytes(doc), "dxf-ascii") is not None
    text = dxf_bytes(doc).decode("ascii")
    start, end = text.index("ENTITIES\n"), text.index("ENDSEC\n", text.index("ENTITIES\n"))
    # ezdxf numbers handle-less entities in load order, which a streamed read would not repeat.
    stripped = text[:start] + re.sub(r"\n  5\n[0-9A-F]+\n", "\n", text[start:end]) + text[end:]
    data = stripped.encode("ascii")
    streamed = load_streamed(data, "dxf-ascii")
    assert streamed is not None
    with pytest.raises(StreamFailed, match="without a handle"):
        list(streamed.modelspace())
    result = convert(data, DxfOptions(height=1))
    assert result.report["parts"]["count"] == 2
    _assert_same_as_full_read(data, monkeypatch, height=1)


def test_an_entity_that_cannot_be_loaded_mid_stream_gets_the_full_read(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = new_doc("R2000")
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 10), close=True)
    for start, end in ((0, 20), (10, 20)), ((10, 20), (10, 30)), ((10, 30), (0, 30)), ((0, 30), (0, 20)):
        msp.add_line(start, end)
    text = dxf_bytes(doc).decode("ascii")
    # The first LINE loses its start point's y (group code 20): the first pass, which skips the
    # ENTITIES section, succeeds; building that LINE fails while streaming.
    first_line = text.index("\nLINE\n")
    broken = (text[:first_line] + re.sub(r"\n 20\n[^\n]*\n", "\n", text[first_line:], count=1)).encode("ascii")
    with pytest.raises(ezdxf.DXFStructureError):
        ezdxf.read(io.StringIO(broken.decode("ascii")))
    streamed = load_streamed(broken, "dxf-ascii")
    assert streamed is not None
    with pytest.raises(StreamFailed):
        list(streamed.modelspace())
    result = inspect(broken, DxfOptions(height=1))
    assert result.report["input"]["read_mode"] == "recover"
    assert result.report["audit"]["findings"][0]["kind"] == "recover"
    _assert_same_as_full_read(broken, monkeypatch, height=1)


def test_a_paperspace_layout_is_read_the_full_way() -> None:
    doc = _every_kind_doc()
    result = convert(dxf_bytes(doc), DxfOptions(layout="Layout1", height=1))
    assert result.report["layout"] == "Layout1"
    assert set(result.report["layers"]) >= {"PAPER"}
    assert result.report["layers"]["PAPER"]["parts"] == 1
