"""Scale, units and calibration; page ranges; one DXF per page vs one layout per page."""

from __future__ import annotations

import io
import json

import ezdxf
import pymupdf
import pytest

from cad3d_kit.conversion import ConversionError
from cad3d_pdf.core import CONVERTER_VERSION, PdfOptions, convert
from cad3d_pdf.core.units import MM_PER_POINT

from .fixtures import entities, pdf_bytes, read_dxf


def _one_line(page: pymupdf.Page) -> None:
    page.draw_line((72, 100), (144, 100))  # one inch long


def _line_length(options: PdfOptions) -> float:
    (line,) = entities(read_dxf(convert(pdf_bytes(_one_line), options)), "LINE")
    return float(line.dxf.start.distance(line.dxf.end))


def test_points_become_millimetres_by_default() -> None:
    assert _line_length(PdfOptions()) == pytest.approx(25.4)


def test_declared_scale_and_unit() -> None:
    # 1:50 in metres: one inch on paper is 1.27 m in reality.
    result = convert(pdf_bytes(_one_line), PdfOptions(scale=50, unit="m"))
    (line,) = entities(read_dxf(result), "LINE")
    assert line.dxf.start.distance(line.dxf.end) == pytest.approx(1.27)
    assert result.report["scale_status"] == "declared"
    assert result.report["pages"][0]["scale_status"] == "declared"
    assert read_dxf(result).header["$INSUNITS"] == 6


def test_calibration_from_two_points_and_a_length() -> None:
    options = PdfOptions.from_mapping(
        {"calibration": {"x1": 72, "y1": 100, "x2": 144, "y2": 100, "length": 2500}, "unit": "mm"}
    )
    result = convert(pdf_bytes(_one_line), options)
    (line,) = entities(read_dxf(result), "LINE")
    assert line.dxf.start.distance(line.dxf.end) == pytest.approx(2500)
    assert result.report["scale_status"] == "calibrated"
    assert result.report["units_per_point"] == pytest.approx(2500 / 72)


def test_unknown_scale_status_by_default() -> None:
    result = convert(pdf_bytes(_one_line), PdfOptions())
    assert result.report["scale_status"] == "unknown"
    assert result.report["units_per_point"] == pytest.approx(MM_PER_POINT)


def _numbered_pages(count: int) -> bytes:
    doc = pymupdf.open()
    for number in range(1, count + 1):
        page = doc.new_page(width=300, height=200)
        for k in range(number):  # page n has n lines, so pages are distinguishable
            page.draw_line((10, 10 + 10 * k), (100, 10 + 10 * k))
        page.insert_text((150, 100), f"PAGE {number}", fontsize=12)
    return doc.tobytes()


def test_file_per_page_names_and_contents() -> None:
    result = convert(_numbered_pages(3), PdfOptions())
    assert [a.name for a in result.artifacts] == ["page-001.dxf", "page-002.dxf", "page-003.dxf"]
    assert all(a.media_type == "image/vnd.dxf" for a in result.artifacts)
    for number in (1, 2, 3):
        doc = read_dxf(result, f"page-{number:03d}.dxf")
        assert len(entities(doc, "LINE")) == number
        assert [t.dxf.text for t in entities(doc, "TEXT")] == [f"PAGE {number}"]
    assert [p["artifact"] for p in result.report["pages"]] == ["page-001.dxf", "page-002.dxf", "page-003.dxf"]


def test_page_range_selects_pages() -> None:
    result = convert(_numbered_pages(5), PdfOptions(pages="2,4-5"))
    assert [a.name for a in result.artifacts] == ["page-002.dxf", "page-004.dxf", "page-005.dxf"]
    assert result.report["page_count"] == 5 and result.report["pages_converted"] == 3
    single = convert(_numbered_pages(5), PdfOptions(pages="3"))
    assert [a.name for a in single.artifacts] == ["drawing.dxf"]
    assert len(entities(read_dxf(single), "LINE")) == 3


def test_invalid_page_range_is_refused() -> None:
    with pytest.raises(ConversionError) as info:
        convert(_numbered_pages(2), PdfOptions(pages="3"))
    assert info.value.code == "invalid_page_range"


def test_layout_per_page_puts_each_page_in_a_paperspace_layout() -> None:
    result = convert(_numbered_pages(3), PdfOptions(page_mode="layout_per_page"))
    assert [a.name for a in result.artifacts] == ["drawing.dxf"]
    doc = ezdxf.read(io.StringIO(result.artifacts[0].data.decode()))
    names = [name for name in doc.layouts.names_in_taborder() if name != "Model"]
    assert names == ["Page 1", "Page 2", "Page 3"]
    for number in (1, 2, 3):
        layout = doc.layouts.get(f"Page {number}")
        assert len(layout.query("LINE")) == number
        assert [t.dxf.text for t in layout.query("TEXT")] == [f"PAGE {number}"]
        assert layout.dxf.limmax.x == pytest.approx(300 * MM_PER_POINT, rel=1e-3)
    assert len(doc.modelspace()) == 0


def test_report_is_json_serialisable_and_complete() -> None:
    result = convert(_numbered_pages(2), PdfOptions())
    report = json.loads(json.dumps(result.report))
    assert report["converter_version"] == CONVERTER_VERSION == result.converter_version
    assert report["input"] == "pdf" and report["vector_pages"] == [1, 2] and report["raster_pages"] == []
    assert report["entities"] == {"LINE": 3, "TEXT": 2}
    first = report["pages"][0]
    for key in ("source", "entities", "text_count", "scale_status", "dropped_duplicates", "warnings", "path_items"):
        assert key in first
    assert first["entities"] == {"LINE": 1, "TEXT": 1}


def test_progress_is_reported_in_order() -> None:
    seen: list[tuple[float, str]] = []
    convert(_numbered_pages(3), PdfOptions(), lambda pct, stage, _msg: seen.append((pct, stage)))
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert [s for _, s in seen].count("page") == 3
