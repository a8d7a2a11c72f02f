"""Opening PDFs safely: passwords, repair, hostile-content checks and size limits.

MuPDF never runs JavaScript, launch actions or embedded files; this module never asks it to
extract them either, and reports their presence as warnings so users know they were ignored.
"""

from __future__ import annotations

import zlib

import pymupdf

from cad3d_kit.conversion import ConversionError, ConversionWarning, ErrorKind, SourceLocation

# Read compressed streams in slices so a decompression bomb is stopped after ``limit`` bytes
# instead of being expanded in memory.
_INFLATE_CHUNK = 1 << 20


def open_pdf(data: bytes, password: str | None) -> tuple[pymupdf.Document, list[ConversionWarning]]:
    # MuPDF prints repair messages to stderr by default; keep them for the report instead.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_warnings(reset=True)
    warnings: list[ConversionWarning] = []
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except (RuntimeError, ValueError) as exc:  # pymupdf.FileDataError is a RuntimeError
        raise ConversionError("pdf_unreadable", f"not a readable PDF: {exc}") from exc
    if doc.needs_pass:
        if not password:
            doc.close()
            raise ConversionError("pdf_encrypted", "the PDF is encrypted; a password is required")
        if not doc.authenticate(password):
            doc.close()
            raise ConversionError("pdf_encrypted", "the PDF is encrypted and the password is wrong")
    try:
        page_count = doc.page_count
    except RuntimeError as exc:
        raise ConversionError("pdf_unreadable", f"cannot read the page tree: {exc}") from exc
    if page_count == 0:
        doc.close()
        raise ConversionError("pdf_unreadable", "the PDF has no readable pages (damaged beyond repair?)")
    if doc.is_repaired:
        details = "; ".join(pymupdf.TOOLS.mupdf_warnings(reset=True).splitlines()[:3])
        warnings.append(ConversionWarning("pdf_repaired", f"the PDF was damaged and repaired by MuPDF ({details})"))
    warnings.extend(_ignored_active_content(doc))
    warnings.extend(_hidden_layers(doc))
    return doc, warnings


def _hidden_layers(doc: pymupdf.Document) -> list[ConversionWarning]:
    """MuPDF renders and extracts only visible optional content; say which layers were left out."""
    try:
        hidden = sorted({str(group.get("name", "")) for group in doc.get_ocgs().values() if not group.get("on")})
    except RuntimeError:
        return []
    if not hidden:
        return []
    return [ConversionWarning("hidden_layers_skipped", f"layers switched off in the PDF: {', '.join(hidden)}")]


def _ignored_active_content(doc: pymupdf.Document) -> list[ConversionWarning]:
    found: list[ConversionWarning] = []
    try:
        if doc.embfile_count() > 0:
            found.append(
                ConversionWarning(
                    "embedded_files_ignored", f"{doc.embfile_count()} embedded file(s) were not extracted"
                )
            )
        catalog = doc.pdf_catalog()
        scripts = doc.xref_get_key(catalog, "Names/JavaScript")[0] != "null"
        open_action = doc.xref_get_key(catalog, "OpenAction")[0] != "null"
        additional = doc.xref_get_key(catalog, "AA")[0] != "null"
    except RuntimeError:
        return found
    if scripts or open_action or additional:
        found.append(ConversionWarning("active_content_ignored", "document actions / JavaScript were not executed"))
    return found


def _stream_size(doc: pymupdf.Document, xref: int, budget: int) -> int:
    """Decompressed size of stream ``xref``, counting at most ``budget + 1`` bytes."""
    kind, value = doc.xref_get_key(xref, "Filter")
    filters = value.replace("[", " ").replace("]", " ").split() if kind != "null" else []
    raw = doc.xref_stream_raw(xref) or b""
    if not filters:
        return len(raw)
    if filters != ["/FlateDecode"]:
        return len(doc.xref_stream(xref) or b"")  # rare filter chains: let MuPDF decode
    inflater = zlib.decompressobj()
    size, pending = 0, raw
    try:
        while pending and not inflater.eof:
            size += len(inflater.decompress(pending, _INFLATE_CHUNK))
            if size > budget:
                return size
            pending = inflater.unconsumed_tail
        size += len(inflater.flush())
    except zlib.error:
        return size  # broken stream: MuPDF repairs or ignores what it cannot inflate
    return size


def check_page_streams(doc: pymupdf.Document, page: pymupdf.Page, limit: int) -> int:
    """Sum the decompressed size of the page's content streams and form XObjects."""
    xrefs = list(page.get_contents()) + [x[0] for x in page.get_xobjects()]
    total = 0
    for xref in dict.fromkeys(xrefs):
        total += _stream_size(doc, xref, limit - total)
        if total > limit:
            raise ConversionError(
                "pdf_too_complex",
                f"page {page.number + 1} decompresses to more than {limit} bytes of content",
                ErrorKind.RESOURCE_EXHAUSTED,
                SourceLocation(page=page.number + 1),
            )
    return total


def check_page_images(page: pymupdf.Page, max_pixels: int) -> None:
    for image in page.get_images(full=True):
        width, height = int(image[2]), int(image[3])
        if width * height > max_pixels:
            raise ConversionError(
                "pdf_too_complex",
                f"page {page.number + 1} has a {width}x{height} image, more than {max_pixels} pixels",
                ErrorKind.RESOURCE_EXHAUSTED,
                SourceLocation(page=page.number + 1),
            )
