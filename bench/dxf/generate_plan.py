"""Generate a large synthetic floor plan for the DXF benchmark (no committed binaries).

Each grid cell is a room: walls drawn as loose LINEs on both faces (the wall network is found by
polygonising), a column CIRCLE, a door swing ARC, a table LWPOLYLINE, two chair INSERTs, a TEXT
label. That is ten modelspace entities per cell, so ``cells`` of 100 x 100 gives 100,000.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import ezdxf
from ezdxf.document import Drawing

CELL = 4000.0  # mm
WALL = 200.0


def make_plan(columns: int, rows: int) -> Drawing:
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    for name, color in (("WALLS", 7), ("COLUMNS", 3), ("DOORS", 2), ("FURNITURE", 5), ("TEXT", 1)):
        doc.layers.add(name, color=color)
    chair = doc.blocks.new("CHAIR", base_point=(250, 250))
    chair.add_lwpolyline([(0, 0), (500, 0), (500, 500), (0, 500)], close=True)
    chair.add_lwpolyline([(0, 450), (500, 450), (500, 550), (0, 550)], close=True)
    msp = doc.modelspace()
    half = WALL / 2.0
    for row in range(rows):
        for col in range(columns):
            x0, y0 = col * CELL, row * CELL
            # Room outline (inner faces of the walls); the outer faces come from the neighbours
            # and from the building outline below.
            a, b = (x0 + half, y0 + half), (x0 + CELL - half, y0 + half)
            c, d = (x0 + CELL - half, y0 + CELL - half), (x0 + half, y0 + CELL - half)
            for start, end in ((a, b), (b, c), (c, d), (d, a)):
                msp.add_line(start, end, dxfattribs={"layer": "WALLS"})
            msp.add_circle((x0 + CELL - 600, y0 + CELL - 600), 150, dxfattribs={"layer": "COLUMNS"})
            msp.add_arc((x0 + half, y0 + 1000), 800, 0, 90, dxfattribs={"layer": "DOORS"})
            msp.add_lwpolyline(
                [(x0 + 1500, y0 + 1500), (x0 + 2500, y0 + 1500), (x0 + 2500, y0 + 2200), (x0 + 1500, y0 + 2200)],
                close=True,
                dxfattribs={"layer": "FURNITURE"},
            )
            msp.add_blockref("CHAIR", (x0 + 1800, y0 + 1200), dxfattribs={"layer": "FURNITURE"})
            msp.add_blockref("CHAIR", (x0 + 2200, y0 + 2500), dxfattribs={"layer": "FURNITURE", "rotation": 180})
            msp.add_text(f"R{row}-{col}", dxfattribs={"layer": "TEXT", "insert": (x0 + 300, y0 + 300)})
    w, h = columns * CELL, rows * CELL
    outline = [(-half, -half), (w + half, -half), (w + half, h + half), (-half, h + half)]
    for start, end in zip(outline, outline[1:] + outline[:1], strict=True):
        msp.add_line(start, end, dxfattribs={"layer": "WALLS"})
    return doc


def plan_bytes(columns: int, rows: int) -> bytes:
    stream = io.StringIO()
    make_plan(columns, rows).write(stream)
    return stream.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--rows", type=int, default=100)
    args = parser.parse_args()
    args.output.write_bytes(plan_bytes(args.columns, args.rows))


if __name__ == "__main__":
    main()
