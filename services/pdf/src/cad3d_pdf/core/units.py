"""Page space (PDF points, y down, origin top-left) -> drawing space (output unit, y up)."""

from __future__ import annotations

from dataclasses import dataclass

from cad3d_pdf.core.options import UNIT_TO_MM, PdfOptions

MM_PER_POINT = 25.4 / 72.0


@dataclass(frozen=True)
class PageTransform:
    """Uniform scale plus a y flip about the page height.

    ``factor`` is output units per PDF point; it already contains the 1:n scale or the
    calibration, so every length (coordinates, text heights, dash lengths) scales by it.
    """

    factor: float
    page_height: float
    # Affine (a, b, c, d, e, f) applied first: maps MuPDF's unrotated page space onto the page as
    # displayed (``Page.rotation_matrix``); identity for unrotated pages and rendered rasters.
    pre: tuple[float, float, float, float, float, float] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

    def point(self, x: float, y: float) -> tuple[float, float]:
        a, b, c, d, e, f = self.pre
        x, y = a * x + c * y + e, b * x + d * y + f
        return (x * self.factor, (self.page_height - y) * self.factor)

    def direction(self, dx: float, dy: float) -> tuple[float, float]:
        """A direction vector in unrotated page space, in drawing space (y up)."""
        a, b, c, d, _, _ = self.pre
        return (a * dx + c * dy, -(b * dx + d * dy))

    def length(self, value: float) -> float:
        return value * self.factor


def output_factor(options: PdfOptions) -> float:
    """Output units per PDF point for these options."""
    if options.calibration is not None:
        return options.calibration.length / options.calibration.page_distance()
    return MM_PER_POINT * options.scale / UNIT_TO_MM[options.unit]


def page_transform(
    options: PdfOptions,
    page_height: float,
    pre: tuple[float, float, float, float, float, float] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
) -> PageTransform:
    return PageTransform(factor=output_factor(options), page_height=page_height, pre=pre)
