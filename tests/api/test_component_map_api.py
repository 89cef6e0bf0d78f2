"""The components map layer over HTTP on SQLite and PostgreSQL: counts per street, community
and unit grid against the rows, bbox filtering, the zoom switch, the points cap, ETag, bad
input, login and jurisdiction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.components import mapping
from gridgov.components import service as components
from gridgov.components.models import Component, ComponentState
from gridgov.deps import get_current_user
from gridgov.errors import Unauthorized
from gridgov.regions.models import UnitGrid
from gridgov.taxonomy.models import Kind, Subclass
from tests.factories.regions import COMMUNITIES, STREETS, X0, Y0, D
from tests.unit.cases_db.world import World, build

URL = "/api/map/components.geojson"
#: The whole test district (4 communities of 2 × 2 grids, west → east) with a margin.
ALL = f"{X0 - D},{Y0 - D},{X0 + 9 * D},{Y0 + 3 * D}"
#: Street 1: the western half (communities 0 and 1).
STREET_1 = f"{X0 - D / 10},{Y0 - D / 10},{X0 + 4 * D - D / 10},{Y0 + 2 * D + D / 10}"
SUBCLASSES = ["0101", "0102", "0201", "0301", "0401"]
STATES = list(ComponentState)


class As:
    user: User | None = None


@pytest.fixture
def w(session: Session) -> Iterator[World]:
    """The test district, taxonomy and users, with 3–6 components in each of its 16 grids
    (subclasses and states varied: ~1 in 3 not intact)."""
    world = build(session)
    mapping.invalidate()
    grids = list(
        session.scalars(select(UnitGrid).where(UnitGrid.valid_to.is_(None)).order_by(UnitGrid.code))
    )
    k = 0
    for i, g in enumerate(grids):
        minx, miny, maxx, maxy = g.minx, g.miny, g.maxx, g.maxy
        for j in range(3 + i % 4):
            lon = minx + (maxx - minx) * (0.15 + 0.7 * ((j * 0.37) % 1))
            lat = miny + (maxy - miny) * (0.15 + 0.7 * ((j * 0.61) % 1))
            components.create_component(
                session,
                subclass_code=SUBCLASSES[k % len(SUBCLASSES)],
                lon=lon,
                lat=lat,
                name=f"部件{k}",
                state=STATES[k % len(STATES)] if k % 3 == 0 else ComponentState.INTACT,
                owner_dept_code="cgj" if k % 7 == 0 else None,
            )
            k += 1
    session.flush()
    yield world
    mapping.invalidate()


@pytest.fixture
def api(client: TestClient, w: World) -> Iterator[tuple[TestClient, As]]:
    who = As()
    who.user = w.leader

    def current() -> User:
        if who.user is None:
            raise Unauthorized("please log in")
        return who.user

    client.app.dependency_overrides[get_current_user] = current  # type: ignore[attr-defined]
    yield client, who


def _rows(session: Session) -> list[Component]:
    return list(session.scalars(select(Component).order_by(Component.id)))


def _get(c: TestClient, **params: Any) -> dict[str, Any]:
    r = c.get(URL, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    return r.json()  # type: ignore[no-any-return]


def _by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f for f in body["features"]}


def test_counts_per_grid_community_and_street_match_the_rows(api, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, _ = api
    rows = _rows(session)
    assert len(rows) == 4 * 3 + 4 * 4 + 4 * 5 + 4 * 6
    for level, n in (("grid", None), ("community", 12), ("street", 9)):
        body = _get(c, bbox=ALL, level=level)
        assert body["level"] == level and body["type"] == "FeatureCollection"
        assert body["total"] == len(rows) and body["truncated"] is False
        assert body["classes"]["01"] == "公用设施"
        got = _by_code(body)
        expected_codes = {r.grid_code[:n] if n else r.grid_code for r in rows}
        assert set(got) == expected_codes
        for code, f in got.items():
            mine = [r for r in rows if r.grid_code.startswith(code)]
            p = f["properties"]
            assert p["count"] == len(mine), (level, code)
            assert p["classes"] == dict(Counter(r.subclass_code[:2] for r in mine))
            assert p["states"] == dict(Counter(r.state.value for r in mine))
            assert p["not_intact"] == sum(r.state is not ComponentState.INTACT for r in mine)
        assert body["max"] == max(f["properties"]["count"] for f in body["features"])
    # Grid circles sit inside their grid; community circles carry the community's name.
    grids = {g.code: g.geom for g in session.scalars(select(UnitGrid))}
    for code, f in _by_code(_get(c, bbox=ALL, level="grid")).items():
        assert grids[code].contains(Point(f["geometry"]["coordinates"]))
    assert _by_code(_get(c, bbox=ALL, level="community"))[COMMUNITIES[0]]["properties"]["name"] == (
        "多福巷社区"
    )


def test_bbox_filters_groups_and_points(api, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, _ = api
    rows = _rows(session)
    body = _get(c, bbox=STREET_1, level="community")
    assert set(_by_code(body)) == set(COMMUNITIES[:2])
    assert body["total"] == sum(r.grid_code.startswith(STREETS[0]) for r in rows)
    # Points: exactly the components whose position is inside the box.
    box = (X0 + 0.2 * D, Y0 + 0.2 * D, X0 + 1.7 * D, Y0 + 1.3 * D)
    body = _get(c, bbox=",".join(map(str, box)), level="points")
    inside = [r.id for r in rows if box[0] <= r.lon <= box[2] and box[1] <= r.lat <= box[3]]
    assert 0 < len(inside) < len(rows)
    assert sorted(f["properties"]["id"] for f in body["features"]) == inside
    assert body["total"] == len(inside) and body["truncated"] is False
    one = next(f for f in body["features"] if f["properties"]["id"] == inside[0])
    row = next(r for r in rows if r.id == inside[0])
    name = session.scalar(
        select(Subclass.name).where(
            Subclass.kind == Kind.COMPONENT, Subclass.code == row.subclass_code
        )
    )
    assert one["properties"] == {
        "id": row.id,
        "subclass": row.subclass_code,
        "subclass_name": name,
        "major": row.subclass_code[:2],
        "state": row.state.value,
    }
    assert one["geometry"]["coordinates"] == pytest.approx([row.lon, row.lat], abs=1e-7)
    # A box with nothing in it.
    empty = _get(c, bbox=f"{X0 + 20 * D},{Y0},{X0 + 21 * D},{Y0 + D}", level="grid")
    assert empty["features"] == [] and empty["total"] == 0


def test_zoom_chooses_the_level(api, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    c, _ = api
    monkeypatch.setattr(mapping, "AUTO_POINTS", 0)  # never switch to points by count
    levels = {z: _get(c, bbox=ALL, zoom=z)["level"] for z in (9, 11.9, 12, 13.9, 14, 16.9, 17, 19)}
    assert levels == {
        9: "street",
        11.9: "street",
        12: "community",
        13.9: "community",
        14: "grid",
        16.9: "grid",
        17: "points",
        19: "points",
    }
    # Too many groups for the level: the next coarser one (auto only).
    monkeypatch.setattr(mapping, "MAX_GROUPS", 5)
    assert _get(c, bbox=ALL, zoom=15)["level"] == "community"
    assert _get(c, bbox=ALL, zoom=15, level="grid")["level"] == "grid"
    monkeypatch.setattr(mapping, "MAX_GROUPS", 2)
    assert _get(c, bbox=ALL, zoom=15)["level"] == "street"
    # A view holding few components gets them as points whatever the zoom.
    monkeypatch.setattr(mapping, "AUTO_POINTS", 1500)
    body = _get(c, bbox=ALL, zoom=10)
    assert body["level"] == "points" and len(body["features"]) == body["total"] == 72


def test_points_are_capped_with_truncated(api, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, _ = api
    rows = _rows(session)
    body = _get(c, bbox=ALL, zoom=18, limit=5)
    assert body["level"] == "points" and body["limit"] == 5
    assert len(body["features"]) == 5 and body["total"] == len(rows)
    assert body["truncated"] is True
    # Non-intact components come first when the view is cut.
    assert all(f["properties"]["state"] != "intact" for f in body["features"])
    whole = _get(c, bbox=ALL, zoom=18, limit=len(rows))
    assert whole["truncated"] is False and len(whole["features"]) == len(rows)


def test_revalidation_by_etag_and_changes_seen(  # type: ignore[no-untyped-def]
    api, session: Session, w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, _ = api
    full_counts: list[int] = []
    group_all = mapping._group_all
    monkeypatch.setattr(mapping, "_group_all", lambda *a: full_counts.append(1) or group_all(*a))
    r = c.get(URL, params={"bbox": ALL, "level": "grid"})
    etag = r.headers["etag"]
    assert etag.startswith('W/"') and "no-cache" in r.headers["cache-control"]
    assert "Authorization" in r.headers["vary"]
    again = c.get(URL, params={"bbox": ALL, "level": "grid"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = c.get(URL, params={"bbox": ALL, "level": "community"}, headers={"If-None-Match": etag})
    assert other.status_code == 200

    # A state change and a new component: new ETag, counts moved (applied as a delta).
    first = _rows(session)[0]
    to = ComponentState.LOST if first.state is not ComponentState.LOST else ComponentState.INTACT
    components.change_state(session, first.id, to)
    made = components.create_component(
        session, subclass_code="0101", lon=first.lon, lat=first.lat, state="damaged"
    )
    session.flush()
    assert len(full_counts) == 1
    r2 = c.get(URL, params={"bbox": ALL, "level": "grid"}, headers={"If-None-Match": etag})
    assert r2.status_code == 200 and r2.headers["etag"] != etag
    assert len(full_counts) == 1  # the two new history rows were applied to the counts
    rows = _rows(session)
    grid = _by_code(r2.json())[first.grid_code]["properties"]
    mine = [x for x in rows if x.grid_code == first.grid_code]
    assert made.grid_code == first.grid_code
    assert grid["count"] == len(mine)
    assert grid["states"] == dict(Counter(x.state.value for x in mine))
    # The same answer as counting again from scratch.
    delta = r2.json()["features"]
    mapping.invalidate()
    assert _get(c, bbox=ALL, level="grid")["features"] == delta
    assert len(full_counts) == 2


def test_large_answers_are_gzipped(api) -> None:  # type: ignore[no-untyped-def]
    c, _ = api
    r = c.get(URL, params={"bbox": ALL, "level": "points"}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
    assert len(r.json()["features"]) == 72


def test_bad_parameters_are_422_naming_them(api) -> None:  # type: ignore[no-untyped-def]
    c, _ = api

    def field(r) -> str:  # type: ignore[no-untyped-def]
        assert r.status_code == 422, r.text
        body = r.json()
        return (body.get("where") or {}).get("field") or body["problems"][0]["field"]

    assert field(c.get(URL)) == "bbox"
    for bad in ("1,2,3", "a,b,c,d", "116.5,39.9,116.4,40.0", "200,0,201,1", "1,2,3,4,5"):
        assert field(c.get(URL, params={"bbox": bad})) == "bbox", bad
    assert field(c.get(URL, params={"bbox": ALL, "zoom": 30})) == "zoom"
    assert field(c.get(URL, params={"bbox": ALL, "zoom": "near"})) == "zoom"
    assert field(c.get(URL, params={"bbox": ALL, "level": "building"})) == "level"
    assert field(c.get(URL, params={"bbox": ALL, "limit": 0})) == "limit"
    assert field(c.get(URL, params={"bbox": ALL, "limit": mapping.MAX_POINTS + 1})) == "limit"


def test_login_required_and_jurisdiction(api, session: Session, w: World) -> None:  # type: ignore[no-untyped-def]
    c, who = api
    who.user = None
    r = c.get(URL, params={"bbox": ALL})
    assert r.status_code == 401
    who.user = w.resident
    r = c.get(URL, params={"bbox": ALL})
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    rows = _rows(session)
    # A supervisor of street 2 sees street 2's components only.
    who.user = w.far_supervisor
    body = _get(c, bbox=ALL, level="street")
    assert set(_by_code(body)) == {STREETS[1]}
    assert body["total"] == sum(r.grid_code.startswith(STREETS[1]) for r in rows)
    points = _get(c, bbox=ALL, level="points", limit=1000)
    assert {f["properties"]["id"] for f in points["features"]} == {
        r.id for r in rows if r.grid_code.startswith(STREETS[1])
    }
    # A department without territory sees the components it owns.
    who.user = w.department
    body = _get(c, bbox=ALL, level="points", limit=1000)
    assert {f["properties"]["id"] for f in body["features"]} == {
        r.id for r in rows if r.owner_dept_code == "cgj"
    }
    assert body["total"] == _get(c, bbox=ALL, level="grid")["total"] > 0


def test_a_deletion_makes_it_count_again(  # type: ignore[no-untyped-def]
    api, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """History rows cannot account for a deleted component: the counts are taken again."""
    c, _ = api
    full_counts: list[int] = []
    group_all = mapping._group_all
    monkeypatch.setattr(mapping, "_group_all", lambda *a: full_counts.append(1) or group_all(*a))
    before = _get(c, bbox=ALL, level="street")
    gone = _rows(session)[-1]
    session.delete(gone)
    session.flush()
    after = _get(c, bbox=ALL, level="street")
    assert len(full_counts) == 2
    assert after["total"] == before["total"] - 1
    street = _by_code(after)[gone.grid_code[:9]]["properties"]
    assert street["count"] == _by_code(before)[gone.grid_code[:9]]["properties"]["count"] - 1
