"""Per-page time budget, checked cooperatively between and inside the conversion steps.

MuPDF calls cannot be interrupted from Python, so a single call may overrun; the decompressed
size and object-count limits keep each such call bounded, and this deadline catches the rest.
"""

from __future__ import annotations

import time

from cad3d_kit.conversion import ConversionError, ErrorKind, SourceLocation


class PageDeadline:
    def __init__(self, seconds: float, page_number: int) -> None:
        self._expires = time.monotonic() + seconds
        self._seconds = seconds
        self.page_number = page_number

    def check(self) -> None:
        if time.monotonic() > self._expires:
            raise ConversionError(
                "pdf_page_timeout",
                f"page {self.page_number} took longer than {self._seconds:g} s",
                ErrorKind.DEADLINE,
                SourceLocation(page=self.page_number),
            )
