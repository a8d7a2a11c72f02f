"""Reading: format detection, binary DXF, code pages, recover mode, unreadable input, layouts."""

from __future__ import annotations

import io
import re

import ezdxf
import pytest

from cad3d_dxf.core import DxfOptions, convert, inspect
from cad3d_dxf.core.reading import detect_format
from cad3d_kit.conversion import ConversionError

from .helpers import binary_dxf_bytes, dxf_bytes, glb_scene, new_doc, square


def _plate_doc(version: str = "R2010") -> ezdxf.document.Drawing:
    doc = new_doc(version)
    doc.modelspace().add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PLATE"})
    return doc


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"AutoCAD Binary DXF\r\n\x1a\x00rest", "dxf-binary"),
        (b"AC1015\x00\x00\x00\x00", "dwg"),
        (b"AC1032\x00\x00", "dwg"),
        (b"  0\nSECTION\n  2\nHEADER\n", "dxf-ascii"),
        (b"0\r\nSECTION\r\n", "dxf-ascii"),
        (b"999\ncomment\n  0\nSECTION\n", "dxf-ascii"),
        (b"\xef\xbb\xbf  0\nSECTION\n", "dxf-ascii"),
        (b"%PDF-1.7\n", "unknown"),
        (b"", "unknown"),
        (b"\x89PNG\r\n\x1a\n", "unknown"),
    ],
)
def test_format_is_detected_from_content(data: bytes, expected: str) -> None:
    assert detect_format(data) == expected


def test_binary_dxf_converts_like_ascii() -> None:
    doc = _plate_doc()
    ascii_result = convert(dxf_bytes(doc), DxfOptions(height=10))
    binary_result = convert(binary_dxf_bytes(doc), DxfOptions(height=10))
    assert binary_result.report["input"]["format"] == "dxf-binary"
    assert binary_result.report["total_volume"] == pytest.approx(100 * 100 * 10, rel=1e-12)
    assert binary_result.report["total_volume"] == ascii_result.report["total_volume"]


@pytest.mark.parametrize(("layer", "codepage"), [("Стены", "ANSI_1251"), ("Wände", "ANSI_1252")])
def test_legacy_code_page_layer_names_survive(layer: str, codepage: str) -> None:
    doc = ezdxf.new("R2000")
    doc.header["$DWGCODEPAGE"] = codepage
    doc.modelspace().add_lwpolyline(square(0, 0, 10), close=True, dxfattribs={"layer": layer})
    data = dxf_bytes(doc)
    # R2000 files are written in the code page, not UTF-8: the reader must use $DWGCODEPAGE.
    assert layer.encode("utf-8") not in data
    result = convert(data, DxfOptions(height=1))
    assert set(glb_scene(result).geometry) == {layer}
    assert layer in result.report["layers"]


def test_damaged_file_is_read_in_recover_mode_with_audit_findings() -> None:
    doc = new_doc("R12")
    msp = doc.modelspace()
    for start, end in ((0, 0), (10, 0)), ((10, 0), (10, 10)), ((10, 10), (0, 10)), ((0, 10), (0, 0)):
        msp.add_line(start, end)
    text = dxf_bytes(doc).decode("ascii")
    # Drop the y coordinate (group code 20) of the first LINE's start point: a strict reader fails.
    first_line = text.index("LINE\n")
    broken = text[:first_line] + re.sub(r"\n 20\n[^\n]*\n", "\n", text[first_line:], count=1)
    with pytest.raises(ezdxf.DXFStructureError):
        ezdxf.read(io.StringIO(broken))
    result = inspect(broken.encode("ascii"), DxfOptions())
    assert result.report["input"]["read_mode"] == "recover"
    findings = result.report["audit"]["findings"]
    assert findings and findings[0]["kind"] == "recover"
    assert all(set(f) >= {"kind", "code", "message"} for f in findings)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world, not a drawing",
        b"  0\nSECTION\n  2\nENTITIES\n  0\nLINE\n 10\nnot-a-number\n",
        b"  0\nSECTION\n  2\nHEADER\n  9\n$ACADVER\n  1\nAC1015\n",
        b"AutoCAD Binary DXF\r\n\x1a\x00\xff\xff\xff",
    ],
)
def test_unreadable_input_is_dxf_unreadable(data: bytes) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(data, DxfOptions())
    assert caught.value.code in ("dxf_unreadable", "nothing_to_extrude")


def test_garbage_is_dxf_unreadable() -> None:
    with pytest.raises(ConversionError) as caught:
        convert(b"\x00\x01garbage" * 100, DxfOptions())
    assert caught.value.code == "dxf_unreadable"


def test_truncated_file_never_crashes() -> None:
    data = dxf_bytes(_plate_doc())
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            result = convert(data[:cut], DxfOptions())
        except ConversionError as exc:
            assert exc.code in ("dxf_unreadable", "nothing_to_extrude")
        else:
            assert result.report["parts"]["all_watertight"]


def test_named_layout_is_used_on_request() -> None:
    doc = new_doc()
    doc.modelspace().add_lwpolyline(square(0, 0, 10), close=True, dxfattribs={"layer": "MODEL"})
    doc.layouts.get("Layout1").add_lwpolyline(square(0, 0, 20), close=True, dxfattribs={"layer": "PAPER"})
    model = convert(dxf_bytes(doc), DxfOptions(height=1))
    paper = convert(dxf_bytes(doc), DxfOptions(height=1, layout="Layout1"))
    assert set(glb_scene(model).geometry) == {"MODEL"}
    assert set(glb_scene(paper).geometry) == {"PAPER"}
    assert paper.report["layout"] == "Layout1"


def test_unknown_layout_is_layout_not_found() -> None:
    with pytest.raises(ConversionError) as caught:
        convert(dxf_bytes(_plate_doc()), DxfOptions(layout="Nope"))
    assert caught.value.code == "layout_not_found"
    assert "Layout1" in caught.value.message
