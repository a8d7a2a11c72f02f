"""DWG input through external converters, exercised with stand-in executables.

Real DWG decoding (ODA File Converter, LibreDWG) is not available here and is not verified by
these tests; they check invocation, output pick-up, errors and the timeout.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from cad3d_dxf.core import DwgConfig, DxfOptions, convert
from cad3d_kit.conversion import ConversionError

from .helpers import dxf_bytes, new_doc, square

DWG = b"AC1015" + bytes(200)


def _stand_in(tmp_path: Path, name: str, body: str) -> Path:
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!{sys.executable}\nimport json, pathlib, sys, time\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _sample_dxf(tmp_path: Path) -> Path:
    doc = new_doc()
    doc.modelspace().add_lwpolyline(square(0, 0, 10), close=True, dxfattribs={"layer": "FROM_DWG"})
    path = tmp_path / "sample.dxf"
    path.write_bytes(dxf_bytes(doc))
    return path


@pytest.fixture
def empty_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No converter can be found on PATH: only the stand-ins a test configures explicitly exist.
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def test_dwg_without_converter_says_how_to_enable_one(empty_path: None) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(DWG, DxfOptions(), dwg=DwgConfig())
    assert caught.value.code == "dwg_converter_unavailable"
    assert "ODA File Converter" in caught.value.message and "dwg2dxf" in caught.value.message


def test_configured_but_missing_converter_is_unavailable(empty_path: None, tmp_path: Path) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(DWG, DxfOptions(), dwg=DwgConfig(oda_path=str(tmp_path / "nope"), dwg2dxf_path=str(tmp_path / "no")))
    assert caught.value.code == "dwg_converter_unavailable"


def test_dwg2dxf_is_invoked_and_its_output_converted(empty_path: None, tmp_path: Path) -> None:
    sample = _sample_dxf(tmp_path)
    log = tmp_path / "args.json"
    script = _stand_in(
        tmp_path,
        "dwg2dxf",
        f"args = sys.argv[1:]\npathlib.Path({str(log)!r}).write_text(json.dumps(args))\n"
        f"target = pathlib.Path(args[args.index('-o') + 1])\n"
        f"assert pathlib.Path(args[-1]).read_bytes().startswith(b'AC1015')\n"
        f"target.write_bytes(pathlib.Path({str(sample)!r}).read_bytes())",
    )
    result = convert(DWG, DxfOptions(height=1), dwg=DwgConfig(dwg2dxf_path=str(script)))
    args = json.loads(log.read_text())
    assert args[0] == "-y" and args[-1].endswith(".dwg")
    assert result.report["input"]["converted_from_dwg"] is True
    assert result.report["input"]["dwg_converter"] == "dwg2dxf"
    assert result.report["total_volume"] == pytest.approx(100)


def test_dwg2dxf_is_found_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sample = _sample_dxf(tmp_path)
    script = _stand_in(
        tmp_path,
        "dwg2dxf",
        f"args = sys.argv[1:]\npathlib.Path(args[args.index('-o') + 1]).write_bytes("
        f"pathlib.Path({str(sample)!r}).read_bytes())",
    )
    monkeypatch.setenv("PATH", str(script.parent))
    result = convert(DWG, DxfOptions(height=1))
    assert result.report["input"]["dwg_converter"] == "dwg2dxf"


def test_oda_converter_gets_folders_and_is_preferred(empty_path: None, tmp_path: Path) -> None:
    sample = _sample_dxf(tmp_path)
    log = tmp_path / "oda.json"
    oda = _stand_in(
        tmp_path,
        "ODAFileConverter",
        f"args = sys.argv[1:]\npathlib.Path({str(log)!r}).write_text(json.dumps(args))\n"
        f"out = pathlib.Path(args[1]) / pathlib.Path(args[6]).with_suffix('.dxf').name\n"
        f"out.write_bytes(pathlib.Path({str(sample)!r}).read_bytes())",
    )
    never = _stand_in(tmp_path, "dwg2dxf", "sys.exit(3)")
    result = convert(DWG, DxfOptions(height=1), dwg=DwgConfig(oda_path=str(oda), dwg2dxf_path=str(never)))
    args = json.loads(log.read_text())
    assert args[2:6] == ["ACAD2018", "DXF", "0", "1"]
    assert Path(args[0]).is_absolute() and Path(args[1]).is_absolute()
    assert result.report["input"]["dwg_converter"] == "oda"


def test_converter_failure_is_dwg_conversion_failed_with_its_message(empty_path: None, tmp_path: Path) -> None:
    script = _stand_in(tmp_path, "dwg2dxf", "sys.stderr.write('ERROR 0x40: bad section map\\n')\nsys.exit(1)")
    with pytest.raises(ConversionError) as caught:
        convert(DWG, DxfOptions(), dwg=DwgConfig(dwg2dxf_path=str(script)))
    assert caught.value.code == "dwg_conversion_failed"
    assert "bad section map" in caught.value.message and "exit code 1" in caught.value.message


def test_converter_output_that_is_not_dxf_is_unreadable(empty_path: None, tmp_path: Path) -> None:
    script = _stand_in(
        tmp_path, "dwg2dxf", "args = sys.argv[1:]\npathlib.Path(args[args.index('-o') + 1]).write_text('garbage')"
    )
    with pytest.raises(ConversionError) as caught:
        convert(DWG, DxfOptions(), dwg=DwgConfig(dwg2dxf_path=str(script)))
    assert caught.value.code == "dxf_unreadable"


def test_hanging_converter_times_out(empty_path: None, tmp_path: Path) -> None:
    script = _stand_in(tmp_path, "dwg2dxf", "time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(ConversionError) as caught:
        convert(DWG, DxfOptions(), dwg=DwgConfig(dwg2dxf_path=str(script), timeout_seconds=0.5))
    assert caught.value.code == "dwg_conversion_timeout"
    assert time.monotonic() - started < 10


def test_dwg_is_detected_by_content_not_name(empty_path: None) -> None:
    assert os.environ["PATH"]
    with pytest.raises(ConversionError) as caught:
        convert(b"AC1032" + bytes(64), DxfOptions())
    assert caught.value.code == "dwg_converter_unavailable"
