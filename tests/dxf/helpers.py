"""Helpers for the DXF core tests: drawings generated with ezdxf, never committed binaries."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import ezdxf
import trimesh
from ezdxf.document import Drawing

from cad3d_dxf.core import DxfOptions, convert, inspect
from cad3d_kit.conversion import ConversionResult

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def new_doc(version: str = "R2010", units: int = 4) -> Drawing:
    doc = ezdxf.new(version)
    doc.header["$INSUNITS"] = units
    return doc


def dxf_bytes(doc: Drawing) -> bytes:
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode(doc.output_encoding, errors="dxfreplace")


def binary_dxf_bytes(doc: Drawing) -> bytes:
    stream = io.BytesIO()
    doc.write(stream, fmt="bin")  # type: ignore[arg-type]
    return stream.getvalue()


def run(doc: Drawing, **options: Any) -> ConversionResult:
    return convert(dxf_bytes(doc), DxfOptions(**options))


def report(doc: Drawing, **options: Any) -> dict[str, Any]:
    return inspect(dxf_bytes(doc), DxfOptions(**options)).report


def glb_scene(result: ConversionResult) -> trimesh.Scene:
    [artifact] = [a for a in result.artifacts if a.name == "model.glb"]
    return trimesh.load(io.BytesIO(artifact.data), file_type="glb")


def square(x: float, y: float, size: float) -> list[tuple[float, float]]:
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
