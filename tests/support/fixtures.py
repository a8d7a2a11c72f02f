"""Small drawings made on the fly with ezdxf (no binary fixtures in the repo)."""

from __future__ import annotations

import io

import ezdxf


def dxf_bytes(doc: ezdxf.document.Drawing) -> bytes:
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode(doc.output_encoding)


def plate_with_hole(width: float = 100, depth: float = 50, hole: float = 20) -> bytes:
    """A rectangle with a square hole, in millimetres: area = width*depth - hole**2."""
    doc = ezdxf.new("R2010", units=4)  # 4 = millimetres
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (width, 0), (width, depth), (0, depth)], close=True)
    x0, y0 = (width - hole) / 2, (depth - hole) / 2
    msp.add_lwpolyline([(x0, y0), (x0 + hole, y0), (x0 + hole, y0 + hole), (x0, y0 + hole)], close=True)
    return dxf_bytes(doc)


def many_squares(count: int, size: float = 10) -> bytes:
    """``count`` separate closed squares: enough work to keep a conversion busy for a while."""
    doc = ezdxf.new("R2010", units=4)
    msp = doc.modelspace()
    per_row = max(1, int(count**0.5))
    for i in range(count):
        x, y = (i % per_row) * size * 2, (i // per_row) * size * 2
        msp.add_lwpolyline([(x, y), (x + size, y), (x + size, y + size), (x, y + size)], close=True)
    return dxf_bytes(doc)
