"""Preprocessing profiles per model family: how a photo becomes the model's input tensor."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cad3d_depth.core.spec import ModelSpec
from cad3d_kit.conversion import ConversionError, ErrorKind

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PreprocessProfile:
    name: str
    default_size: int  # used only when the model's input size is dynamic
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: int = cv2.INTER_CUBIC


# MiDaS' own transforms: RGB in [0, 1], cv2 bicubic resize, then NormalizeImage.
PROFILES: dict[str, PreprocessProfile] = {
    "midas_v21_small": PreprocessProfile("midas_v21_small", 256, IMAGENET_MEAN, IMAGENET_STD),
    "dpt": PreprocessProfile("dpt", 384, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


DEFAULT_PROFILE = "midas_v21_small"


def profile_for_model(model_name: str) -> str:
    """The profile to use when settings name none: DPT-family names get "dpt", the rest MiDaS small's."""
    return "dpt" if "dpt" in model_name.lower() else DEFAULT_PROFILE


def get_profile(name: str) -> PreprocessProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConversionError(
            "invalid_profile",
            f"unknown preprocessing profile {name!r}; known: {', '.join(sorted(PROFILES))}",
            ErrorKind.PRECONDITION,
        ) from None


def model_input_size(spec: ModelSpec, profile: PreprocessProfile) -> tuple[int, int]:
    """(height, width) the photo is resized to."""
    return spec.height or profile.default_size, spec.width or profile.default_size


def preprocess(rgb: np.ndarray, spec: ModelSpec, profile: PreprocessProfile) -> np.ndarray:
    """HxWx3 uint8 photo -> float32 model input with a batch dim of 1 (when the model has one)."""
    height, width = model_input_size(spec, profile)
    resized = cv2.resize(rgb, (width, height), interpolation=profile.interpolation)
    tensor = resized.astype(np.float32) * np.float32(1.0 / 255.0)
    if not spec.normalized_in_graph:
        tensor -= np.asarray(profile.mean, dtype=np.float32)
        tensor /= np.asarray(profile.std, dtype=np.float32)
    if spec.layout == "NCHW":
        tensor = tensor.transpose(2, 0, 1)
    tensor = np.ascontiguousarray(tensor, dtype=np.float32)
    return tensor[None] if spec.has_batch_dim else tensor


def output_to_map(raw: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """Raw model output for one image -> 2-D float32 relative inverse depth (larger = nearer)."""
    out = np.asarray(raw, dtype=np.float32)
    if spec.has_batch_dim and out.ndim >= 3:
        out = out[0]
    out = np.squeeze(out)
    if out.ndim != 2 or min(out.shape) < 2:
        raise ConversionError(
            "inference_failed",
            f"model {spec.model_name!r} returned shape {list(np.shape(raw))}; expected one depth map",
            ErrorKind.INTERNAL,
        )
    if not np.isfinite(out).all():
        raise ConversionError(
            "inference_failed", f"model {spec.model_name!r} returned non-finite depth", ErrorKind.INTERNAL
        )
    return out
