"""Rate limits through the real app (SQLite and PostgreSQL): 429 with Retry-After, counted in
the database even when the request itself fails and rolls back."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, func, select

from gridgov.ratelimit import RateLimitCounter, limiter_engine

TABLE = RateLimitCounter.__table__


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (seed % 256, 80, 160)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def limited(client: TestClient, engine: Engine) -> TestClient:
    """The app allowing 2 public uploads a minute, with no upload counters left from earlier
    tests (the limiter commits on its own connection, outside the test's rolled-back session)."""
    with limiter_engine(engine).begin() as conn:
        conn.execute(TABLE.delete().where(TABLE.c.key.startswith("media-upload:")))
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"media_public_per_minute": 2})  # type: ignore[attr-defined]
    return client


def test_anonymous_upload_over_the_limit_is_429_with_retry_after(limited: TestClient) -> None:
    codes = []
    for i in range(3):
        r = limited.post("/api/media", files={"file": (f"{i}.png", _png(i), "image/png")})
        codes.append(r.status_code)
    assert codes == [201, 201, 429]
    assert r.json() == {"code": "rate_limited", "message": "too many uploads; at most 2 a minute"}
    retry_after = r.headers["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 120


def test_failed_requests_still_count(limited: TestClient, engine: Engine) -> None:
    """The upload is refused (422) and its transaction rolled back; the hit stays counted."""
    for _ in range(2):
        bad = limited.post("/api/media", files={"file": ("x.jpg", b"not a photo", "image/jpeg")})
        assert bad.status_code == 422
    with limiter_engine(engine).connect() as conn:
        total = conn.execute(
            select(func.sum(TABLE.c.count)).where(TABLE.c.key.startswith("media-upload:ip:"))
        ).scalar_one()
    assert total == 2
    r = limited.post("/api/media", files={"file": ("ok.png", _png(7), "image/png")})
    assert r.status_code == 429 and "Retry-After" in r.headers
