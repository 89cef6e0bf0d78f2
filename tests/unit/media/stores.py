"""Helpers of the media tests: settings for a fresh bucket, and what a store holds."""

from __future__ import annotations

import uuid
from pathlib import Path

from gridgov.config import Settings
from gridgov.media.storage import s3_client


def s3_settings(endpoint: str, data_dir: Path, *, create: bool = True, **extra: object) -> Settings:
    """Settings for a fresh bucket on the local S3 server (created unless ``create=False``)."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "environment": "test",
        "media_store": "s3",
        "s3_endpoint_url": endpoint,
        "s3_bucket": f"gridgov-test-{uuid.uuid4().hex[:16]}",
        "s3_access_key": "test-access-key",
        "s3_secret_key": "test-secret-key",
        "s3_region": "us-east-1",
        "media_max_bytes": 200_000,
    }
    values.update(extra)
    settings = Settings(**values)  # type: ignore[arg-type]
    if create:
        s3_client(settings).create_bucket(Bucket=settings.s3_bucket)
    return settings


def stored_objects(settings: Settings) -> dict[str, bytes]:
    """Everything the store holds: file paths under ``<data_dir>/media`` or the bucket's keys."""
    if settings.media_store == "filesystem":
        root = settings.data_dir / "media"
        if not root.exists():
            return {}
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }
    client = s3_client(settings)
    listing = client.list_objects_v2(Bucket=settings.s3_bucket)
    return {
        o["Key"]: client.get_object(Bucket=settings.s3_bucket, Key=o["Key"])["Body"].read()
        for o in listing.get("Contents", [])
    }
