"""Regions, grids and geocoding over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.geo.chinacrs import from_wgs84
from gridgov.regions.models import GridSet, GridSetKind, GridSetMember
from tests.factories.regions import COMMUNITIES, X0, Y0, D, make_district


@pytest.fixture
def district(session: Session) -> None:
    make_district(session)
    user = User(username="jdy0001", name="王伟", role=Role.SUPERVISOR)
    session.add(user)
    session.flush()
    gs = GridSet(code="ZR1", kind=GridSetKind.RESPONSIBILITY, name="责任网格1", assignee_id=user.id)
    session.add(gs)
    session.flush()
    session.add(GridSetMember(grid_set_id=gs.id, grid_code=COMMUNITIES[0] + "01"))
    session.flush()


def test_hierarchy_listing(client: TestClient, district: None) -> None:
    r = client.get("/api/regions", params={"level": "street"})
    assert r.status_code == 200
    assert [(s["code"], s["name"], s["children_count"]) for s in r.json()] == [
        ("110188001", "东华门街道", 2),
        ("110188002", "景山街道", 2),
    ]
    r = client.get("/api/regions", params={"parent": "110188002"})
    assert [c["code"] for c in r.json()] == COMMUNITIES[2:]


def test_region_and_grid_geojson(client: TestClient, district: None) -> None:
    r = client.get("/api/regions.geojson", params={"level": "community"})
    assert r.headers["content-type"].startswith("application/geo+json")
    feats = r.json()["features"]
    assert len(feats) == 4 and feats[0]["properties"]["parent_code"] == "110188001"
    # a bbox covering only the western community's north-west grid (plus its touching neighbours)
    bbox = f"{X0 + 0.1 * D},{Y0 + 1.1 * D},{X0 + 0.9 * D},{Y0 + 1.9 * D}"
    r = client.get("/api/grids.geojson", params={"bbox": bbox})
    assert [f["properties"]["code"] for f in r.json()["features"]] == [COMMUNITIES[0] + "01"]
    r = client.get("/api/grids.geojson", params={"region": "110188002"})
    assert len(r.json()["features"]) == 8


def test_grid_detail_has_hierarchy_and_supervisor(client: TestClient, district: None) -> None:
    r = client.get(f"/api/grids/{COMMUNITIES[0]}01")
    assert r.status_code == 200
    body = r.json()
    assert body["community"] == {"code": COMMUNITIES[0], "name": "多福巷社区"}
    assert body["street"]["name"] == "东华门街道" and body["district"]["name"] == "东华区"
    assert body["city"]["code"] == "110000"
    assert body["supervisor"] == {"name": "王伟", "username": "jdy0001"}
    assert body["area_m2"] == pytest.approx(9_470, rel=0.02)


def test_geocode_point_and_chinese_crs(client: TestClient, district: None) -> None:
    lon, lat = X0 + 2.5 * D, Y0 + 0.5 * D  # south-west grid (03) of community 110188001002
    r = client.get("/api/geocode", params={"lon": lon, "lat": lat})
    assert r.status_code == 200
    assert r.json()["grid"]["code"] == COMMUNITIES[1] + "03"
    assert r.json()["street"]["code"] == "110188001"
    glon, glat = from_wgs84(lon, lat, "gcj02")
    r = client.get("/api/geocode", params={"lon": glon, "lat": glat, "crs": "gcj02"})
    assert r.json()["grid"]["code"] == COMMUNITIES[1] + "03"
    assert r.json()["point"]["lon"] == pytest.approx(lon, abs=1e-6)


def test_geocode_batch(client: TestClient, district: None) -> None:
    pts = [[X0 + 0.5 * D, Y0 + 0.5 * D], [X0 + 7.5 * D, Y0 + 1.5 * D], [X0 - D, Y0]]
    r = client.post("/api/geocode/batch", json={"points": pts})
    assert r.status_code == 200
    body = r.json()
    assert body["outside"] == 1
    assert [x and x["grid"]["code"] for x in body["results"]] == [
        COMMUNITIES[0] + "03",
        COMMUNITIES[3] + "02",
        None,
    ]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"lon": X0 - D, "lat": Y0}, 404, "no unit grid"),
        ({"lon": 39.9, "lat": 116.4}, 422, "lat"),
        ({"lon": "abc", "lat": 39.9}, 422, "lon"),
        ({"lon": 116.4}, 422, "lat"),
        ({"lon": 116.4, "lat": 39.9, "crs": "mars"}, 422, "crs"),
    ],
)
def test_geocode_bad_input(
    client: TestClient, district: None, params: dict, status: int, fragment: str
) -> None:
    r = client.get("/api/geocode", params=params)
    assert r.status_code == status
    assert fragment in r.json()["message"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/grids/11018800100199", 404, "unknown_grid"),
        ("/api/regions/999999", 404, "unknown_region"),
        ("/api/grids.geojson?bbox=1,2,3", 422, "invalid"),
        ("/api/grids.geojson?bbox=200,0,201,1", 422, "invalid"),
        ("/api/grids.geojson?at=2026-01-01T00:00:00", 422, "invalid"),
        ("/api/regions.geojson?level=planet", 422, "invalid"),
        ("/api/roads.geojson", 422, "invalid"),
    ],
)
def test_bad_requests_are_4xx_with_a_message(
    client: TestClient, district: None, url: str, status: int, code: str
) -> None:
    r = client.get(url)
    assert r.status_code == status
    assert r.json()["code"] == code and r.json()["message"]


def test_openapi_document(client: TestClient) -> None:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/api/geocode", "/api/grids.geojson", "/api/regions/{code}"} <= set(paths)


def test_map_extent_empty_and_loaded(client: TestClient, session: Session) -> None:
    assert client.get("/api/map/extent").json()["empty"] is True
    make_district(session)
    body = client.get("/api/map/extent").json()
    assert body["bbox"] == pytest.approx([X0, Y0, X0 + 8 * D, Y0 + 2 * D])


def test_geocoding_follows_a_redrawn_grid(client: TestClient, session: Session) -> None:
    """The in-memory index is rebuilt when the grid revision changes; old cases keep theirs."""
    from shapely.geometry import box

    from gridgov.regions import service
    from gridgov.regions.schemas import GridIn
    from tests.factories.regions import grid_boxes

    make_district(session)
    lon, lat = X0 + 0.9 * D, Y0 + 1.5 * D  # in grid 01, near its east edge
    assert client.get("/api/geocode", params={"lon": lon, "lat": lat}).json()["grid"]["code"] == (
        COMMUNITIES[0] + "01"
    )
    b1, b2 = grid_boxes(0)[:2]
    service.save_grids(
        session,
        [
            GridIn(
                geom=box(b1.bounds[0], b1.bounds[1], X0 + 0.75 * D, b1.bounds[3]),
                code=COMMUNITIES[0] + "01",
            ),
            GridIn(
                geom=box(X0 + 0.75 * D, b2.bounds[1], b2.bounds[2], b2.bounds[3]),
                code=COMMUNITIES[0] + "02",
            ),
        ],
        digits=2,
        source="edit",
        replace=False,
    )
    body = client.get("/api/geocode", params={"lon": lon, "lat": lat}).json()
    assert body["grid"]["code"] == COMMUNITIES[0] + "02"
    versions = client.get(f"/api/grids/{COMMUNITIES[0]}01/versions").json()
    assert len(versions) == 2 and versions[0]["valid_to"] is not None
