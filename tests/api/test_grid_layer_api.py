"""The unit grid layer by view over HTTP on SQLite and PostgreSQL (``GET /api/grids.geojson``):
unit grids when zoomed in, one outline per community or street with its grid count further out,
bbox and region filters, bbox validation, ETag; and the dashboard's density per community or
street."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from sqlalchemy.orm import Session

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.regions import grid_layer, service
from gridgov.regions.schemas import RegionIn
from tests.api.acting import As, acting_client
from tests.factories.regions import COMMUNITIES, STREETS, X0, Y0, D, community_box
from tests.unit.cases_db.world import World, build, report

URL = "/api/grids.geojson"
ALL = f"{X0 - D},{Y0 - D},{X0 + 9 * D},{Y0 + 3 * D}"
#: Inside community 0 only (the western one of street 1).
COMMUNITY_0 = f"{X0 + 0.2 * D},{Y0 + 0.2 * D},{X0 + 1.8 * D},{Y0 + 1.8 * D}"


@pytest.fixture
def w(session: Session) -> Iterator[World]:
    grid_layer.invalidate()
    yield build(session)
    grid_layer.invalidate()


@pytest.fixture
def c(session: Session, w: World, tmp_path: Any) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, environment="test"), session.get_bind())
    with acting_client(app, session) as client:
        yield client


def _get(c: TestClient, **params: Any) -> dict[str, Any]:
    r = c.get(URL, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    return r.json()  # type: ignore[no-any-return]


def _codes(body: dict[str, Any]) -> list[str]:
    return [f["properties"]["code"] for f in body["features"]]


def test_zoomed_in_gives_unit_grids(c: TestClient) -> None:
    body = _get(c, bbox=COMMUNITY_0, zoom=15)
    assert body["level"] == "grid" and body["total"] == 4
    assert _codes(body) == [COMMUNITIES[0] + s for s in ("01", "02", "03", "04")]
    props = body["features"][0]["properties"]
    assert props["community_code"] == COMMUNITIES[0] and props["area_m2"] > 9000
    # Without a zoom: unit grids, as before (the admin and command pages ask that way).
    assert _codes(_get(c, bbox=COMMUNITY_0)) == _codes(body)
    assert len(_get(c, region=STREETS[1])["features"]) == 8


def test_district_zoom_gives_communities_with_grid_counts(c: TestClient) -> None:
    body = _get(c, bbox=ALL, zoom=12)
    assert body["level"] == "community" and body["total"] == 16
    assert _codes(body) == COMMUNITIES
    first = body["features"][0]
    assert first["properties"] == {
        "level": "community",
        "code": COMMUNITIES[0],
        "name": "多福巷社区",
        "grids": 4,
        "area_m2": pytest.approx(first["properties"]["area_m2"]),
    }
    outline = shape(first["geometry"])
    assert outline.is_valid and outline.bounds == pytest.approx(
        (X0, Y0, X0 + 2 * D, Y0 + 2 * D), abs=2e-6
    )
    # Only what the box meets; a region narrows it.
    assert _codes(_get(c, bbox=COMMUNITY_0, zoom=12)) == [COMMUNITIES[0]]
    assert _codes(_get(c, zoom=12, region=STREETS[1])) == COMMUNITIES[2:]
    assert _codes(_get(c, zoom=12, region="110000")) == COMMUNITIES  # the city: its districts


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    """A bbox parameter in grid units from (X0, Y0)."""
    return f"{X0 + x0 * D},{Y0 + y0 * D},{X0 + x1 * D},{Y0 + y1 * D}"


def test_outline_levels_answer_only_what_a_small_box_touches(
    c: TestClient, session: Session
) -> None:
    # A box across the border of communities 0 and 1, one inside community 2, one inside
    # street 2: only those, at community and at street level.
    assert _codes(_get(c, bbox=_box(1.5, 0.5, 2.5, 1.5), zoom=12)) == COMMUNITIES[:2]
    only_2 = _get(c, bbox=_box(4.2, 0.2, 5.8, 1.8), zoom=12)
    assert _codes(only_2) == [COMMUNITIES[2]] and only_2["total"] == 4
    assert _codes(_get(c, bbox=_box(4.2, 0.2, 7.8, 1.8), zoom=10)) == [STREETS[1]]
    # Community 1 loses its south-eastern grid's area (an L shape; same bbox): a box over that
    # corner and the west of community 2 meets community 1's bbox but touches only community 2.
    l_shape = community_box(1).difference(box(X0 + 3 * D, Y0, X0 + 4 * D, Y0 + D))
    service.import_regions(session, [RegionIn(COMMUNITIES[1], "韶九社区", l_shape)])
    session.flush()
    corner = _box(3.2, 0.2, 4.5, 0.8)
    assert _codes(_get(c, bbox=corner, zoom=12)) == [COMMUNITIES[2]]
    assert _codes(_get(c, bbox=_box(2.2, 1.2, 4.5, 1.8), zoom=12)) == COMMUNITIES[1:3]
    # Unit grids are unchanged by it: zoomed in, the box still gets the grids it meets.
    assert _get(c, bbox=corner, zoom=14)["level"] == "grid"


def test_city_zoom_gives_streets_and_level_can_be_chosen(c: TestClient) -> None:
    body = _get(c, bbox=ALL, zoom=9.5)
    assert body["level"] == "street" and _codes(body) == STREETS
    assert [f["properties"]["grids"] for f in body["features"]] == [8, 8]
    assert [f["properties"]["name"] for f in body["features"]] == ["东华门街道", "景山街道"]
    assert _get(c, bbox=ALL, level="street") == body
    assert _get(c, bbox=ALL, zoom=16, level="community")["level"] == "community"


def test_answers_are_revalidated_by_etag(c: TestClient) -> None:
    first = c.get(URL, params={"bbox": ALL, "zoom": 12})
    etag = first.headers["etag"]
    again = c.get(URL, params={"bbox": ALL, "zoom": 12}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = c.get(URL, params={"bbox": ALL, "zoom": 14}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"bbox": "1,2,3"}, "bbox", "four numbers"),
        ({"bbox": "a,b,c,d"}, "bbox", "four numbers"),
        ({"bbox": f"{X0 + D},{Y0},{X0},{Y0 + D}"}, "bbox", "minx ≤ maxx"),  # inverted
        ({"bbox": "200,0,201,1"}, "bbox", "lon/lat"),
        ({"bbox": "116,39,117.5,40", "zoom": 14}, "bbox", "more than 1°"),  # too wide for grids
        ({"bbox": "116,39,117.5,40"}, "bbox", "more than 1°"),
        ({"bbox": "-170,-80,170,80", "zoom": 3}, "bbox", "more than 20°"),
        ({"zoom": 30}, "zoom", ""),
        ({"level": "planet"}, "level", ""),
        ({"zoom": 10, "at": "2026-01-01T00:00:00+08:00"}, "at", "unit grids only"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    c: TestClient, params: dict[str, Any], field: str, fragment: str
) -> None:
    r = c.get(URL, params=params)
    assert r.status_code == 422, r.text
    body = r.json()
    named = (body.get("where") or {}).get("field") or body["problems"][0]["field"]
    assert named == field and fragment in body["message"]


def test_a_wide_box_is_fine_at_a_coarse_level(c: TestClient) -> None:
    assert _get(c, bbox="115,39,118,41", zoom=9)["total"] == 16


def test_density_per_community_and_street(c: TestClient, session: Session, w: World) -> None:
    for _ in range(2):
        report(session, w, now=datetime.now(UTC))
    session.flush()
    As.user = w.leader
    grids = c.get("/api/dashboard/density", params={"days": 7}).json()
    assert grids["level"] == "grid"
    [(grid_code, counts)] = grids["grids"].items()
    assert counts == {"reported": 2, "open": 2, "overdue": 0}
    for level, n in (("community", 12), ("street", 9)):
        body = c.get("/api/dashboard/density", params={"days": 7, "level": level}).json()
        assert body["level"] == level
        assert body["grids"] == {grid_code[:n]: counts} and body["max"] == counts
    r = c.get("/api/dashboard/density", params={"level": "district"})
    assert r.status_code == 422
