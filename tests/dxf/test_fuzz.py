"""Damaged input never crashes the core: a result, or a ConversionError with a documented code."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cad3d_dxf.core import ALL_ERROR_CODES, DxfOptions, convert
from cad3d_kit.conversion import ConversionError

from .helpers import dxf_bytes, new_doc, square


def _sample() -> bytes:
    doc = new_doc("R2000")
    msp = doc.modelspace()
    msp.add_lwpolyline(square(0, 0, 100), close=True, dxfattribs={"layer": "PLATE"})
    msp.add_circle((50, 50), 10, dxfattribs={"layer": "PLATE"})
    msp.add_lwpolyline(
        [(200, 0, 0, 0, 0.5), (300, 0, 0, 0, 0), (300, 80, 0, 0, -1), (200, 80)], format="xyseb", close=True
    )
    for k in range(6):
        a = k * math.tau / 6
        msp.add_line(
            (400 + 50 * math.cos(a), 50 * math.sin(a)),
            (400 + 50 * math.cos(a + math.tau / 6), 50 * math.sin(a + math.tau / 6)),
        )
    block = doc.blocks.new("B", base_point=(5, 5))
    block.add_circle((5, 5), 3)
    block.add_lwpolyline(square(0, 0, 10), close=True)
    msp.add_blockref("B", (600, 0), dxfattribs={"xscale": 2, "rotation": 30})
    hatch = msp.add_hatch()
    hatch.paths.add_polyline_path(square(700, 0, 50), is_closed=True)
    msp.add_ellipse((900, 0), major_axis=(40, 0), ratio=0.5)
    msp.add_text("label")
    return dxf_bytes(doc)


SAMPLE = _sample()
LINES = SAMPLE.split(b"\n")
# Most edits land in BLOCKS/ENTITIES, where the geometry is; some anywhere (header, tables).
GEOMETRY_START = LINES.index(b"BLOCKS")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(GEOMETRY_START, len(LINES) - 1), st.integers(0, len(LINES) - 1)),
            st.sampled_from([b"", b"0", b"-1", b"1e308", b"nan", b"inf", b"-1e-300", b"ENDSEC", b"\xff\xfe", b"999"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_mutated_drawings_convert_or_fail_with_a_documented_code(edits: list[tuple[int, bytes]]) -> None:
    lines = list(LINES)
    for index, value in edits:
        lines[index] = value
    try:
        result = convert(b"\n".join(lines), DxfOptions(format="stl"))
    except ConversionError as exc:
        # internal_error is the safety net for bugs: damaged input must get a real code.
        assert exc.code in ALL_ERROR_CODES and exc.code != "internal_error", exc.message
        return
    assert result.report["parts"]["all_watertight"]
    assert result.artifacts and result.artifacts[0].size > 84


@settings(max_examples=40, deadline=None)
@given(st.integers(1, len(SAMPLE) - 1))
def test_truncated_drawings_convert_or_fail_with_a_documented_code(cut: int) -> None:
    try:
        convert(SAMPLE[:cut], DxfOptions())
    except ConversionError as exc:
        assert exc.code in ALL_ERROR_CODES and exc.code != "internal_error", exc.message
