"""Helpers for the DXF core tests: drawings generated with ezdxf, never committed binaries."""

from __future__ import annotations

import io
from pathlib import Path

import ezdxf
from ezdxf.document import Drawing

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def new_doc(version: str = "R2010", units: int = 4) -> Drawing:
    doc = ezdxf.new(version)
    doc.header["$INSUNITS"] = units
    return doc


def dxf_bytes(doc: Drawing) -> bytes:
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode(doc.output_encoding, errors="dxfreplace")
