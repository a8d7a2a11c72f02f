"""Model output -> depth maps at the photo's aspect: normalised inverse depth and camera depth."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cad3d_depth.core.calibration import Calibration

# Uncalibrated point clouds need some depth: 1 / (normalised inverse depth + offset) spans
# 1/(1 + offset) .. 1/offset relative units (about 0.91 .. 10), i.e. a 1:11 near/far ratio.
RELATIVE_DEPTH_OFFSET = 0.1


@dataclass(frozen=True)
class DepthMaps:
    inverse: np.ndarray  # raw relative inverse depth resized to the working image, float32
    normalized: np.ndarray  # inverse depth scaled to [0, 1] (1 = nearest), float32
    flat: bool  # the model saw no depth variation at all

    def camera_depth(self, calibration: Calibration | None) -> np.ndarray:
        """Depth along the optical axis: metres when calibrated, relative units otherwise."""
        if calibration is not None:
            return calibration.metric_depth(self.inverse).astype(np.float32)
        return (1.0 / (self.normalized + RELATIVE_DEPTH_OFFSET)).astype(np.float32)


def to_depth_maps(model_output: np.ndarray, width: int, height: int) -> DepthMaps:
    # Bicubic like MiDaS' own upsampling; it can overshoot, so normalise after resizing.
    inverse = cv2.resize(model_output.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    low, high = float(inverse.min()), float(inverse.max())
    span = high - low
    flat = span <= 1e-6 * max(abs(high), 1.0)
    normalized = np.zeros_like(inverse) if flat else (inverse - np.float32(low)) * np.float32(1.0 / span)
    return DepthMaps(inverse=inverse, normalized=normalized, flat=flat)
