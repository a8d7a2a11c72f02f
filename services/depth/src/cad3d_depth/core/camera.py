"""Pinhole intrinsics for back-projecting the depth map into a point cloud."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# A 35 mm film frame is 36 mm wide: EXIF FocalLengthIn35mmFilm is relative to that long side.
FILM_35MM_LONG_SIDE_MM = 36.0


@dataclass(frozen=True)
class Intrinsics:
    fx: float
    fy: float
    cx: float
    cy: float
    source: str  # "exif_focal_length_35mm" or "default_fov"
    horizontal_fov_degrees: float

    def as_report(self) -> dict[str, Any]:
        return {
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "source": self.source,
            "horizontal_fov_degrees": self.horizontal_fov_degrees,
        }


def intrinsics_for(width: int, height: int, focal_length_35mm: float | None, fov_degrees: float) -> Intrinsics:
    """Intrinsics in pixels of a width x height image; square pixels, principal point at the centre."""
    if focal_length_35mm:
        focal_px = focal_length_35mm * max(width, height) / FILM_35MM_LONG_SIDE_MM
        source = "exif_focal_length_35mm"
    else:
        focal_px = (width / 2.0) / math.tan(math.radians(fov_degrees) / 2.0)
        source = "default_fov"
    fov = math.degrees(2.0 * math.atan((width / 2.0) / focal_px))
    return Intrinsics(focal_px, focal_px, width / 2.0, height / 2.0, source, fov)


def back_project(depth: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """(H, W) depth -> (H*W, 3) points; camera looks down -z with y up (OpenGL / glTF convention)."""
    height, width = depth.shape
    u = (np.arange(width, dtype=np.float32) + 0.5 - np.float32(intrinsics.cx)) / np.float32(intrinsics.fx)
    v = (np.arange(height, dtype=np.float32) + 0.5 - np.float32(intrinsics.cy)) / np.float32(intrinsics.fy)
    points = np.empty((height, width, 3), dtype=np.float32)
    points[..., 0] = u[None, :] * depth
    points[..., 1] = -v[:, None] * depth
    points[..., 2] = -depth
    return points.reshape(-1, 3)
