"""Image -> 3D depth core: transport-agnostic, shared by the gRPC servicer, the CLI and the tests."""

from cad3d_depth.core.decode import SUPPORTED_FORMATS, DecodedImage, decode_image
from cad3d_depth.core.errors import inference_failed, model_unavailable
from cad3d_depth.core.estimator import DepthEstimator
from cad3d_depth.core.factory import Backend, create_estimator
from cad3d_depth.core.options import DepthOptions, ImageLimits, OutputFormat, ReferencePoint
from cad3d_depth.core.pipeline import CONVERTER_VERSION, convert
from cad3d_depth.core.profiles import PROFILES, PreprocessProfile, get_profile, preprocess
from cad3d_depth.core.spec import ModelSpec, spec_from_shapes

__all__ = [
    "CONVERTER_VERSION",
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
    "spec_from_shapes",
]
