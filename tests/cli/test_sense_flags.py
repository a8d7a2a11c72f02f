"""`cad3d convert` flags for how the DXF core reads a drawing (--input-unit, --sheet, --views, --plan,
--strict): they reach the core in-process, the DXF stage of a PDF converted to 3D, and the gateway
with --server; a failure still writes --report, with the error code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import ezdxf
import pytest
import trimesh
from typer.testing import CliRunner

from cad3d_cli import main
from cad3d_cli.main import app
from cad3d_dxf.core.units import OUTPUT_UNITS
from cad3d_kit.conversion import ConversionResult, OutputArtifact
from tests.support.fixtures import dxf_bytes, plate_with_hole

runner = CliRunner()
SENSE = ("input_unit", "sheet", "views", "plan", "strict")


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    # 100 x 50 with a 20 x 20 hole, declared in millimetres ($INSUNITS 4).
    path = tmp_path / "plate.dxf"
    path.write_bytes(plate_with_hole(100, 50, 20))
    return path


@pytest.fixture
def with_open_line(tmp_path: Path) -> Path:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.modelspace().add_lwpolyline([(0, 0), (100, 0), (100, 50), (0, 50)], close=True)
    doc.modelspace().add_lwpolyline([(200, 0), (300, 0), (300, 40)])  # open: encloses nothing, a warning
    path = tmp_path / "open.dxf"
    path.write_bytes(dxf_bytes(doc))
    return path


def test_input_unit_choices_are_the_cores() -> None:
    assert set(get_args(main.InputUnit)) == {"auto", "declared", *OUTPUT_UNITS}


def test_flags_reach_the_core_and_its_report(plate: Path, tmp_path: Path) -> None:
    output, report = tmp_path / "y.glb", tmp_path / "r.json"
    args = ["convert", str(plate), "-o", str(output), "--sheet", "keep", "--input-unit", "in", "--report", str(report)]
    result = runner.invoke(app, [*args, "--height", "10"])
    assert result.exit_code == 0, result.output
    options = json.loads(report.read_text())["report"]["options"]
    assert {k: options[k] for k in SENSE} == {
        "input_unit": "in",
        "sheet": "keep",
        "views": "auto",
        "plan": "auto",
        "strict": False,
    }
    # The drawing said millimetres, the flag said inches: 100 x 50 in = 2.54 x 1.27 m (glTF is in
    # metres, Y up), 10 mm high (the height is in output units).
    size = sorted(trimesh.load(output, force="mesh").extents)
    assert size == pytest.approx([0.01, 1.27, 2.54], rel=1e-6)


def test_without_flags_the_core_defaults_apply(plate: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = runner.invoke(app, ["convert", str(plate), "-o", str(tmp_path / "y.stl"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    options = json.loads(report.read_text())["report"]["options"]
    assert [options[k] for k in SENSE] == ["auto", "auto", "auto", "auto", False]
    assert trimesh.load(tmp_path / "y.stl", force="mesh").extents[:2] == pytest.approx([100, 50])


def test_a_bad_value_is_refused_before_any_work(plate: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", str(plate), "-o", str(tmp_path / "y.glb"), "--sheet", "nope"])
    assert result.exit_code == 2 and "--sheet" in result.output
    assert not (tmp_path / "y.glb").exists()


def test_strict_fails_with_the_code_and_the_report_says_why(with_open_line: Path, tmp_path: Path) -> None:
    output, report = tmp_path / "y.glb", tmp_path / "r.json"
    plain = runner.invoke(app, ["convert", str(with_open_line), "-o", str(output)])
    assert plain.exit_code == 0 and "open_outline" in plain.output  # converts, with the warning
    output.unlink()
    result = runner.invoke(
        app, ["convert", str(with_open_line), "-o", str(output), "--strict", "--report", str(report)]
    )
    assert result.exit_code == 1
    assert "strict_warnings" in result.output
    assert not output.exists()
    written = json.loads(report.read_text())
    assert written["error"]["code"] == "strict_warnings" and "open_outline" in written["error"]["message"]
    assert written["options"]["strict"] is True and written["source"] == "open.dxf"


def test_any_failure_writes_the_report(plate: Path, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    args = ["convert", str(plate), "-o", str(tmp_path / "y.glb"), "--layout", "Nowhere", "--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert json.loads(report.read_text())["error"]["code"] == "layout_not_found"


def test_a_pdf_to_3d_passes_the_flags_to_its_dxf_stage(tmp_path: Path) -> None:
    pymupdf = pytest.importorskip("pymupdf")
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    page.draw_rect(pymupdf.Rect(50, 50, 250, 150), color=(0, 0, 0), width=1)
    source = tmp_path / "sheet.pdf"
    source.write_bytes(doc.tobytes())
    report = tmp_path / "r.json"
    args = ["convert", str(source), "-o", str(tmp_path / "y.glb"), "--sheet", "keep", "--views", "all"]
    result = runner.invoke(app, [*args, "--plan", "plain", "--report", str(report)])
    assert result.exit_code == 0, result.output
    options = json.loads(report.read_text())["report"]["dxf"]["options"]
    assert (options["sheet"], options["views"], options["plan"]) == ("keep", "all", "plain")


def test_flags_that_cannot_apply_are_refused(tmp_path: Path) -> None:
    pymupdf = pytest.importorskip("pymupdf")
    doc = pymupdf.open()
    doc.new_page().draw_line((10, 10), (100, 100))
    source = tmp_path / "sheet.pdf"
    source.write_bytes(doc.tobytes())
    # A PDF to DXF has no DXF-core stage: the flag would do nothing, so it is an error, not a no-op.
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "y.dxf"), "--sheet", "keep"])
    assert result.exit_code == 2 and "invalid_options" in result.output and "--sheet" in result.output
    assert main.sense_problem("image", "glb", {"sheet": None, "strict": True}) is not None
    assert main.sense_problem("dxf", "dxf", {"sheet": "keep"}) is None


def test_with_server_the_flags_become_gateway_options(
    plate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []

    def fake_remote(server: str, api_key: str | None, source: Path, options: dict[str, Any], progress: Any) -> Any:
        sent.append(options)
        return ConversionResult([OutputArtifact("model.glb", "model/gltf-binary", b"glTF")], {}, [], "test/1")

    monkeypatch.setattr("cad3d_cli.remote.convert_remote", fake_remote)
    args = ["convert", str(plate), "-o", str(tmp_path / "y.glb"), "--server", "http://gateway", "--strict"]
    result = runner.invoke(app, [*args, "--input-unit", "declared", "--plan", "plain"])
    assert result.exit_code == 0, result.output
    assert sent == [{"format": "glb", "input_unit": "declared", "plan": "plain", "strict": True}]


def test_preview_is_written_after_the_conversion(plate: Path, tmp_path: Path) -> None:
    pytest.importorskip("cad3d_cli.preview")
    from PIL import Image

    preview = tmp_path / "p.png"
    result = runner.invoke(app, ["convert", str(plate), "-o", str(tmp_path / "y.glb"), "--preview", str(preview)])
    assert result.exit_code == 0, result.output
    with Image.open(preview) as image:
        assert image.format == "PNG" and image.width >= 400
