"""Layers a person never sees on the sheet (off, frozen, not plotted) are not modelled, and say so."""

from __future__ import annotations

import pytest

from .helpers import new_doc, report, square


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda layer: layer.off(), "layer off or frozen"),
        (lambda layer: layer.freeze(), "layer off or frozen"),
        (lambda layer: layer.dxf.set("plot", 0), "layer set not to plot"),
    ],
    ids=["off", "frozen", "no-plot"],
)
def test_hidden_layers_are_left_out_and_counted(setup: object, reason: str) -> None:
    doc = new_doc()
    setup(doc.layers.add("OLD-LAYOUT"))  # type: ignore[operator]
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PLATE"})
    msp.add_lwpolyline(square(500, 0, 100), close=True, dxfattribs={"layer": "OLD-LAYOUT"})
    msp.add_line((500, 200), (600, 200), dxfattribs={"layer": "OLD-LAYOUT"})
    rep = report(doc, height=5)
    assert rep["bbox"]["max"][0] == pytest.approx(100)
    assert rep["sheet"]["excluded"][reason] == 2
    kept = report(doc, height=5, sheet="keep")
    assert kept["bbox"]["max"][0] == pytest.approx(600)
