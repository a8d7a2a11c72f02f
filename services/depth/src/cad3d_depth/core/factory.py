"""create_estimator(): the backend the settings name, built lazily (imports only that runtime)."""

from __future__ import annotations

from typing import Literal

from cad3d_depth.core.errors import model_unavailable
from cad3d_depth.core.estimator import DepthEstimator

Backend = Literal["onnxruntime", "triton"]


def create_estimator(
    backend: Backend,
    *,
    model_path: str | None,
    triton_url: str | None,
    model_name: str,
    model_version: str = "",
    timeout_s: float = 10.0,
    retries: int = 3,
    intra_op_threads: int = 0,
) -> DepthEstimator:
    """Build the estimator the settings ask for; nothing is loaded or contacted yet (see load())."""
    if backend == "onnxruntime":
        from cad3d_depth.backends.onnx_runtime import OnnxRuntimeEstimator

        if not model_path:
            raise model_unavailable("the onnxruntime backend needs a model path")
        return OnnxRuntimeEstimator(model_path, model_name=model_name, intra_op_threads=intra_op_threads)
    if backend == "triton":
        from cad3d_depth.backends.triton import TritonEstimator

        if not triton_url:
            raise model_unavailable("the triton backend needs a server URL (host:port)")
        return TritonEstimator(triton_url, model_name, model_version, timeout_s=timeout_s, retries=retries)
    raise ValueError(f"unknown depth backend {backend!r}; use 'onnxruntime' or 'triton'")
