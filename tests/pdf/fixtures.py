"""Small PDFs and raster drawings built in code for the pdf core tests (no binary fixtures)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ezdxf
import numpy as np
import pymupdf
from ezdxf.document import Drawing
from PIL import Image

from cad3d_kit.conversion import ConversionResult

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def pdf_bytes(draw: Callable[[pymupdf.Page], None], width: float = 400, height: float = 300, pages: int = 1) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page(width=width, height=height)
        draw(page)
    return doc.tobytes()


def pdf_with_content(content: bytes, width: float = 400, height: float = 300) -> bytes:
    """A one-page PDF whose content stream is exactly ``content`` (raw PDF operators)."""
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.draw_line((0, 0), (1, 1))  # creates a content stream we then replace
    doc.update_stream(page.get_contents()[0], content)
    return doc.tobytes()


def pdf_with_text_content(content: bytes, width: float = 400, height: float = 300, rotation: int = 0) -> bytes:
    """Like ``pdf_with_content``, with Helvetica available to the stream as ``/helv``."""
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.insert_text((0, 0), "x", fontname="helv")  # registers /helv and creates a content stream
    doc.update_stream(page.get_contents()[0], content)
    page.set_rotation(rotation)
    return doc.tobytes()


def read_dxf(result: ConversionResult, name: str = "drawing.dxf") -> Drawing:
    artifact = next(a for a in result.artifacts if a.name == name)
    return ezdxf.read(io.StringIO(artifact.data.decode("utf-8")))


def entities(doc: Drawing, dxftype: str) -> list[Any]:
    return [e for e in doc.modelspace() if e.dxftype() == dxftype]


def drawing_png(width: int = 600, height: int = 400, dpi: int | None = None, fmt: str = "PNG") -> bytes:
    """A clean raster drawing: a rectangle outline, a diagonal line and a circle, 4 px strokes."""
    import cv2

    image = np.full((height, width), 255, dtype=np.uint8)
    cv2.rectangle(image, (50, 50), (550, 350), 0, 4)
    cv2.line(image, (100, 300), (300, 100), 0, 4)
    cv2.circle(image, (420, 200), 80, 0, 4)
    buffer = io.BytesIO()
    save_kwargs = {"dpi": (dpi, dpi)} if dpi else {}
    Image.fromarray(image).save(buffer, format=fmt, **save_kwargs)
    return buffer.getvalue()


def scanned_pdf(png: bytes, width: float = 432, height: float = 288) -> bytes:
    """A 'scan': one page holding only an image, no vector paths."""
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.insert_image(page.rect, stream=png)
    return doc.tobytes()
