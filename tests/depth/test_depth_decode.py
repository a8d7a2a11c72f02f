"""Photo decoding: supported formats, orientation, alpha, limits and each bad-image error code."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator
from cad3d_depth.core import DepthOptions, ImageLimits, convert, decode_image
from cad3d_depth.core.decode import WORKING_MAX_SIDE
from cad3d_kit.conversion import ConversionError, ErrorKind

from .photos import encode, jpeg_with_exif, scene


@pytest.mark.parametrize(
    ("fmt", "extra"), [("JPEG", {"quality": 95}), ("PNG", {}), ("WEBP", {"lossless": True}), ("TIFF", {})]
)
def test_supported_formats_decode_to_rgb(fmt: str, extra: dict) -> None:
    rgb = scene(96, 64)
    decoded = decode_image(encode(rgb, fmt, **extra), ImageLimits())
    assert decoded.source_format == fmt
    assert decoded.rgb.shape == (64, 96, 3) and decoded.rgb.dtype == np.uint8
    tolerance = 12 if fmt == "JPEG" else 0
    assert np.abs(decoded.rgb.astype(int) - rgb.astype(int)).mean() <= tolerance


def test_alpha_is_dropped() -> None:
    rgba = np.dstack([scene(64, 48), np.full((48, 64), 10, np.uint8)])
    decoded = decode_image(encode(rgba, "PNG"), ImageLimits())
    assert decoded.rgb.shape == (48, 64, 3)
    np.testing.assert_array_equal(decoded.rgb, rgba[:, :, :3])  # colour kept as-is, not blended


def test_exif_orientation_is_applied() -> None:
    rgb = scene(80, 40)
    rgb[:5, :5] = (255, 0, 0)  # marks the stored top-left corner
    decoded = decode_image(jpeg_with_exif(rgb, orientation=6), ImageLimits())  # "rotate 90 CW to view"
    assert decoded.rgb.shape == (80, 40, 3)
    assert (decoded.original_width, decoded.original_height) == (40, 80)
    top_right = decoded.rgb[:5, -5:].astype(int)
    assert top_right[..., 0].mean() > 200 and top_right[..., 1].mean() < 80


def test_exif_focal_length_is_read() -> None:
    decoded = decode_image(jpeg_with_exif(scene(64, 48), focal_35mm=50), ImageLimits())
    assert decoded.focal_length_35mm == 50.0
    assert decode_image(encode(scene(64, 48)), ImageLimits()).focal_length_35mm is None


def test_sixteen_bit_greyscale_tiff_is_stretched() -> None:
    grey = np.linspace(1000, 3000, 64 * 48, dtype=np.uint16).reshape(48, 64)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "TIFF")
    decoded = decode_image(buffer.getvalue(), ImageLimits())
    assert decoded.rgb.min() == 0 and decoded.rgb.max() == 255


def test_large_photo_is_reduced_to_the_working_size_keeping_its_aspect() -> None:
    decoded = decode_image(encode(scene(3000, 2000), "JPEG"), ImageLimits())
    assert max(decoded.rgb.shape[:2]) == WORKING_MAX_SIDE
    assert decoded.rgb.shape[1] / decoded.rgb.shape[0] == pytest.approx(1.5, rel=0.01)
    assert (decoded.original_width, decoded.original_height) == (3000, 2000)


def _code(data: bytes, limits: ImageLimits | None = None) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        decode_image(data, limits or ImageLimits())
    return info.value


def test_not_an_image_is_unreadable() -> None:
    error = _code(b"%PDF-1.7 this is not a photo")
    assert (error.code, error.kind) == ("image_unreadable", ErrorKind.INVALID_INPUT)


def test_empty_input_is_unreadable() -> None:
    assert _code(b"").code == "image_unreadable"


def test_truncated_jpeg_is_unreadable() -> None:
    data = encode(scene(256, 256), "JPEG")
    assert _code(data[: len(data) // 2]).code == "image_unreadable"


@pytest.mark.parametrize("fmt", ["GIF", "BMP"])
def test_other_image_types_are_unsupported(fmt: str) -> None:
    error = _code(encode(scene(64, 64), fmt))
    assert error.code == "image_unsupported_type"
    assert fmt in error.message


def test_tiny_image_is_too_small() -> None:
    assert _code(encode(scene(200, 16), "PNG")).code == "image_too_small"


def test_pixel_limit_is_image_too_large() -> None:
    error = _code(encode(scene(200, 100), "PNG"), ImageLimits(max_pixels=10_000))
    assert (error.code, error.kind) == ("image_too_large", ErrorKind.RESOURCE_EXHAUSTED)


def test_byte_limit_is_image_too_large() -> None:
    assert _code(encode(scene(200, 100), "PNG"), ImageLimits(max_bytes=100)).code == "image_too_large"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: the classic decompression bomb shape (header, tiny IDAT)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 60 megapixels: over our 50 MP default, under Pillow's own 89 MP warning threshold.
    error = _code(_png_header_only(10_000, 6_000))
    assert error.code == "image_too_large"
    assert "limit is 50000000 pixels" in error.message


def test_pillows_own_bomb_error_maps_to_image_too_large() -> None:
    # Over twice Pillow's MAX_IMAGE_PIXELS Pillow raises DecompressionBombError itself inside open().
    error = _code(_png_header_only(40_000, 40_000), ImageLimits(max_pixels=10**10))
    assert error.code == "image_too_large"
    assert "decompression bomb" in error.message.lower()


async def test_convert_surfaces_decode_errors(onnx_estimator: OnnxRuntimeEstimator) -> None:
    with pytest.raises(ConversionError) as info:
        await convert(b"GIF89a not really", DepthOptions(), onnx_estimator)
    assert info.value.code in ("image_unreadable", "image_unsupported_type")


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "P"), ("PNG", "LA"), ("PNG", "I;16"), ("TIFF", "1"), ("WEBP", "RGBA")],
)
def test_other_pixel_modes_become_rgb(fmt: str, mode: str) -> None:
    decoded = decode_image(encode(scene(1200, 900), fmt, mode=mode), ImageLimits())
    assert decoded.rgb.ndim == 3 and decoded.rgb.shape[2] == 3 and decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape[1] / decoded.rgb.shape[0] == pytest.approx(4 / 3, rel=0.01)
    assert decoded.rgb.std() > 0
