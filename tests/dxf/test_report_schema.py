"""Real reports validate against the published JSON Schema (docs/schemas/dxf-report.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cad3d_dxf.core import DxfOptions, convert, inspect

from .helpers import dxf_bytes, new_doc, square

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
SCHEMA = json.loads((REPO / "docs" / "schemas" / "dxf-report.schema.json").read_text())


def _validate(report: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = sorted(f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(report))
    assert not problems, problems[:10]


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "options",
    [
        {"height": 10},
        {"preset": "mechanical"},
        {"preset": "architecture", "output_unit": "m"},
        {"preset": "architecture", "plan": "plain", "sheet": "keep", "input_unit": "declared"},
        {"preset": "mechanical", "views": "all", "input_unit": "in", "format": "stl"},
    ],
)
def test_reports_of_generated_drawings_follow_the_schema(options: dict[str, Any]) -> None:
    doc = new_doc()
    msp = doc.modelspace()
    for start, end in zip(square(0, 0, 4000), square(0, 0, 4000)[1:] + square(0, 0, 4000)[:1], strict=True):
        msp.add_line(start, end, dxfattribs={"layer": "A-WALL"})
    msp.add_lwpolyline(square(200, 200, 3600), close=True, dxfattribs={"layer": "A-WALL"})
    msp.add_circle((2000, 2000), 100, dxfattribs={"layer": "HOLES"})
    msp.add_text("KITCHEN", dxfattribs={"insert": (1000, 1000), "height": 200})
    data = dxf_bytes(doc)
    _validate(convert(data, DxfOptions(**options)).report)
    _validate(inspect(data, DxfOptions(**options)).report)


@pytest.mark.parametrize(
    ("name", "preset"),
    [
        ("skymakerolof-dxf__issue42.dxf", "mechanical"),
        ("richland__House_Plan-01.dxf", "architecture"),
        ("skymakerolof-dxf__floorplan.dxf", "architecture"),
        ("comanda-postgis__ex1_laser_panel.dxf", None),
    ],
)
def test_reports_of_corpus_drawings_follow_the_schema(name: str, preset: str | None) -> None:
    path = CORPUS / "dxf" / name
    if not path.exists():
        pytest.skip(f"corpus file {path} not found")
    _validate(inspect(path.read_bytes(), DxfOptions(preset=preset)).report)
