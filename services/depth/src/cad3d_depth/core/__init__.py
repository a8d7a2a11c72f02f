"""Image -> 3D depth core: transport-agnostic, shared by the gRPC servicer, the CLI and the tests."""

from cad3d_depth.core.decode import SUPPORTED_FORMATS, DecodedImage, decode_image
from cad3d_depth.core.errors import inference_failed, model_unavailable
from cad3d_depth.core.estimator import DepthEstimator
from cad3d_depth.core.factory import Backend, create_estimator
from cad3d_depth.core.options import DepthOptions, ImageLimits, OutputFormat, ReferencePoint
from cad3d_depth.core.pipeline import CONVERTER_VERSION, convert
from cad3d_depth.core.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    PreprocessProfile,
    get_profile,
    preprocess,
    profile_for_model,
)
from cad3d_depth.core.spec import ModelSpec, spec_from_shapes

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_PROFILE",
    "PROFILES",
    "SUPPORTED_FORMATS",
    "Backend",
    "DecodedImage",
    "DepthEstimator",
    "DepthOptions",
    "ImageLimits",
    "ModelSpec",
    "OutputFormat",
    "PreprocessProfile",
    "ReferencePoint",
    "convert",
    "create_estimator",
    "decode_image",
    "get_profile",
    "inference_failed",
    "model_unavailable",
    "preprocess",
    "profile_for_model",
    "spec_from_shapes",
]
