"""Functions run inside isolated workers by the isolation tests (imported by name in the worker)."""

from __future__ import annotations

import time

from cad3d_kit.conversion import ConversionError, ConversionResult, OutputArtifact, ProgressCallback


def echo(data: bytes, *, progress: ProgressCallback, pause: float = 0.0) -> ConversionResult:
    for step in (25.0, 50.0, 75.0):
        time.sleep(pause)
        progress(step, "work", f"{step:.0f}%")
    return ConversionResult([OutputArtifact("echo.bin", "application/octet-stream", data[::-1])], {"size": len(data)})


def sleep_for(seconds: float, *, progress: ProgressCallback) -> ConversionResult:
    time.sleep(seconds)
    return ConversionResult([], {"slept": seconds})


def allocate(megabytes: int, *, progress: ProgressCallback) -> ConversionResult:
    blob = bytearray(megabytes * 1024 * 1024)
    return ConversionResult([], {"allocated": len(blob)})


def refuse(*, progress: ProgressCallback) -> ConversionResult:
    raise ConversionError("bad_input", "refused on purpose")
