"""The DXF we write: the direct tag writer matches ezdxf's own output and passes ezdxf's audit."""

from __future__ import annotations

import io

import ezdxf
import pytest
from ezdxf import bbox

from cad3d_pdf.core import PdfOptions, convert
from cad3d_pdf.core.dxf_fast import RawEntities
from cad3d_pdf.core.dxf_writer import LayoutWriter, document_bytes, lineweight, new_document
from cad3d_pdf.core.model import BezierSpline, Line, PageDrawing, Polyline, Stroke, Text

from .fixtures import CORPUS


def _page() -> PageDrawing:
    solid = Stroke("STROKE_FF0000_0.35MM", (255, 0, 0), 0.35)
    dashed = Stroke("Walls", (0, 0, 0), 0.5, dashes=(2.0, 1.0))
    drawing = PageDrawing(width=200.0, height=100.0)
    drawing.lines = [Line((0.0, 0.0), (10.5, 3.25), solid), Line((1e-7, 5.0), (123456.789, 5.0), dashed)]
    drawing.polylines = [
        Polyline(((0.0, 0.0), (1.0, 2.0), (3.0, 1.0)), True, solid),
        Polyline(((5.0, 5.0), (6.0, 6.0), (7.0, 5.5)), False, dashed),
    ]
    drawing.texts = [
        Text("Ø 12 H7 \u2013 Ü", (10.0, 20.0), 2.5, 0.0, "ABCDEF+Arial-BoldMT", (0, 0, 255), "TEXT"),
        Text("VIEW A-A", (30.0, 40.0), 3.5, 90.0, "Helvetica", (0, 0, 0), "TEXT"),
    ]
    drawing.splines = [
        BezierSpline(((0.0, 0.0), (1.0, 2.0), (3.0, 2.0), (4.0, 0.0)), solid),
        BezierSpline(((0.0, 0.0), (1.0, 2.0), (3.0, 2.0), (4.0, 0.0), (5.0, -2.0), (7.0, -2.0), (8.0, 0.0)), dashed),
    ]
    drawing.raster_lines = [((1.0, 1.0), (50.0, 1.0))]
    return drawing


def _write(fast: bool) -> ezdxf.document.Drawing:
    doc = new_document("mm")
    msp = doc.modelspace()
    raw = RawEntities(doc, msp.block_record_handle) if fast else None
    LayoutWriter(doc, msp, raw).write(_page())
    return ezdxf.read(io.StringIO(document_bytes(doc, raw).decode("utf-8")))


def _signature(doc: ezdxf.document.Drawing) -> list[tuple[str, dict[str, object]]]:
    rows = []
    for entity in doc.modelspace():
        attribs = {k: v for k, v in entity.dxfattribs().items() if k not in ("handle", "owner")}
        if entity.dxftype() == "LWPOLYLINE":
            attribs["points"] = list(entity.get_points("xy"))  # type: ignore[attr-defined]
        if entity.dxftype() == "SPLINE":
            attribs["control_points"] = [tuple(p) for p in entity.control_points]  # type: ignore[attr-defined]
            attribs["knots"] = list(entity.knots)  # type: ignore[attr-defined]
        rows.append((entity.dxftype(), attribs))
    return sorted(rows, key=repr)


def test_direct_writer_matches_ezdxf_entities() -> None:
    assert _signature(_write(fast=True)) == _signature(_write(fast=False))


def test_direct_writer_output_passes_the_audit() -> None:
    doc = _write(fast=True)
    auditor = doc.audit()
    assert not auditor.has_errors and not auditor.has_fixes
    handles = [e.dxf.handle for e in doc.entitydb.values()]
    assert len(handles) == len(set(handles))
    # New entities get fresh handles: $HANDSEED was advanced past the directly written ones.
    new = doc.modelspace().add_line((0, 0), (1, 1))
    assert new.dxf.handle not in handles[:-1]
    assert int(doc.header["$HANDSEED"], 16) > max(int(h, 16) for h in handles)


def test_text_with_control_characters_stays_one_line() -> None:
    doc = new_document("mm")
    msp = doc.modelspace()
    raw = RawEntities(doc, msp.block_record_handle)
    drawing = PageDrawing(width=10.0, height=10.0)
    drawing.texts = [Text("tab\there\nand 0\n", (1.0, 1.0), 2.0, 0.0, "ABCDEF+Arial-BoldMT", (0, 0, 0), "TEXT")]
    LayoutWriter(doc, msp, raw).write(drawing)
    out = ezdxf.read(io.StringIO(document_bytes(doc, raw).decode("utf-8")))
    (text,) = out.modelspace().query("TEXT")
    assert text.dxf.text == "tab here and 0 "
    assert text.dxf.style == "Arial-BoldMT"  # subset prefix dropped
    assert out.styles.get("Arial-BoldMT").dxf.font == "Arial-BoldMT.ttf"


@pytest.mark.parametrize(
    ("width_mm", "expected"), [(0.0, 0), (0.01, 0), (0.03, 5), (0.1, 9), (0.35, 35), (0.5, 50), (3.0, 211)]
)
def test_lineweight_mapping(width_mm: float, expected: int) -> None:
    assert lineweight(width_mm) == expected


@pytest.mark.corpus
def test_corpus_pdfs_convert_to_plausible_dxf() -> None:
    paths = sorted((CORPUS / "pdf").glob("*.pdf"))
    if not paths:
        pytest.skip("shared corpus not available")
    for path in paths:
        result = convert(path.read_bytes(), PdfOptions())
        report = result.report
        assert report["vector_pages"] == [1] and not result.warnings, path.name
        doc = ezdxf.read(io.StringIO(result.artifacts[0].data.decode("utf-8")))
        auditor = doc.audit()
        assert not auditor.has_errors, path.name
        msp = doc.modelspace()
        entities = report["entities"]
        # SolidWorks A4 sheets: hundreds of lines, text kept as text (no outlined glyphs).
        assert entities.get("LINE", 0) + entities.get("LWPOLYLINE", 0) >= 200, path.name
        assert report["text_count"] >= 100, path.name
        assert sum(entities.values()) == len(msp), path.name
        box = bbox.extents(msp, fast=True)
        extmin, extmax = box.extmin, box.extmax
        # Everything lies on the A4 landscape sheet (297 x 210 mm) and uses most of it.
        assert extmin.x >= -0.5 and extmin.y >= -0.5 and extmax.x <= 297.5 and extmax.y <= 210.5, path.name
        assert extmax.x - extmin.x > 200 and extmax.y - extmin.y > 120, path.name
        texts = [e.dxf.text for e in msp.query("TEXT")]
        assert any(t.strip().isdigit() for t in texts), path.name  # dimension values
