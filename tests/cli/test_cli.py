"""`cad3d convert` in-process: no server running, the same cores as the services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh
from typer.testing import CliRunner

from cad3d_cli.main import app
from tests.support.fixtures import plate_with_hole

runner = CliRunner()


@pytest.fixture
def plate(tmp_path: Path) -> Path:
    path = tmp_path / "plate.dxf"
    path.write_bytes(plate_with_hole(100, 50, 20))
    return path


def test_help_explains_both_modes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "in this process" in result.output and "--server" in result.output
    sub = runner.invoke(app, ["convert", "--help"])
    assert sub.exit_code == 0 and "--api-key" in sub.output and "--report" in sub.output


@pytest.mark.parametrize("suffix", [".glb", ".stl", ".obj"])
def test_drawing_to_each_mesh_format(plate: Path, tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"out{suffix}"
    report = tmp_path / "report.json"
    result = runner.invoke(app, ["convert", str(plate), "-o", str(output), "--height", "10", "--report", str(report)])
    assert result.exit_code == 0, result.output
    mesh = trimesh.load(output, force="mesh")
    assert mesh.is_watertight
    # glTF is in metres by specification; STL and OBJ keep the output unit (mm).
    to_mm3 = 1e9 if suffix == ".glb" else 1.0
    assert mesh.volume * to_mm3 == pytest.approx((100 * 50 - 20 * 20) * 10, rel=1e-6)
    assert "report" in json.loads(report.read_text())
    if suffix == ".obj":
        assert (tmp_path / "out.mtl").exists() and "mtllib out.mtl" in output.read_text()


def test_format_from_to_option_and_bad_extension(plate: Path, tmp_path: Path) -> None:
    bad = runner.invoke(app, ["convert", str(plate), "-o", str(tmp_path / "out.xyz")])
    assert bad.exit_code != 0 and "--to" in bad.output
    ok = runner.invoke(app, ["convert", str(plate), "-o", str(tmp_path / "out.bin"), "--to", "stl"])
    assert ok.exit_code == 0, ok.output
    assert trimesh.load(tmp_path / "out.bin", file_type="stl").is_watertight


def test_unsupported_input_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello")
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "x.glb")])
    assert result.exit_code == 2 and "unsupported_media_type" in result.output


def test_conversion_error_exit_code_and_code(tmp_path: Path) -> None:
    source = tmp_path / "broken.dxf"
    source.write_bytes(b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\nnot-a-number\n")
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "x.glb")])
    assert result.exit_code == 1
    assert "dxf_unreadable" in result.output or "nothing_to_extrude" in result.output
