"""DWG -> DXF through an external converter: the ODA File Converter or LibreDWG's dwg2dxf.

We run the executables ourselves rather than through ``ezdxf.addons.odafc.readfile`` because that
helper has no timeout (a stuck converter would hang the worker) and reads its path from global
ezdxf options; the command line is the one odafc documents. Real DWG decoding is not verified by
this repository's tests: they use stand-in executables for invocation, timeout and errors.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .errors import (
    DWG_CONVERSION_FAILED,
    DWG_CONVERSION_TIMEOUT,
    DWG_CONVERTER_UNAVAILABLE,
    ConversionError,
    ErrorKind,
)
from .options import DwgConfig

ENABLE_HINT = (
    "install the ODA File Converter and set its path (dxf service setting oda_path), "
    "or install LibreDWG so that 'dwg2dxf' is on PATH"
)
_STDERR_TAIL = 600


def _find(configured: str | None, default_name: str) -> str | None:
    if configured:
        return configured if Path(configured).is_file() and os.access(configured, os.X_OK) else None
    return shutil.which(default_name)


def available_converter(config: DwgConfig) -> tuple[str, str] | None:
    """("oda" | "dwg2dxf", executable) of the first usable converter, ODA preferred."""
    oda = _find(config.oda_path, "ODAFileConverter")
    if oda:
        return "oda", oda
    dwg2dxf = _find(config.dwg2dxf_path, "dwg2dxf")
    if dwg2dxf:
        return "dwg2dxf", dwg2dxf
    return None


def _run(command: list[str], cwd: str, timeout: float) -> tuple[int, bytes]:
    """Run in its own process group so a timeout also kills whatever the converter started."""
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return process.returncode, stderr


def dwg_to_dxf(data: bytes, config: DwgConfig) -> tuple[bytes, str]:
    """Convert DWG bytes to DXF bytes; returns the DXF and the converter's name."""
    found = available_converter(config)
    if found is None:
        raise ConversionError(
            DWG_CONVERTER_UNAVAILABLE,
            f"the input is a DWG file and no DWG converter is available: {ENABLE_HINT}",
            ErrorKind.PRECONDITION,
        )
    kind, executable = found
    with tempfile.TemporaryDirectory(prefix="cad3d-dwg-") as tmp:
        in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        in_dir.mkdir()
        out_dir.mkdir()
        source = in_dir / "drawing.dwg"
        source.write_bytes(data)
        target = out_dir / "drawing.dxf"
        if kind == "oda":
            # ODAFileConverter "in folder" "out folder" version type recurse audit filter
            command = [executable, str(in_dir), str(out_dir), "ACAD2018", "DXF", "0", "1", "drawing.dwg"]
        else:
            command = [executable, "-y", "-o", str(target), str(source)]
        try:
            returncode, stderr_bytes = _run(command, tmp, config.timeout_seconds)
        except subprocess.TimeoutExpired:
            raise ConversionError(
                DWG_CONVERSION_TIMEOUT,
                f"{kind} did not finish converting the DWG within {config.timeout_seconds:g} s",
                ErrorKind.DEADLINE,
            ) from None
        except OSError as exc:
            raise ConversionError(
                DWG_CONVERTER_UNAVAILABLE, f"cannot run {executable}: {exc}; {ENABLE_HINT}", ErrorKind.PRECONDITION
            ) from None
        stderr = stderr_bytes.decode("utf-8", errors="replace").strip()[-_STDERR_TAIL:]
        if not target.is_file() or target.stat().st_size == 0:
            raise ConversionError(
                DWG_CONVERSION_FAILED,
                f"{kind} could not convert the DWG (exit code {returncode}): {stderr or 'no output'}",
                ErrorKind.INVALID_INPUT,
            )
        # dwg2dxf exits non-zero on recoverable decode errors but still writes a usable DXF;
        # whether it is usable is decided by the DXF reader, which has recover mode.
        return target.read_bytes(), kind
