"""PDF -> DXF conversion core (transport-agnostic): vector pages, text, scale, scans.

Public interface used by the gRPC servicer and the CLI::

    convert(data, PdfOptions(...), progress, limits=PdfLimits()) -> ConversionResult
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
