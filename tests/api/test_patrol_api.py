"""Patrols over HTTP on SQLite and PostgreSQL: start, idempotent batches, stop, live map,
track, coverage, and the refusals (roles, owner, jurisdiction, bad input)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.deps import get_current_user, get_optional_user
from gridgov.errors import Unauthorized
from gridgov.geo.chinacrs import from_wgs84
from tests.factories.regions import COMMUNITIES, X0, Y0, D
from tests.unit.cases_db.world import World, build

IN_01 = (X0 + 0.5 * D, Y0 + 1.5 * D)
IN_C1_01 = (X0 + 2.5 * D, Y0 + 1.5 * D)


class As:
    user: User | None = None


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(client: TestClient, w: World) -> Iterator[tuple[TestClient, As]]:
    who = As()

    def current() -> User:
        if who.user is None:
            raise Unauthorized("please log in")
        return who.user

    client.app.dependency_overrides[get_current_user] = current  # type: ignore[attr-defined]
    client.app.dependency_overrides[get_optional_user] = lambda: who.user  # type: ignore[attr-defined]
    yield client, who


def _pos(point: tuple[float, float], seconds_ago: float, **kw: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {"lon": point[0], "lat": point[1], "accuracy_m": 6.5, "at": at.isoformat()} | kw


def test_start_send_stop_and_read(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    r = c.post("/api/patrol/start")
    assert r.status_code == 201, r.text
    patrol = r.json()
    pid = patrol["id"]
    assert patrol["running"] and patrol["username"] == "sup" and patrol["last"] is None
    again = c.post("/api/patrol/start")
    assert again.status_code == 200 and again.json()["id"] == pid
    assert c.get("/api/patrol/current").json()["id"] == pid

    batch = [_pos(IN_01, 60), _pos(IN_C1_01, 30)]
    r = c.post(f"/api/patrol/{pid}/positions", json=batch)
    assert r.status_code == 200, r.text
    assert (r.json()["stored"], r.json()["duplicates"]) == (2, 0)
    assert r.json()["last"]["grid_code"] == f"{COMMUNITIES[1]}01"
    # The same batch again (the answer was lost on the way): nothing stored twice.
    r = c.post(f"/api/patrol/{pid}/positions", json=list(reversed(batch)))
    assert (r.json()["stored"], r.json()["duplicates"], r.json()["point_count"]) == (0, 2, 2)

    track = c.get(f"/api/patrol/{pid}/track")
    assert track.status_code == 200 and track.headers["content-type"] == "application/geo+json"
    feature = track.json()
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == 2
    cover = c.get(f"/api/patrol/{pid}/coverage").json()
    assert [g["grid_code"] for g in cover["grids"]] == [
        f"{COMMUNITIES[0]}01",
        f"{COMMUNITIES[0]}02",
        f"{COMMUNITIES[1]}01",
    ]
    assert cover["grid_count"] == 3 and cover["length_m"] > 100

    stopped = c.post(f"/api/patrol/{pid}/stop")
    assert stopped.status_code == 200 and stopped.json()["running"] is False
    assert c.post(f"/api/patrol/{pid}/stop").json()["stopped_at"] == stopped.json()["stopped_at"]
    assert c.get("/api/patrol/current").json() is None
    assert [p["id"] for p in c.get("/api/patrol").json()["items"]] == [pid]

    who.user = w.leader
    assert c.get(f"/api/patrol/{pid}").json()["point_count"] == 2
    assert c.get("/api/patrol", params={"running": False}).json()["count"] == 1


def test_gcj02_batch_is_converted(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    pid = c.post("/api/patrol/start").json()["id"]
    glon, glat = from_wgs84(IN_01[0], IN_01[1], "gcj02")
    point = _pos((float(glon), float(glat)), 10)
    r = c.post(f"/api/patrol/{pid}/positions", params={"crs": "gcj02"}, json=[point])
    assert r.status_code == 200, r.text
    last = r.json()["last"]
    assert last["lon"] == pytest.approx(IN_01[0], abs=1e-6)
    assert last["grid_code"] == f"{COMMUNITIES[0]}01"


def test_bad_batches_are_422_naming_the_field(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    pid = c.post("/api/patrol/start").json()["id"]
    url = f"/api/patrol/{pid}/positions"

    def field(r) -> str:  # type: ignore[no-untyped-def]
        body = r.json()
        return (body.get("where") or {}).get("field") or body["problems"][0]["field"]

    cases = [
        ([_pos(IN_01, 5, lat=95)], "0.lat"),
        ([_pos(IN_01, 5), _pos(IN_01, 4, lon="east")], "1.lon"),
        ([_pos(IN_01, 5, accuracy_m=-3)], "0.accuracy_m"),
        ([_pos(IN_01, 5, at="2026-06-01T09:00:00")], "0.at"),
        ([_pos(IN_01, 5, at="yesterday")], "0.at"),
        ([_pos(IN_01, 5, speed=3)], "0.speed"),
        ([_pos(IN_01, i) for i in range(501)], "positions"),
    ]
    for batch, name in cases:
        r = c.post(url, json=batch)
        assert r.status_code == 422, (name, r.text)
        assert field(r) == name
    assert field(c.post(url, params={"crs": "utm"}, json=[])) == "crs"
    assert c.post(url, json={"lon": 1}).status_code == 422
    assert c.post("/api/patrol/99999999999/positions", json=[]).status_code == 422
    assert c.post("/api/patrol/0/stop").status_code == 422
    assert c.post("/api/patrol/2147483647/stop").status_code == 404
    assert c.get("/api/patrol/abc/track").status_code == 422
    r = c.post(url, json=[_pos(IN_01, 5, at="9999-12-31T23:59:59-12:00")])
    assert r.status_code == 200 and r.json()["rejected"][0]["reason"] == "out of range"
    r = c.post(url, json=[_pos(IN_01, 3600 * 5)])  # before the start: listed, not stored
    assert r.status_code == 200 and r.json()["rejected"][0]["field"] == "positions.0.at"
    assert r.json()["stored"] == 0


def test_roles_owner_and_jurisdiction(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    pid = c.post("/api/patrol/start").json()["id"]
    c.post(f"/api/patrol/{pid}/positions", json=[_pos(IN_01, 5)])
    who.user = w.checker  # another supervisor
    r = c.post(f"/api/patrol/{pid}/positions", json=[_pos(IN_01, 4)])
    assert r.status_code == 403 and r.json()["code"] == "not_owner"
    assert c.post(f"/api/patrol/{pid}/stop").status_code == 403
    assert c.get(f"/api/patrol/{pid}/track").json()["code"] == "not_owner"
    who.user = w.leader
    r = c.post("/api/patrol/start")
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    assert c.get(f"/api/patrol/{pid}/track").status_code == 200
    who.user = w.far_lead
    r = c.get(f"/api/patrol/{pid}/coverage")
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    who.user = w.resident
    assert c.get("/api/patrol/live").json()["code"] == "forbidden_role"
    who.user = None
    assert c.get("/api/patrol/live").status_code == 401
    assert c.post("/api/patrol/start").status_code == 401


def test_live_map_shows_supervisors_on_patrol_in_jurisdiction(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    pid = c.post("/api/patrol/start").json()["id"]
    c.post(f"/api/patrol/{pid}/positions", json=[_pos(IN_01, 20), _pos(IN_C1_01, 10)])
    who.user = w.leader
    r = c.get("/api/patrol/live")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    live = r.json()
    assert live["type"] == "FeatureCollection" and live["count"] == 1
    (feature,) = live["features"]
    assert feature["geometry"]["coordinates"] == [round(c, 7) for c in IN_C1_01]
    props = feature["properties"]
    assert props["patrol_id"] == pid and props["username"] == "sup"
    assert props["grid_code"] == f"{COMMUNITIES[1]}01" and 5 <= props["age_seconds"] <= 60
    who.user = w.far_lead
    assert c.get("/api/patrol/live").json()["features"] == []
