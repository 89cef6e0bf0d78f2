"""Photo uploads: checked by content and size, stored once per content, served by hex id.

The API tests run on both stores (``settings`` is parametrised in conftest.py): the local disk and
a real S3-compatible server on localhost.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from gridgov.accounts.models import Role, User
from gridgov.app import _install_error_handlers
from gridgov.config import Settings
from gridgov.deps import get_app_settings, get_optional_user
from gridgov.media import api
from gridgov.media.checks import check_image
from gridgov.media.storage import LocalStorage, s3_client, storage_for
from gridgov.ratelimit import RateLimitCounter, limiter_engine
from tests.unit.media.stores import stored_objects


def _image(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), **save: object) -> bytes:
    img = Image.new("RGB", size, (200, 60, 30))
    img.paste((20, 90, 200), (0, 0, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def _client(settings: Settings, user: User | None, engine: Engine | None = None) -> TestClient:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(api.router, prefix="/api")
    app.state.engine = engine  # only the rate limiter (anonymous and resident uploads) needs it
    app.dependency_overrides[get_app_settings] = lambda: settings
    app.dependency_overrides[get_optional_user] = lambda: user
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    staff = User(id=7, username="sup", name="sup", role=Role.SUPERVISOR, active=True)
    with _client(settings, staff) as c:
        yield c


def _upload(client: TestClient, data: bytes, name: str = "photo.jpg") -> dict:  # type: ignore[type-arg]
    r = client.post("/api/media", files={"file": (name, data, "image/jpeg")})
    return {"status": r.status_code, **r.json()}


def test_jpeg_is_stored_with_a_thumbnail(client: TestClient, settings: Settings) -> None:
    data = _image("JPEG")
    out = _upload(client, data)
    assert out["status"] == 201
    assert len(out["id"]) == 64 and (out["width"], out["height"]) == (1200, 800)
    assert out["url"] == f"/api/media/{out['id']}"
    assert out["thumb_url"] == f"/api/media/{out['id']}/thumb"
    _assert_layout(settings, out["id"], "jpg", data)
    original = client.get(out["url"])
    assert original.status_code == 200 and original.content == data
    assert original.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(client.get(out["thumb_url"]).content))
    assert thumb.format == "JPEG" and max(thumb.size) == 400 and thumb.size == (400, 267)


def test_png_with_transparency_and_webp_are_accepted(client: TestClient) -> None:
    rgba = Image.new("RGBA", (300, 500), (0, 0, 0, 0))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    png = _upload(client, buf.getvalue(), "a.png")
    assert png["status"] == 201 and png["url"].endswith(png["id"])
    assert client.get(png["url"]).headers["content-type"] == "image/png"
    thumb = Image.open(io.BytesIO(client.get(png["thumb_url"]).content))
    assert thumb.size == (240, 400)
    webp = _upload(client, _image("WEBP", (50, 40)), "b.webp")
    assert webp["status"] == 201 and (webp["width"], webp["height"]) == (50, 40)


def test_same_photo_twice_is_stored_once(client: TestClient, settings: Settings) -> None:
    data = _image("PNG", (64, 64))
    first, second = _upload(client, data, "one.png"), _upload(client, data, "two.jpg")
    assert first["id"] == second["id"]
    assert len(stored_objects(settings)) == 2  # the original and its thumbnail


def test_renamed_text_file_is_refused(client: TestClient, settings: Settings) -> None:
    out = _upload(client, b"hello, this is not a photo\n" * 10, "evil.jpg")
    assert out["status"] == 422 and out["code"] == "not_an_image"
    assert "not an image" in out["message"]
    assert stored_objects(settings) == {}
    assert not (settings.data_dir / "media").exists()


def test_truncated_image_is_refused(client: TestClient) -> None:
    data = _image("JPEG")
    out = _upload(client, data[: len(data) // 2])
    assert out["status"] == 422 and out["code"] == "broken_image"
    png = _image("PNG", (300, 300))
    assert _upload(client, png[:-200], "x.png")["code"] == "broken_image"


def test_gif_and_empty_files_are_refused(client: TestClient) -> None:
    gif = _upload(client, _image("GIF", (10, 10)), "x.gif")
    assert gif["status"] == 422 and gif["code"] == "unsupported_image" and "GIF" in gif["message"]
    assert _upload(client, b"", "x.jpg")["status"] == 422


def test_oversize_upload_is_413(client: TestClient) -> None:
    big = _image("PNG", (1500, 1500), compress_level=0)
    assert len(big) > 200_000
    out = _upload(client, big, "big.png")
    assert out["status"] == 413 and out["code"] == "too_large"


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (300, 100), "red")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    checked = check_image(buf.getvalue(), max_bytes=10**6)
    assert (checked.width, checked.height) == (100, 300)
    stored = Image.open(io.BytesIO(checked.data))
    assert stored.size == (100, 300) and stored.getexif().get(0x0112, 1) == 1
    assert Image.open(io.BytesIO(checked.thumb)).size == (100, 300)


@pytest.mark.parametrize(
    "media_id",
    ["..%2F..%2Fgridgov.toml", "../etc/passwd", "A" * 64, "0" * 63, "g" * 64, "0" * 64 + ".jpg"],
)
def test_bad_or_unknown_ids_are_404(client: TestClient, media_id: str) -> None:
    for suffix in ("", "/thumb"):
        r = client.get(f"/api/media/{media_id}{suffix}")
        assert r.status_code == 404, (media_id, r.text)


def test_unknown_id_is_404(client: TestClient) -> None:
    r = client.get("/api/media/" + "ab" * 32)
    assert r.status_code == 404 and r.json()["code"] == "media_not_found"


def test_storage_refuses_non_hex_ids(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    assert store.find("../../x") is None
    with pytest.raises(ValueError):
        store.put("../x", "jpg", b"", b"", now=datetime(2026, 1, 1))


def test_photos_are_found_in_any_month_folder(tmp_path: Path) -> None:
    """Newest folders are searched first; a photo from years ago is still found, stray folders
    and files beside the YYYY/MM folders are ignored."""
    store = LocalStorage(tmp_path)
    ids = [f"{n:064x}" for n in range(1, 5)]
    months = [
        datetime(2024, 2, 1),
        datetime(2025, 12, 1),
        datetime(2026, 1, 1),
        datetime(2026, 11, 1),
    ]
    for media_id, month in zip(ids, months, strict=True):
        store.put(media_id, "png" if month.year == 2024 else "jpg", b"o", b"t", now=month)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "2026" / "notes.txt").write_text("x")
    found = [store.find(i) for i in ids]
    assert [(f.folder, f.ext) for f in found if f] == [
        ("2024/02", "png"),
        ("2025/12", "jpg"),
        ("2026/01", "jpg"),
        ("2026/11", "jpg"),
    ]
    assert store.find(f"{99:064x}") is None


@pytest.fixture
def clean_counters(engine: Engine) -> None:
    """Forget earlier tests' upload counters (the limiter commits in its own transaction)."""
    with limiter_engine(engine).begin() as conn:
        conn.execute(RateLimitCounter.__table__.delete())


def test_anonymous_uploads_are_rate_limited_per_ip(
    settings: Settings, engine: Engine, clean_counters: None
) -> None:
    limited = settings.model_copy(update={"media_public_per_minute": 2})
    data = _image("PNG", (8, 8))
    with _client(limited, None, engine) as anon:
        responses = [anon.post("/api/media", files={"file": ("a.png", data)}) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 429]
    refused = responses[2]
    body = refused.json()
    assert body["code"] == "rate_limited" and "at most 2 a minute" in body["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 120


def test_residents_are_limited_per_account(
    settings: Settings, engine: Engine, clean_counters: None
) -> None:
    limited = settings.model_copy(update={"media_public_per_minute": 1})
    codes = []
    for uid in (101, 102, 101):  # the same IP address (the test client) for all three
        resident = User(id=uid, username=f"r{uid}", name="r", role=Role.RESIDENT, active=True)
        with _client(limited, resident, engine) as c:
            codes.append(_upload(c, _image("PNG", (9, 9)), "a.png")["status"])
    assert codes == [201, 201, 429]


def test_staff_uploads_are_not_rate_limited(settings: Settings) -> None:
    limited = settings.model_copy(update={"media_public_per_minute": 1})
    staff = User(id=8, username="acc", name="acc", role=Role.ACCEPTOR, active=True)
    with _client(limited, staff) as c:  # no engine: the limiter is never asked
        codes = [_upload(c, _image("PNG", (8 + i, 8)), "a.png")["status"] for i in range(3)]
    assert codes == [201, 201, 201]


def _assert_layout(settings: Settings, media_id: str, ext: str, data: bytes) -> None:
    """The original and its thumbnail sit where each store documents them."""
    objects = stored_objects(settings)
    if settings.media_store == "filesystem":
        month = datetime.now(UTC).strftime("%Y/%m")
        original, thumb = f"{month}/{media_id}.{ext}", f"{month}/{media_id}.thumb.jpg"
    else:
        original, thumb = f"media/{media_id}", f"media/{media_id}.thumb.jpg"
    assert set(objects) == {original, thumb}
    assert objects[original] == data
    assert Image.open(io.BytesIO(objects[thumb])).format == "JPEG"


def test_store_exists_get_delete(settings: Settings) -> None:
    store = storage_for(settings)
    data = _image("WEBP", (40, 30))
    checked = check_image(data, max_bytes=10**6)
    assert not store.exists(checked.id) and store.get(checked.id, "original") is None
    assert store.delete(checked.id) is False
    item = store.put(checked.id, "webp", checked.data, checked.thumb, now=datetime.now(UTC))
    assert (item.id, item.ext, item.media_type) == (checked.id, "webp", "image/webp")
    assert store.exists(checked.id) and store.find(checked.id) == item
    original, thumb = store.get(checked.id, "original"), store.get(checked.id, "thumb")
    assert original is not None and (original.data, original.media_type) == (data, "image/webp")
    assert thumb is not None and thumb.media_type == "image/jpeg"
    again = store.put(checked.id, "png", b"other", b"other", now=datetime(2020, 1, 1, tzinfo=UTC))
    assert again == item  # already stored: nothing is rewritten
    assert store.delete(checked.id) is True
    assert not store.exists(checked.id) and stored_objects(settings) == {}
    for bad in ("../x", "A" * 64, ""):
        assert not store.exists(bad) and store.get(bad, "thumb") is None
    with pytest.raises(ValueError):
        store.put("../x", "jpg", b"", b"", now=datetime(2026, 1, 1, tzinfo=UTC))


def test_missing_thumbnail_is_404_but_original_served(
    settings: Settings, client: TestClient
) -> None:
    out = _upload(client, _image("JPEG", (30, 20)))
    objects = stored_objects(settings)
    thumb_name = next(name for name in objects if name.endswith(".thumb.jpg"))
    if settings.media_store == "filesystem":
        (settings.data_dir / "media" / thumb_name).unlink()
    else:
        s3_client(settings).delete_object(Bucket=settings.s3_bucket, Key=thumb_name)
    assert client.get(out["url"]).status_code == 200
    r = client.get(out["thumb_url"])
    assert r.status_code == 404 and r.json()["message"].startswith("no thumb of photo")
