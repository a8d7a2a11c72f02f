"""Hostile and broken input: every refusal has a stable code, nothing embedded is run or extracted."""

from __future__ import annotations

import time
import zlib

import pymupdf
import pytest

from cad3d_kit.conversion import ConversionError, ErrorKind
from cad3d_pdf.core import PdfLimits, PdfOptions, convert

from .fixtures import drawing_png, entities, pdf_bytes, pdf_with_content, read_dxf, scanned_pdf


def _simple_pdf() -> bytes:
    def draw(page: pymupdf.Page) -> None:
        page.draw_line((10, 10), (100, 100))
        page.insert_text((50, 50), "TITLE BLOCK", fontsize=11)

    return pdf_bytes(draw)


def _code(data: bytes, options: PdfOptions | None = None, limits: PdfLimits | None = None) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        convert(data, options or PdfOptions(), limits=limits or PdfLimits())
    return info.value


def _encrypted() -> bytes:
    doc = pymupdf.open(stream=_simple_pdf())
    aes256 = pymupdf.PDF_ENCRYPT_AES_256  # type: ignore[attr-defined]
    return doc.tobytes(encryption=aes256, user_pw="s3cret", owner_pw="owner-pw")


def test_encrypted_pdf_needs_a_password() -> None:
    error = _code(_encrypted())
    assert error.code == "pdf_encrypted" and "password" in error.message
    assert error.kind == ErrorKind.INVALID_INPUT


def test_encrypted_pdf_with_wrong_password() -> None:
    error = _code(_encrypted(), PdfOptions(password="guess"))
    assert error.code == "pdf_encrypted" and "wrong" in error.message


def test_encrypted_pdf_with_the_password_converts() -> None:
    result = convert(_encrypted(), PdfOptions(password="s3cret"))
    doc = read_dxf(result)
    assert len(entities(doc, "LINE")) == 1
    assert [t.dxf.text for t in entities(doc, "TEXT")] == ["TITLE BLOCK"]


@pytest.mark.parametrize("keep", [0.05, 0.3])
def test_truncated_beyond_repair_is_refused(keep: float) -> None:
    data = _simple_pdf()
    assert _code(data[: int(len(data) * keep)]).code == "pdf_unreadable"


def test_truncated_tail_is_repaired_with_a_warning() -> None:
    data = _simple_pdf()
    result = convert(data[: int(len(data) * 0.9)], PdfOptions())
    assert "pdf_repaired" in {w.code for w in result.warnings}
    assert len(entities(read_dxf(result), "LINE")) == 1


def test_broken_xref_is_repaired() -> None:
    data = _simple_pdf().replace(b"startxref", b"startxref\n999999\n%%", 1)
    result = convert(data, PdfOptions())
    assert "pdf_repaired" in {w.code for w in result.warnings}
    assert result.report["entities"] == {"LINE": 1, "TEXT": 1}


def test_garbage_after_a_pdf_header_is_refused() -> None:
    assert _code(b"%PDF-1.7\n" + bytes(range(256)) * 40).code == "pdf_unreadable"


def test_page_tree_that_lies_about_its_size_is_refused() -> None:
    lying = (
        b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type/Pages/Count 1000000/Kids[3 0 R]>> endobj\n"
        b"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>> endobj\n"
        b"trailer <</Root 1 0 R>>\n%%EOF"
    )
    started = time.monotonic()
    assert _code(lying).code == "pdf_unreadable"
    assert time.monotonic() - started < 10  # refused up front, not page by page


def test_too_many_pages() -> None:
    data = pdf_bytes(lambda page: None, pages=250)
    error = _code(data)
    assert error.code == "pdf_too_many_pages" and error.kind == ErrorKind.RESOURCE_EXHAUSTED
    # A range inside the limit is fine.
    assert convert(data, PdfOptions(pages="1-3")).report["pages_converted"] == 3
    assert _code(data, limits=PdfLimits(max_pages=2), options=PdfOptions(pages="1-3")).code == "pdf_too_many_pages"


def test_too_many_objects_on_a_page() -> None:
    def draw(page: pymupdf.Page) -> None:
        for k in range(20):
            page.draw_line((10, 10 + k), (100, 10 + k))

    error = _code(pdf_bytes(draw), limits=PdfLimits(max_objects_per_page=10))
    assert error.code == "pdf_too_complex" and error.kind == ErrorKind.RESOURCE_EXHAUSTED


def test_decompression_bomb_is_stopped_early() -> None:
    # 64 MiB of blanks deflate to ~64 KiB; the limit is 8 MiB.
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.compress(b"0 0 m 10 10 l S")
    bomb += compressor.flush()
    doc = pymupdf.open(stream=pdf_with_content(b"0 0 m 1 1 l S"))
    xref = doc[0].get_contents()[0]
    doc.update_stream(xref, bomb, compress=False)
    doc.xref_set_key(xref, "Filter", "/FlateDecode")
    data = doc.tobytes()
    assert len(data) < 200_000
    error = _code(data, limits=PdfLimits(max_decompressed_bytes=8 << 20))
    assert error.code == "pdf_too_complex" and "decompresses" in error.message
    assert error.location.page == 1


def test_page_timeout() -> None:
    error = _code(_simple_pdf(), limits=PdfLimits(page_timeout_seconds=0.0))
    assert error.code == "pdf_page_timeout" and error.kind == ErrorKind.DEADLINE
    assert error.location.page == 1


def test_oversized_image_on_a_scanned_page_is_refused() -> None:
    error = _code(scanned_pdf(drawing_png()), limits=PdfLimits(max_image_pixels=100_000))
    assert error.code == "pdf_too_complex" and "pixels" in error.message


def test_javascript_launch_actions_and_embedded_files_are_ignored() -> None:
    doc = pymupdf.open(stream=_simple_pdf())
    payload = b"MZ-PAYLOAD-MARKER-0123456789"
    doc.embfile_add("payload.exe", payload, filename="payload.exe")
    script = doc.get_new_xref()
    doc.update_object(script, "<</S/JavaScript/JS(app.alert\\('MARKER-JS'\\);)>>")
    doc.xref_set_key(doc.pdf_catalog(), "OpenAction", f"{script} 0 R")
    doc[0].insert_link({"kind": pymupdf.LINK_LAUNCH, "from": pymupdf.Rect(0, 0, 50, 50), "file": "calc.exe"})
    result = convert(doc.tobytes(), PdfOptions())
    codes = {w.code for w in result.warnings}
    assert {"embedded_files_ignored", "active_content_ignored"} <= codes
    assert [a.name for a in result.artifacts] == ["drawing.dxf"]
    for artifact in result.artifacts:
        assert payload not in artifact.data and b"MARKER-JS" not in artifact.data and b"calc.exe" not in artifact.data
    assert result.report["entities"] == {"LINE": 1, "TEXT": 1}


def test_content_mupdf_cannot_interpret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # MuPDF raising mid-page cannot be produced on demand with a small file: fail its extraction.
    def broken(self: pymupdf.Page, *args: object, **kwargs: object) -> None:
        raise RuntimeError("code=2: syntax error in content stream")

    monkeypatch.setattr(pymupdf.Page, "get_cdrawings", broken)
    error = _code(_simple_pdf())
    assert error.code == "pdf_unreadable" and error.location.page == 1
