"""Settings of the pdf service (environment variables prefixed CAD3D_PDF_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cad3d_kit.settings import ServiceSettings


class PdfSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CAD3D_PDF_", extra="ignore")

    service_name: str = Field("cad3d-pdf", description="Name reported in logs, metrics and traces.")
    grpc_port: int = Field(50052, ge=0, le=65535, description="gRPC port; 0 picks a free port.")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Port of the Prometheus /metrics endpoint; 0 = none.")
    max_pages: int = Field(200, ge=1, description="Most pages one PDF may have.")
    max_objects_per_page: int = Field(500_000, ge=1, description="Most drawing objects on one page.")
    max_decompressed_bytes: int = Field(256 * 1024 * 1024, ge=1, description="Most decompressed content per page.")
    page_timeout_seconds: float = Field(30.0, gt=0, description="Time budget of one page.")
    max_image_pixels: int = Field(60_000_000, ge=1, description="Largest raster decoded (scans, images).")
    raster_dpi: int = Field(200, ge=50, le=1200, description="Resolution for line detection on scanned pages.")
