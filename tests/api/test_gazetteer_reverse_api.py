"""Reverse address lookup over HTTP (GET /api/gazetteer/reverse), on SQLite and PostgreSQL:
the nearest door plates and buildings with their distance, the grid holding the point, 422 for
bad coordinates, an empty list when nothing is near, and the public rate limit (429) for
anonymous callers and residents but not for staff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gridgov import ratelimit
from gridgov.accounts.models import Role, User
from gridgov.db import make_engine
from gridgov.deps import get_optional_user
from gridgov.gazetteer import service
from gridgov.geo.chinacrs import from_wgs84
from tests.factories.regions import COMMUNITIES, X0, Y0, D, make_district

# A point in the south-west grid (03) of community 110188001002 and addresses around it.
LON, LAT = X0 + 2.5 * D, Y0 + 0.5 * D
M = 1 / 111_195  # about one metre in degrees of latitude


@pytest.fixture
def limiter_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The limiter's counters in a database of their own (committed, unlike the test's rows)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    ratelimit.RateLimitCounter.__table__.create(engine)
    monkeypatch.setattr(ratelimit, "limiter_engine", lambda _engine: engine)
    yield engine
    engine.dispose()


@pytest.fixture
def place(session: Session, limiter_db: Engine) -> None:
    make_district(session)
    service.add_entries(
        session,
        [
            {"address": "北京市东华区东四北大街12号", "lon": LON, "lat": LAT + 20 * M},
            {
                "address": "北京市东华区东四北大街12号院3号楼",
                "lon": LON,
                "lat": LAT + 5 * M,
                "kind": "楼栋",
            },
            {"address": "北京市东华区东四北大街21号", "lon": LON, "lat": LAT - 300 * M},
        ],
    )
    session.flush()


def _reverse(client: TestClient, **params: object) -> dict:
    r = client.get("/api/gazetteer/reverse", params={"lon": LON, "lat": LAT, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_nearest_addresses_and_the_grid(client: TestClient, place: None) -> None:
    body = _reverse(client)
    assert body["grid"]["code"] == COMMUNITIES[1] + "03"
    assert body["community"]["code"] == COMMUNITIES[1]
    assert body["street"] == {"code": "110188001", "name": "东华门街道"}
    assert body["point"] == {"lon": round(LON, 7), "lat": round(LAT, 7)}
    assert body["radius_m"] == 100
    results = body["results"]
    assert [(r["address"], r["kind"]) for r in results] == [
        ("北京市东华区东四北大街12号院3号楼", "building"),
        ("北京市东华区东四北大街12号", "door_plate"),
    ]
    assert set(results[0]) == {"id", "address", "kind", "lon", "lat", "distance_m"}
    assert results[0]["distance_m"] == pytest.approx(5, abs=0.5)
    assert results[1]["distance_m"] == pytest.approx(20, abs=0.5)


def test_radius_limit_and_crs(client: TestClient, place: None) -> None:
    assert len(_reverse(client, radius_m=500)["results"]) == 3
    assert len(_reverse(client, radius_m=500, limit=1)["results"]) == 1
    glon, glat = from_wgs84(LON, LAT, "gcj02")
    body = _reverse(client, lon=glon, lat=glat, crs="gcj02")
    assert body["results"][0]["address"] == "北京市东华区东四北大街12号院3号楼"
    assert body["grid"]["code"] == COMMUNITIES[1] + "03"
    assert body["point"]["lon"] == pytest.approx(LON, abs=1e-6)


def test_nothing_near_is_an_empty_list(client: TestClient, place: None) -> None:
    body = _reverse(client, lon=LON, lat=LAT - 0.02)  # south of the district: no grid either
    assert body["results"] == [] and body["grid"] is None and body["community"] is None
    assert body["point"]["lat"] == pytest.approx(LAT - 0.02)


@pytest.mark.parametrize(
    "params",
    [
        {"lon": "abc", "lat": LAT},
        {"lon": LON},
        {"lon": "nan", "lat": LAT},
        {"lon": LON, "lat": "inf"},
        {"lon": 181, "lat": LAT},
        {"lon": LON, "lat": -91},
        {"lon": LON, "lat": LAT, "radius_m": 0},
        {"lon": LON, "lat": LAT, "radius_m": 5000},
        {"lon": LON, "lat": LAT, "limit": 0},
        {"lon": LON, "lat": LAT, "crs": "epsg3857"},
    ],
)
def test_bad_coordinates_are_422(client: TestClient, place: None, params: dict) -> None:
    r = client.get("/api/gazetteer/reverse", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"


def _limit(client: TestClient, n: int) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(update={"public_lookups_per_minute": n})  # type: ignore[attr-defined]


def test_anonymous_callers_are_rate_limited(client: TestClient, place: None) -> None:
    _limit(client, 2)
    codes = [
        client.get("/api/gazetteer/reverse", params={"lon": LON, "lat": LAT}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    r = client.get("/api/gazetteer/reverse", params={"lon": LON, "lat": LAT})
    assert r.json()["code"] == "rate_limited"
    assert r.headers["Retry-After"].isdigit()


@pytest.mark.parametrize(("role", "limited"), [(Role.SUPERVISOR, False), (Role.RESIDENT, True)])
def test_staff_are_not_limited(
    client: TestClient, place: None, session: Session, role: Role, limited: bool
) -> None:
    user = User(username=f"u-{role.value}", name="测试", role=role)
    session.add(user)
    session.flush()
    client.app.dependency_overrides[get_optional_user] = lambda: user  # type: ignore[attr-defined]
    _limit(client, 1)
    codes = [
        client.get("/api/gazetteer/reverse", params={"lon": LON, "lat": LAT}).status_code
        for _ in range(3)
    ]
    assert codes == ([200, 429, 429] if limited else [200, 200, 200])
