"""Photo decoding: format whitelist, size limits, EXIF orientation, alpha dropped, working resolution."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cad3d_depth.core.options import ImageLimits
from cad3d_kit.conversion import ConversionError, ErrorKind

# Pillow format names we accept (MPO is the multi-picture JPEG many phones write).
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF"})
# Everything downstream of inference (depth map, colours, texture, point cloud) works at this
# resolution: the model sees 256x256, so decoding a 12-megapixel photo at full size would only buy
# decode time. JPEG is decoded straight at a reduced scale (libjpeg DCT scaling, Pillow's draft()).
WORKING_MAX_SIDE = 1024
# JPEG DCT scaling only divides by 2, 4 or 8: accept a working size down to this long side so a
# 12-megapixel photo decodes at 1/4 (1000x750) instead of 1/2 plus a resize.
WORKING_MIN_SIDE = 768

_EXIF_IFD = 0x8769
_FOCAL_LENGTH_35MM = 0xA405
_HIGH_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})


@dataclass(frozen=True)
class DecodedImage:
    rgb: np.ndarray  # HxWx3 uint8 at working resolution, upright
    original_width: int  # upright photo size in pixels, before any reduction
    original_height: int
    source_format: str
    focal_length_35mm: float | None  # EXIF FocalLengthIn35mmFilm, when present

    @property
    def scale(self) -> float:
        """Working pixels per original pixel."""
        return self.rgb.shape[1] / self.original_width


def decode_image(data: bytes, limits: ImageLimits) -> DecodedImage:
    if len(data) > limits.max_bytes:
        raise ConversionError(
            "image_too_large",
            f"image is {len(data)} bytes; the limit is {limits.max_bytes}",
            ErrorKind.RESOURCE_EXHAUSTED,
        )
    if not data:
        raise ConversionError("image_unreadable", "input is empty")
    try:
        # Pillow's own bomb check (warning above MAX_IMAGE_PIXELS, error above twice that) runs in
        # open(); ours, normally stricter, right after it, still before any pixel is decoded.
        image = Image.open(io.BytesIO(data))
        _check_header(image, limits)
        focal = _focal_length_35mm(image)
        orientation_swaps_axes = _orientation(image) in (5, 6, 7, 8)
        width, height = image.size  # before draft() shrinks it
        _decode_reduced(image)
        upright = ImageOps.exif_transpose(image)
        rgb = _to_rgb_array(upright)
    except ConversionError:
        raise
    except Image.DecompressionBombError as exc:
        raise ConversionError("image_too_large", str(exc), ErrorKind.RESOURCE_EXHAUSTED) from exc
    except UnidentifiedImageError as exc:
        raise ConversionError("image_unreadable", "input is not a readable image") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow reports truncated or corrupt data with these, depending on the codec.
        raise ConversionError("image_unreadable", f"image data is corrupt: {exc}") from exc
    if orientation_swaps_axes:
        width, height = height, width
    return DecodedImage(
        rgb=_fit_working_size(rgb),
        original_width=width,
        original_height=height,
        source_format=str(image.format),
        focal_length_35mm=focal,
    )


def _check_header(image: Image.Image, limits: ImageLimits) -> None:
    if image.format not in SUPPORTED_FORMATS:
        raise ConversionError(
            "image_unsupported_type",
            f"{image.format} images are not supported; use JPEG, PNG, WebP or TIFF",
        )
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ConversionError(
            "image_too_large",
            f"image has {width}x{height} pixels; the limit is {limits.max_pixels} pixels",
            ErrorKind.RESOURCE_EXHAUSTED,
        )
    if min(width, height) < limits.min_side:
        raise ConversionError(
            "image_too_small",
            f"image is {width}x{height}; both sides must be at least {limits.min_side} pixels",
        )


def _orientation(image: Image.Image) -> int:
    value = image.getexif().get(0x0112, 1)
    return value if isinstance(value, int) else 1


def _focal_length_35mm(image: Image.Image) -> float | None:
    value = image.getexif().get_ifd(_EXIF_IFD).get(_FOCAL_LENGTH_35MM)
    try:
        focal = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return focal if focal and focal > 0 else None


def _decode_reduced(image: Image.Image) -> None:
    if image.format in ("JPEG", "MPO"):
        width, height = image.size
        reduction = max(width, height) / WORKING_MIN_SIDE
        if reduction > 1:
            image.draft("RGB", (round(width / reduction), round(height / reduction)))
    image.load()


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in _HIGH_BIT_MODES:
        # 16-bit / float greyscale (scientific TIFFs): stretch to 8 bits instead of clipping.
        grey = np.asarray(image, dtype=np.float32)
        low, high = float(np.nanmin(grey)), float(np.nanmax(grey))
        span = high - low if high > low else 1.0
        grey8 = np.clip((np.nan_to_num(grey, nan=low) - low) * (255.0 / span), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    # convert("RGB") discards alpha (and resolves palettes, CMYK, greyscale).
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _fit_working_size(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    longest = max(width, height)
    if longest <= WORKING_MAX_SIDE:
        return np.ascontiguousarray(rgb)
    factor = WORKING_MAX_SIDE / longest
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
