"""The photo pixel limit reads only the header: a tiny file declaring a huge image is refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from cad3d_gateway.images import check_pixels
from cad3d_gateway.problems import ProblemError


def png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares width x height (8-bit greyscale), with one tiny IDAT: a bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, format="JPEG")
    return out.getvalue()


def test_declared_size_over_the_limit_is_refused_without_decoding() -> None:
    bomb = io.BytesIO(png_header(60_000, 60_000))  # 3.6 gigapixels in about 60 bytes
    with pytest.raises(ProblemError) as refused:
        check_pixels(bomb, 100_000_000)
    assert refused.value.status == 413 and refused.value.code == "image_too_large"
    assert bomb.tell() == 0  # left at the start for storing


def test_images_within_the_limit_pass() -> None:
    stream = io.BytesIO(jpeg(64, 48))
    check_pixels(stream, 64 * 48)
    assert stream.tell() == 0
    with pytest.raises(ProblemError) as refused:
        check_pixels(io.BytesIO(jpeg(64, 48)), 64 * 48 - 1)
    assert refused.value.code == "image_too_large"


def test_unreadable_image_is_a_clear_error() -> None:
    with pytest.raises(ProblemError) as refused:
        check_pixels(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 20), 1000)
    assert refused.value.status == 415 and refused.value.code == "unreadable_image"
