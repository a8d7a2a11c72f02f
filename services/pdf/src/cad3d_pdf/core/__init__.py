"""PDF -> DXF conversion core (transport-agnostic): vector pages, text, scale, scans.

Public interface (used by the gRPC servicer and the CLI)::

    convert(data: bytes, options: PdfOptions, progress=no_progress, *, limits=PdfLimits())
        -> cad3d_kit.conversion.ConversionResult

Input is recognised from its content: a PDF (``%PDF-`` within the first KiB) or a PNG/JPEG
raster drawing (which goes straight to line detection). Anything else: ``unsupported_input``.

Artifacts (media type ``image/vnd.dxf`` for DXF, ``image/png`` for underlays):

- ``drawing.dxf`` for a one-page result or ``page_mode="layout_per_page"`` (every page a
  paperspace layout "Page N", modelspace empty), else ``page-001.dxf``, ``page-002.dxf``, ...
  named by the page number in the PDF (so a range "2,4" gives page-002 and page-004).
- ``page-NNN.png`` when ``raster_underlay`` is set and page NNN was converted from raster: the
  DXF holds an IMAGE on layer ``RASTER_UNDERLAY`` that references this file by its bare name, so
  store it next to the DXF (same folder / same key prefix) and CAD programs find it.

Layers: ``layer_mode="ocg"`` maps optional content groups to layers and falls back to style
layers (``STROKE_<RRGGBB>_<width>MM``, ``FILL_<RRGGBB>``) for content outside any group;
``"style"`` always uses style layers; ``"single"`` puts everything on layer ``0``. Text goes to
``TEXT``, detected raster lines to ``RASTER_LINES``.

Scale: PDF points become millimetres (or ``unit``) times the 1:n ``scale``; a ``calibration``
(two page points and their real distance) overrides both. The report says per page and overall
whether the scale is ``unknown`` (defaults), ``declared`` (scale given) or ``calibrated``.

Error codes (``ConversionError.code``): ``unsupported_input``, ``invalid_options``,
``invalid_page_range``, ``pdf_unreadable``, ``pdf_encrypted``, ``pdf_too_many_pages``,
``pdf_too_complex`` (objects, decompressed content or image pixels over the limits),
``pdf_page_timeout``, ``image_unreadable``, ``image_too_large``.

Threads: MuPDF is not thread-safe, so conversions inside one process run one at a time (a
module lock); run several processes to convert in parallel.
"""

from cad3d_pdf.core.converter import CONVERTER_VERSION, DXF_MEDIA_TYPE, PNG_MEDIA_TYPE, convert
from cad3d_pdf.core.options import Calibration, PdfLimits, PdfOptions

__all__ = [
    "CONVERTER_VERSION",
    "DXF_MEDIA_TYPE",
    "PNG_MEDIA_TYPE",
    "Calibration",
    "PdfLimits",
    "PdfOptions",
    "convert",
]
