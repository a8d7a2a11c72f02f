"""Inference backends behind the DepthEstimator interface (onnx_runtime, triton)."""

from cad3d_depth.core.factory import Backend, create_estimator

__all__ = ["Backend", "create_estimator"]
