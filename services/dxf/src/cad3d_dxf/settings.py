"""Settings of the dxf service (environment variables prefixed CAD3D_DXF_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cad3d_kit.settings import ServiceSettings


class DxfSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CAD3D_DXF_", extra="ignore")

    service_name: str = Field("cad3d-dxf", description="Name reported in logs, metrics and traces.")
    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free port.")
    metrics_port: int = Field(9101, ge=0, le=65535, description="Port of the Prometheus /metrics endpoint; 0 = none.")
    dwg_oda_path: str = Field("", description="Path of the ODA File Converter executable (DWG input); empty = none.")
    dwg2dxf_path: str = Field("", description="Path of LibreDWG's dwg2dxf; empty = look it up on PATH.")
    dwg_timeout_seconds: float = Field(120.0, gt=0, description="Time budget of one DWG -> DXF conversion.")
