"""Settings of the gateway (environment variables prefixed CAD3D_GATEWAY_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from cad3d_kit.settings import ComponentSettings


class GatewaySettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="CAD3D_GATEWAY_", extra="ignore")

    service_name: str = Field("cad3d-gateway", description="Name reported in logs, metrics and traces.")
    role: Literal["all", "api", "worker"] = Field(
        "all", description="api = HTTP only; worker = job dispatcher only; all = both in one process."
    )
    http_host: str = Field("0.0.0.0", description="Interface the HTTP server binds to.")  # noqa: S104
    http_port: int = Field(8080, ge=0, le=65535, description="HTTP port of the API, web page and /metrics.")
    public_url: str = Field("", description="External base URL used in links; empty = derived from each request.")
    dxf_address: str = Field("localhost:50051", description="host:port of the dxf gRPC service.")
    pdf_address: str = Field("", description="host:port of the pdf gRPC service; empty = PDF input disabled.")
    depth_address: str = Field("", description="host:port of the depth gRPC service; empty = image input disabled.")
    grpc_max_message_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Largest gRPC message to services.")
    nats_url: str = Field("nats://localhost:4222", description="NATS server URL (JetStream enabled).")
    api_keys_file: Path | None = Field(
        None, description="JSON file of hashed API keys (see README); unset = no authentication (development only)."
    )
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1, description="Largest accepted upload; larger -> 413.")
    job_timeout_seconds: float = Field(600.0, gt=0, description="Deadline of one conversion call to a service.")
    job_max_attempts: int = Field(
        5,
        ge=1,
        description="Runs of a job (started, and taken by its service) before it fails for good; waiting for "
        "a service that is down does not count.",
    )
    job_deadline_seconds: float = Field(
        3600.0, gt=0, description="A job not finished this long after its creation fails (job_deadline_exceeded)."
    )
    retry_base_seconds: float = Field(2.0, gt=0, description="Delay before a job's first retry; doubles for each.")
    retry_max_delay_seconds: float = Field(30.0, gt=0, description="Longest delay between two tries of a job.")
    storage_probe_seconds: float = Field(
        5.0, ge=0, description="/readyz writes and deletes a probe object at most this often (cached in between)."
    )
    dispatcher_concurrency: int = Field(
        4, ge=1, description="Jobs of each kind one dispatcher runs at once (every kind has its own slots)."
    )
    job_retention_seconds: float = Field(7 * 24 * 3600, gt=0, description="How long job records are kept.")
    presign_seconds: int = Field(300, ge=10, description="Lifetime of presigned artifact download URLs.")
    s3_public_url: str = Field(
        "",
        pattern=r"^(https?://[^/\s]+)?$",
        description="Base URL (scheme://host[:port]) where clients reach the object store: downloads then "
        "redirect there with a presigned URL. Empty = the gateway streams downloads itself.",
    )
    max_wait_seconds: float = Field(60.0, ge=0, description="Upper bound on the Prefer: wait=N a client may ask.")
    ack_wait_seconds: float = Field(
        30.0, gt=0, description="Seconds without an ack or heartbeat before JetStream redelivers a job."
    )
    max_queue_depth: int = Field(
        1000,
        ge=0,
        description="Jobs of one kind waiting or running past which new ones get 503 + Retry-After; 0 = none.",
    )
    rate_limit_per_second: float = Field(
        0.0, ge=0, description="Requests per second per API key (token bucket, per gateway replica); 0 = no limit."
    )
    rate_limit_burst: int = Field(20, ge=1, description="Token-bucket size: requests a key may make at once.")
    max_active_jobs_per_key: int = Field(
        0,
        ge=0,
        description=(
            "Unfinished jobs one API key may have at once (all replicas); 0 = no limit. Jobs accepted"
            " while it was 0 are not counted once it is set."
        ),
    )
    max_stored_bytes_per_key: int = Field(
        0, ge=0, description="Bytes of inputs one API key may keep stored (all replicas); 0 = no limit."
    )
    s3_lifecycle_days: int = Field(
        7, ge=0, description="S3 lifecycle rule: objects under tenants/ expire after this many days; 0 = none set."
    )
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC-SHA256 key that signs webhook bodies; empty = callback_url refused."
    )
    webhook_allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts or networks (CIDR) webhooks may reach although private or loopback (JSON list).",
    )
    webhook_max_attempts: int = Field(6, ge=1, description="Delivery attempts of one webhook before giving up.")
    webhook_retry_base_seconds: float = Field(
        2.0, gt=0, description="Delay before the 2nd attempt; doubles for each further one."
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one webhook request.")
    max_batch_files: int = Field(100, ge=1, description="Most files in one batch (uploaded or inside its zip).")
    max_batch_unpacked_bytes: int = Field(
        1024 * 1024 * 1024, ge=1, description="Most bytes a batch zip may unpack to (zip-bomb guard)."
    )
    max_zip_ratio: float = Field(200.0, gt=1, description="Largest unpacked/packed ratio of one zip entry.")
    max_image_pixels: int = Field(
        100_000_000, ge=1, description="Largest photo by pixel count (read from its header); larger -> 413."
    )
