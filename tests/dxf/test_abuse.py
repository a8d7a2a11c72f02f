"""Hostile and broken drawings: refused early with a stable code, or converted without losing the rest."""

from __future__ import annotations

import pytest

from cad3d_dxf.core import DxfOptions, convert
from cad3d_kit.conversion import ConversionError, ErrorKind

from .helpers import new_doc, report, run, square


def _to_bytes(doc: object) -> bytes:
    import io

    stream = io.StringIO()
    doc.write(stream)  # type: ignore[attr-defined]
    return stream.getvalue().encode()


def test_minsert_grid_bomb_is_refused_before_it_is_expanded() -> None:
    doc = new_doc()
    block = doc.blocks.new("CELL")
    block.add_lwpolyline(square(0, 0, 1), close=True)
    insert = doc.modelspace().add_blockref("CELL", (0, 0))
    insert.grid(size=(30000, 30000), spacing=(2, 2))
    with pytest.raises(ConversionError) as caught:
        convert(_to_bytes(doc), DxfOptions(height=1))
    assert caught.value.code == "drawing_too_complex"
    assert caught.value.kind == ErrorKind.RESOURCE_EXHAUSTED
    assert "MINSERT" in caught.value.message or "CELL" in caught.value.message


def test_nested_block_bomb_is_refused() -> None:
    doc = new_doc()
    doc.blocks.new("L0").add_lwpolyline(square(0, 0, 1), close=True)
    for level in range(1, 11):
        block = doc.blocks.new(f"L{level}")
        for k in range(10):
            block.add_blockref(f"L{level - 1}", (k * 2.0**level, 0))
    doc.modelspace().add_blockref("L10", (0, 0))
    with pytest.raises(ConversionError) as caught:
        convert(_to_bytes(doc), DxfOptions(height=1))
    assert caught.value.code == "drawing_too_complex"


def test_a_garbage_coordinate_does_not_make_an_ordinary_square_vanish() -> None:
    doc = new_doc()
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PLATE"})
    msp.add_lwpolyline([(0, 0), (1e308, 1e308), (-1e308, 1e308)], close=True, dxfattribs={"layer": "JUNK"})
    rep = report(doc, height=10)
    assert rep["layers"]["PLATE"]["area"] == pytest.approx(100 * 100)
    assert rep["bbox"]["max"] == pytest.approx([100, 100, 10])
    reasons = rep["entities"]["skipped"]["LWPOLYLINE"]
    assert any("beyond" in reason for reason in reasons)


@pytest.mark.parametrize("height", [1e308, 1e10, float("inf")])
def test_absurd_heights_are_invalid_options(height: float) -> None:
    with pytest.raises(ConversionError) as caught:
        DxfOptions(height=height)
    assert caught.value.code == "invalid_options"


def test_a_large_ordinary_block_grid_still_converts() -> None:
    doc = new_doc()
    block = doc.blocks.new("TILE")
    block.add_lwpolyline(square(0, 0, 1), close=True)
    doc.modelspace().add_blockref("TILE", (0, 0)).grid(size=(20, 20), spacing=(2, 2))
    result = run(doc, height=1)
    assert result.report["parts"]["count"] == 400
