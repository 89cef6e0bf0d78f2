"""The S3-compatible store: settings, key layout, prefixes and a store that is not there."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from pydantic import ValidationError

from gridgov.accounts.models import Role, User
from gridgov.app import _install_error_handlers
from gridgov.config import Settings
from gridgov.deps import get_app_settings, get_optional_user
from gridgov.media import api
from gridgov.media.checks import check_image
from gridgov.media.storage import LocalStorage, S3Storage, s3_client, storage_for
from tests.unit.media.stores import s3_settings, stored_objects


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _s3(**values: object) -> Settings:
    base: dict[str, object] = {"environment": "test", "media_store": "s3"}
    return Settings(**(base | values))  # type: ignore[arg-type]


def test_s3_needs_bucket_and_endpoint() -> None:
    with pytest.raises(ValidationError) as err:
        _s3()
    message = str(err.value)
    assert "GRIDGOV_S3_BUCKET and GRIDGOV_S3_ENDPOINT_URL are not set" in message
    with pytest.raises(ValidationError, match="GRIDGOV_S3_ENDPOINT_URL is not set"):
        _s3(s3_bucket="photos")
    with pytest.raises(ValidationError, match="GRIDGOV_S3_BUCKET is not set"):
        _s3(s3_endpoint_url="http://127.0.0.1:9000", s3_bucket="  ")
    with pytest.raises(ValidationError, match="must start with http:// or https://"):
        _s3(s3_bucket="photos", s3_endpoint_url="127.0.0.1:9000")
    with pytest.raises(ValidationError, match="both GRIDGOV_S3_ACCESS_KEY and GRIDGOV_S3_SECRET"):
        _s3(s3_bucket="photos", s3_endpoint_url="http://127.0.0.1:9000", s3_access_key="a")
    with pytest.raises(ValidationError, match=r"'\.\.'"):
        Settings(environment="test", s3_prefix="a/../b/")


def test_s3_settings_from_the_environment_keep_the_secret_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRIDGOV_MEDIA_STORE", "s3")
    monkeypatch.setenv("GRIDGOV_S3_ENDPOINT_URL", "https://minio.example.invalid")
    monkeypatch.setenv("GRIDGOV_S3_BUCKET", "gridgov-media")
    monkeypatch.setenv("GRIDGOV_S3_ACCESS_KEY", "AK")
    monkeypatch.setenv("GRIDGOV_S3_SECRET_KEY", "very-secret-value")
    monkeypatch.setenv("GRIDGOV_S3_PREFIX", "/city/photos/")
    settings = Settings(environment="test")
    assert settings.media_store == "s3" and settings.s3_bucket == "gridgov-media"
    assert settings.s3_prefix == "city/photos/"
    assert settings.s3_secret_key is not None
    assert settings.s3_secret_key.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in repr(settings) and "very-secret-value" not in str(settings)


def test_filesystem_is_the_default(tmp_path: Path) -> None:
    store = storage_for(Settings(data_dir=tmp_path, environment="test", media_store="filesystem"))
    assert isinstance(store, LocalStorage) and store.root == tmp_path / "media"


def test_one_client_per_configuration(s3_endpoint: str, tmp_path: Path) -> None:
    settings = s3_settings(s3_endpoint, tmp_path, create=False)
    first, second = storage_for(settings), storage_for(settings.model_copy())
    assert isinstance(first, S3Storage) and first is second
    other = storage_for(settings.model_copy(update={"s3_prefix": "other/"}))
    assert other is not first


@pytest.mark.parametrize("prefix", ["", "city/110188/photos/"])
def test_prefix_places_the_keys(s3_endpoint: str, tmp_path: Path, prefix: str) -> None:
    settings = s3_settings(s3_endpoint, tmp_path, s3_prefix=prefix)
    checked = check_image(_photo(), max_bytes=10**6)
    storage_for(settings).put(
        checked.id, checked.ext, checked.data, checked.thumb, now=datetime.now(UTC)
    )
    objects = stored_objects(settings)
    assert set(objects) == {f"{prefix}{checked.id}", f"{prefix}{checked.id}.thumb.jpg"}
    head = s3_client(settings).head_object(Bucket=settings.s3_bucket, Key=prefix + checked.id)
    assert head["ContentType"] == "image/png" and head["Metadata"]["ext"] == "png"


def test_foreign_object_under_a_photo_key_is_not_a_photo(s3_endpoint: str, tmp_path: Path) -> None:
    settings = s3_settings(s3_endpoint, tmp_path)
    media_id = "ab" * 32
    s3_client(settings).put_object(
        Bucket=settings.s3_bucket, Key=f"media/{media_id}", Body=b"<html>", ContentType="text/html"
    )
    store = storage_for(settings)
    assert store.find(media_id) is None and store.get(media_id, "original") is None


def _client(settings: Settings) -> TestClient:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(api.router, prefix="/api")
    staff = User(id=7, username="sup", name="sup", role=Role.SUPERVISOR, active=True)
    app.dependency_overrides[get_app_settings] = lambda: settings
    app.dependency_overrides[get_optional_user] = lambda: staff
    return TestClient(app, raise_server_exceptions=False)


def test_missing_bucket_is_a_503_not_a_crash(s3_endpoint: str, tmp_path: Path) -> None:
    settings = s3_settings(s3_endpoint, tmp_path, create=False)  # the bucket does not exist
    with _client(settings) as client:
        up = client.post("/api/media", files={"file": ("a.png", _photo(), "image/png")})
        get = client.get("/api/media/" + "ab" * 32)
    for r in (up, get):
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == "media_store_unavailable"
        assert settings.s3_bucket not in body["message"]  # details go to the log only
