"""Settings of the depth service (environment variables prefixed CAD3D_DEPTH_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from cad3d_kit.settings import ServiceSettings


class DepthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CAD3D_DEPTH_", extra="ignore", protected_namespaces=())

    service_name: str = Field("cad3d-depth", description="Name reported in logs, metrics and traces.")
    grpc_port: int = Field(50053, ge=0, le=65535, description="gRPC port; 0 picks a free port.")
    metrics_port: int = Field(9103, ge=0, le=65535, description="Port of the Prometheus /metrics endpoint; 0 = none.")
    backend: Literal["onnxruntime", "triton"] = Field(
        "onnxruntime", description="Where the depth model runs: in-process ONNX Runtime or a Triton (KServe v2) server."
    )
    model_path: str = Field("", description="ONNX model file for the onnxruntime backend.")
    triton_url: str = Field("", description="host:port of Triton's gRPC endpoint (8001) for the triton backend.")
    model_name: str = Field("midas_standin_256", description="Model name (Triton model repository name).")
    model_version: str = Field("", description="Model version on Triton; empty = the server's policy.")
    profile: str = Field("", description="Preprocessing profile (midas_v21_small, dpt); empty = from the model name.")
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one inference call to Triton.")
    retries: int = Field(3, ge=0, description="Retries of an inference call that got UNAVAILABLE.")
    intra_op_threads: int = Field(0, ge=0, description="ONNX Runtime threads per inference; 0 = its default.")
    max_pixels: int = Field(50_000_000, ge=1, description="Decompression-bomb limit: largest photo in pixels.")
    min_side: int = Field(32, ge=1, description="Smallest accepted photo side in pixels.")
    max_bytes: int = Field(64 * 1024 * 1024, ge=1, description="Largest accepted photo file.")

    @model_validator(mode="after")
    def _backend_needs_its_location(self) -> DepthSettings:
        if self.backend == "onnxruntime" and not self.model_path:
            raise ValueError("backend 'onnxruntime' needs model_path (CAD3D_DEPTH_MODEL_PATH)")
        if self.backend == "triton" and not self.triton_url:
            raise ValueError("backend 'triton' needs triton_url (CAD3D_DEPTH_TRITON_URL)")
        return self
