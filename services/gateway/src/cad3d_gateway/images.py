"""Decompression-bomb guard for photos: the pixel count is read from the image header (Pillow
parses only the header on open), so a small file that would decode to gigabytes is refused at
upload, before any service decodes it."""

from __future__ import annotations

import warnings
from typing import BinaryIO

from PIL import Image

from cad3d_gateway.problems import ProblemError


def check_pixels(stream: BinaryIO, max_pixels: int) -> None:
    """ProblemError 413 when the image has more than ``max_pixels`` pixels, 415 when unreadable.

    The stream is left at its start.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                with Image.open(stream) as image:
                    width, height = image.size
            except Image.DecompressionBombError:
                width = height = max_pixels + 1  # Pillow's own ceiling is already past ours
    except (OSError, SyntaxError, ValueError) as exc:
        raise ProblemError(415, "unreadable_image", "The image cannot be read", str(exc)) from None
    finally:
        stream.seek(0)
    if width * height > max_pixels:
        raise ProblemError(
            413,
            "image_too_large",
            "The image has too many pixels",
            f"{width}x{height} is more than the limit of {max_pixels} pixels",
        )
