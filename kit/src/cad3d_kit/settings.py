"""Typed settings shared by every component.

Each component subclasses :class:`ServiceSettings` (gRPC services) or :class:`ComponentSettings`
(the gateway) with its own ``env_prefix`` (``CAD3D_DXF_``, ``CAD3D_GATEWAY_``...). Invalid
configuration fails fast: :func:`load_settings` prints every problem and exits non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComponentSettings(BaseSettings):
    """Settings every component has: identity, logging, tracing, metrics and storage."""

    model_config = SettingsConfigDict(extra="ignore", validate_default=True)

    service_name: str = Field("cad3d", description="Name reported in logs, metrics and traces.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_json: bool = Field(True, description="Write logs as JSON lines (with trace and span ids).")
    otlp_endpoint: str = Field(
        "", description="OTLP/gRPC endpoint for traces, e.g. http://otel-collector:4317; empty disables export."
    )

    storage_backend: Literal["local", "s3"] = Field("local", description="Artifact store: local directory or S3.")
    storage_dir: Path = Field(Path("var/artifacts"), description="Root folder of the local artifact store.")
    s3_endpoint: str = Field("", description="S3 endpoint host:port (MinIO), required when storage_backend=s3.")
    s3_access_key: SecretStr = Field(SecretStr(""), description="S3 access key.")
    s3_secret_key: SecretStr = Field(SecretStr(""), description="S3 secret key.")
    s3_secure: bool = Field(True, description="Use TLS to reach S3.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_bucket: str = Field("cad3d", description="Bucket holding inputs, outputs and reports.")

    @model_validator(mode="after")
    def _s3_needs_endpoint(self) -> ComponentSettings:
        if self.storage_backend == "s3" and not self.s3_endpoint:
            raise ValueError("storage_backend is 's3' but s3_endpoint is empty")
        return self


class ServiceSettings(ComponentSettings):
    """Settings of a gRPC conversion service."""

    metrics_port: int = Field(0, ge=0, le=65535, description="Port of the Prometheus /metrics endpoint; 0 = none.")
    metrics_host: str = Field("0.0.0.0", description="Interface the /metrics endpoint binds to.")  # noqa: S104
    grpc_host: str = Field("0.0.0.0", description="Interface the gRPC server binds to.")  # noqa: S104
    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port; 0 picks a free port.")
    max_message_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest gRPC message accepted or sent (inline inputs/outputs)."
    )
    shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="On SIGTERM: how long in-flight RPCs may run before they are cancelled."
    )
    max_concurrent_conversions: int = Field(2, ge=1, description="Conversions run at once; more wait in line.")
    conversion_timeout_seconds: float = Field(300.0, gt=0, description="Time budget of one conversion.")
    conversion_memory_mb: int = Field(
        4096, ge=0, description="Address-space budget of the process running one conversion; 0 = unlimited."
    )


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(settings_cls: type[SettingsT]) -> SettingsT:
    """Build settings from the environment or exit with a readable message (exit code 2)."""
    try:
        return settings_cls()
    except ValidationError as exc:
        prefix = settings_cls.model_config.get("env_prefix", "")
        lines = [f"invalid configuration for {settings_cls.__name__}:"]
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(settings)"
            env = f"{prefix}{field}".upper() if err["loc"] else prefix + "*"
            # Whole-model errors carry every value as input; never echo secrets.
            secret = not err["loc"] or any(word in field for word in ("key", "secret", "password", "token"))
            shown = "" if secret else f" (got {err.get('input')!r})"
            lines.append(f"  - {env}: {err['msg']}{shown}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
