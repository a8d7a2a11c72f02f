"""Error constructors shared by the core and the backends (stable codes live here)."""

from __future__ import annotations

from cad3d_kit.conversion import ConversionError, ErrorKind


def model_unavailable(message: str) -> ConversionError:
    return ConversionError("model_unavailable", message, ErrorKind.UNAVAILABLE)


def inference_failed(message: str) -> ConversionError:
    return ConversionError("inference_failed", message, ErrorKind.INTERNAL)


def inference_timeout(message: str) -> ConversionError:
    return ConversionError("inference_timeout", message, ErrorKind.DEADLINE)
