"""Retention of stored files: an S3 bucket lifecycle rule expires everything under ``tenants/``.

Job records expire with the KV bucket's TTL (job_retention_seconds); the rule makes the objects
follow on the store's side, even for jobs nobody deletes. The local store has no lifecycle: there
old files are removed by DELETE only (a development mode).
"""

from __future__ import annotations

import logging

from cad3d_gateway.settings import GatewaySettings

log = logging.getLogger("cad3d.gateway.retention")
RULE_ID = "cad3d-retention"


def apply_lifecycle(settings: GatewaySettings) -> bool:
    """Set the expiry rule on the bucket (blocking); False when not applicable."""
    if settings.storage_backend != "s3" or settings.s3_lifecycle_days <= 0:
        return False
    from minio import Minio
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

    client = Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )
    rule = Rule(
        ENABLED,
        rule_filter=Filter(prefix="tenants/"),
        rule_id=RULE_ID,
        expiration=Expiration(days=settings.s3_lifecycle_days),
    )
    try:
        client.set_bucket_lifecycle(settings.s3_bucket, LifecycleConfig([rule]))
    except Exception as exc:  # a key without lifecycle permission must not stop the API
        log.warning("could not set the bucket lifecycle rule (retention by DELETE only): %s", exc)
        return False
    return True
