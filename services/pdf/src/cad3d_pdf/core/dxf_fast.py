"""Direct DXF tag output for the bulk entity types (LINE, LWPOLYLINE, SPLINE, TEXT) in modelspace.

Why not ezdxf for these: a plotted sheet has thousands of them and creating plus exporting one
ezdxf entity costs about 0.2 ms, which alone would use up the speed target (issue 6: at least
30x faster than Inkscape). The tags written here are exactly those ezdxf writes for the same
entities (same order, same subclass markers); ezdxf still builds the document around them
(header, tables, layers, linetypes, styles, objects) and writes everything else. The tests read
the result back with ezdxf and compare it with the pure-ezdxf output.
"""

from __future__ import annotations

import re

from ezdxf.document import Drawing

from cad3d_pdf.core.model import Point

ENTITIES_HEADER = "  0\nSECTION\n  2\nENTITIES\n"
SECTION_END = "  0\nENDSEC\n"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _num(value: float) -> str:
    return repr(float(value))


def common_tags(layer: str, true_color: int, lineweight: int | None = None, linetype: str | None = None) -> str:
    """The AcDbEntity part shared by every entity of one style (cached by the caller)."""
    tags = f"100\nAcDbEntity\n  8\n{layer}\n"
    if linetype:
        tags += f"  6\n{linetype}\n"
    if lineweight is not None:
        tags += f"370\n{lineweight}\n"
    return tags + f"420\n{true_color}\n"


class RawEntities:
    """Collects entity tags with handles taken from the document's handle generator."""

    def __init__(self, doc: Drawing, owner_handle: str) -> None:
        self._next_handle = doc.entitydb.handles.next
        self._owner = owner_handle
        self._chunks: list[str] = []

    def line(self, start: Point, end: Point, common: str) -> None:
        self._chunks.append(
            f"  0\nLINE\n  5\n{self._next_handle()}\n330\n{self._owner}\n{common}100\nAcDbLine\n"
            f" 10\n{_num(start[0])}\n 20\n{_num(start[1])}\n 30\n0.0\n"
            f" 11\n{_num(end[0])}\n 21\n{_num(end[1])}\n 31\n0.0\n"
        )

    def lwpolyline(self, points: tuple[Point, ...], closed: bool, common: str) -> None:
        vertices = "".join(f" 10\n{_num(x)}\n 20\n{_num(y)}\n" for x, y in points)
        self._chunks.append(
            f"  0\nLWPOLYLINE\n  5\n{self._next_handle()}\n330\n{self._owner}\n{common}100\nAcDbPolyline\n"
            f" 90\n{len(points)}\n 70\n{1 if closed else 0}\n{vertices}"
        )

    def spline(self, control_points: tuple[Point, ...], knots: list[float], common: str) -> None:
        knot_tags = "".join(f" 40\n{_num(k)}\n" for k in knots)
        points = "".join(f" 10\n{_num(x)}\n 20\n{_num(y)}\n 30\n0.0\n" for x, y in control_points)
        self._chunks.append(
            f"  0\nSPLINE\n  5\n{self._next_handle()}\n330\n{self._owner}\n{common}100\nAcDbSpline\n"
            f" 70\n0\n 71\n3\n 72\n{len(knots)}\n 73\n{len(control_points)}\n 74\n0\n{knot_tags}{points}"
        )

    def text(self, text: str, insert: Point, height: float, rotation: float, style: str, common: str) -> None:
        # TEXT is one line: control characters would break the tag stream.
        value = _CONTROL.sub(" ", text)
        rotation_tag = f" 50\n{_num(rotation)}\n" if rotation else ""
        self._chunks.append(
            f"  0\nTEXT\n  5\n{self._next_handle()}\n330\n{self._owner}\n{common}100\nAcDbText\n"
            f" 10\n{_num(insert[0])}\n 20\n{_num(insert[1])}\n 30\n0.0\n 40\n{_num(height)}\n"
            f"  1\n{value}\n{rotation_tag}  7\n{style}\n100\nAcDbText\n"
        )

    def __len__(self) -> int:
        return len(self._chunks)

    def splice_into(self, dxf_text: str) -> str:
        """Append the collected entities at the end of the ENTITIES section of ``dxf_text``.

        At the end, so they draw over the fills ezdxf wrote, as in the PDF's painting order.
        """
        if not self._chunks:
            return dxf_text
        start = dxf_text.index(ENTITIES_HEADER) + len(ENTITIES_HEADER)
        position = dxf_text.index(SECTION_END, start)
        return dxf_text[:position] + "".join(self._chunks) + dxf_text[position:]
