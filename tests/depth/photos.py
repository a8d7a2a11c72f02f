"""Synthetic photos made in code (no binary fixtures): a scene with a near object and a far wall."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image


def scene(width: int = 320, height: int = 240, seed: int = 0) -> np.ndarray:
    """A smooth sky-to-ground gradient with a textured bright box in the lower middle."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = np.array([90, 140, 220], np.float32)
    ground = np.array([110, 90, 60], np.float32)
    rgb = np.broadcast_to(sky * (1 - rows) + ground * rows, (height, width, 3)).copy()
    y0, y1, x0, x1 = height // 2, height * 9 // 10, width // 3, width * 2 // 3
    rgb[y0:y1, x0:x1] = 200 + rng.normal(0, 25, (y1 - y0, x1 - x0, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def encode(rgb: np.ndarray, fmt: str = "JPEG", *, mode: str | None = None, **save: Any) -> bytes:
    image = Image.fromarray(rgb)
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def jpeg_with_exif(rgb: np.ndarray, *, orientation: int = 1, focal_35mm: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    if focal_35mm is not None:
        exif.get_ifd(0x8769)[0xA405] = focal_35mm
    return encode(rgb, "JPEG", exif=exif.tobytes(), quality=92)
