"""Metric calibration of relative inverse depth from reference distances.

MiDaS predicts inverse depth up to an unknown scale and shift, so metric inverse depth is
``scale * d + shift``. With two or more reference points both are fitted by least squares in
inverse-depth space; with one point only the scale is (shift assumed 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from cad3d_depth.core.options import ReferencePoint
from cad3d_kit.conversion import ConversionError, ErrorKind

# Metric depth is clipped here: where the fit predicts (near-)zero or negative inverse depth the
# point is effectively at infinity (sky), which no output format can hold.
MAX_METRIC_DEPTH_M = 1000.0


@dataclass(frozen=True)
class Calibration:
    scale: float
    shift: float
    method: str
    points: int
    rms_error_m: float

    def metric_depth(self, inverse_depth: np.ndarray) -> np.ndarray:
        metric_inverse = self.scale * inverse_depth + self.shift
        return 1.0 / np.maximum(metric_inverse, 1.0 / MAX_METRIC_DEPTH_M)

    def as_report(self) -> dict[str, Any]:
        return {
            "calibrated": True,
            "method": self.method,
            "points": self.points,
            "scale": self.scale,
            "shift": self.shift,
            "rms_error_m": self.rms_error_m,
            "units": "metres",
        }


def check_points_inside(points: tuple[ReferencePoint, ...], photo_size: tuple[int, int]) -> None:
    photo_w, photo_h = photo_size
    for p in points:
        if not (0 <= p.x <= photo_w and 0 <= p.y <= photo_h):
            raise ConversionError(
                "invalid_options",
                f"reference point ({p.x}, {p.y}) lies outside the {photo_w}x{photo_h} photo",
                ErrorKind.INVALID_INPUT,
            )


def sample_at_points(
    inverse_depth: np.ndarray, points: tuple[ReferencePoint, ...], photo_size: tuple[int, int]
) -> np.ndarray:
    """Bilinear samples of the map (any resolution) at photo-pixel coordinates."""
    check_points_inside(points, photo_size)
    photo_w, photo_h = photo_size
    height, width = inverse_depth.shape
    # Pixel centres: photo pixel x maps to map coordinate (x + 0.5) * width / photo_w - 0.5.
    map_x = np.array([[(p.x + 0.5) * width / photo_w - 0.5 for p in points]], dtype=np.float32)
    map_y = np.array([[(p.y + 0.5) * height / photo_h - 0.5 for p in points]], dtype=np.float32)
    sampled = cv2.remap(
        inverse_depth.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(sampled[0], dtype=np.float64)


def fit_calibration(predicted_inverse: np.ndarray, distances_m: np.ndarray) -> Calibration | None:
    """Least-squares fit of 1/distance = scale * d + shift; None when the points contradict the map."""
    target = 1.0 / distances_m
    if len(distances_m) == 1:
        if predicted_inverse[0] <= 0:
            return None
        scale, shift, method = float(target[0] / predicted_inverse[0]), 0.0, "single_point_scale"
    else:
        design = np.stack([predicted_inverse, np.ones_like(predicted_inverse)], axis=1)
        (scale, shift), *_ = np.linalg.lstsq(design, target, rcond=None)
        scale, shift, method = float(scale), float(shift), "least_squares_inverse_depth"
    if not np.isfinite([scale, shift]).all() or scale <= 0:
        # A non-positive scale means the farther reference point looks nearer in the depth map.
        return None
    fitted = Calibration(scale, shift, method, len(distances_m), 0.0)
    predicted_m = fitted.metric_depth(predicted_inverse)
    rms = float(np.sqrt(np.mean((predicted_m - distances_m) ** 2)))
    return Calibration(scale, shift, method, len(distances_m), rms)
