"""Editing unit grid polygons over HTTP (gridgov/regions/edit_api.py), on SQLite and PostgreSQL:
a new version when the layout still tiles, a located 422 when it does not, admins only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog, Role, User
from gridgov.app import create_app
from gridgov.config import Settings
from tests.api.acting import As, acting_client
from tests.factories.regions import COMMUNITIES, X0, Y0, D, grid_boxes, make_district

C0 = COMMUNITIES[0]
NW, NE, SW, SE = (f"{C0}0{i}" for i in range(1, 5))  # the 2×2 grids of community 0, reading order


@pytest.fixture
def api(session: Session, tmp_path: Any) -> Iterator[TestClient]:
    make_district(session)
    admin = User(username="admin", name="管理员", role=Role.ADMIN)
    leader = User(username="leader", name="领导", role=Role.LEADER)
    session.add_all([admin, leader])
    session.flush()
    app = create_app(Settings(data_dir=tmp_path, environment="test"), session.get_bind())
    with acting_client(app, session) as client:
        As.user = admin
        yield client


def _ring(*points: tuple[float, float]) -> dict[str, Any]:
    coords = [list(p) for p in points]
    return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}


def _square(x0: float, y0: float, centre: tuple[float, float], corner: int) -> dict[str, Any]:
    """One of the four grids of community 0 with the shared centre vertex at ``centre``;
    ``corner`` is 0..3 = NW, NE, SW, SE (the grid's corner that is the community's centre)."""
    cx, cy = centre
    x1, y1, x2, y2 = x0, y0, x0 + 2 * D, y0 + 2 * D
    mx, my = x0 + D, y0 + D
    rings = {
        0: [(x1, my), (cx, cy), (mx, y2), (x1, y2)],  # NW: centre is its south-east corner
        1: [(cx, cy), (x2, my), (x2, y2), (mx, y2)],  # NE: south-west corner
        2: [(x1, y1), (mx, y1), (cx, cy), (x1, my)],  # SW: north-east corner
        3: [(mx, y1), (x2, y1), (x2, my), (cx, cy)],  # SE: north-west corner
    }
    return _ring(*rings[corner])


def _versions(api: TestClient, code: str) -> list[dict[str, Any]]:
    r = api.get(f"/api/grids/{code}/versions")
    assert r.status_code == 200, r.text
    return list(r.json())


def test_moving_a_shared_vertex_in_every_grid_is_a_new_version(
    api: TestClient, session: Session
) -> None:
    before = api.get(f"/api/grids/{NW}").json()
    centre = (X0 + 1.2 * D, Y0 + 0.9 * D)
    body = {
        "grids": [
            {"code": code, "geometry": _square(X0, Y0, centre, i)}
            for i, code in enumerate((NW, NE, SW, SE))
        ],
        "note": "centre moved to the lane",
    }
    body["grids"][0]["expected_revision_id"] = before["revision_id"]
    r = api.post("/api/grids/edit", json=body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["changed"] == [NW, NE, SW, SE] and result["unchanged"] == []
    assert {g["revision_id"] for g in result["grids"]} == {result["revision_id"]}
    assert result["revision_id"] > before["revision_id"]
    areas = {g["code"]: g["area_m2"] for g in result["grids"]}
    assert areas[NW] > before["area_m2"] > areas[NE]  # NW grew east, NE shrank
    # The old shape stays as the previous version; the geocoder sees the new layout at once.
    versions = _versions(api, NW)
    assert len(versions) == 2 and versions[0]["valid_to"] is not None
    assert versions[1]["valid_to"] is None
    point = {"lon": X0 + 1.05 * D, "lat": Y0 + 1.2 * D}  # was NE, now inside the grown NW
    assert api.get("/api/geocode", params=point).json()["grid"]["code"] == NW
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "grid.edit")).one()
    assert audit.detail["changed"] == [NW, NE, SW, SE]
    assert audit.detail["note"] == "centre moved to the lane"


def test_put_one_grid_adding_a_collinear_vertex(api: TestClient) -> None:
    x1, y1, x2, y2 = X0, Y0 + D, X0 + D, Y0 + 2 * D
    shape = _ring((x1, y1), (x2, y1), (x2, y2), ((x1 + x2) / 2, y2), (x1, y2))
    r = api.put(f"/api/grids/{NW}", json={"geometry": shape, "name": "多福巷一号网格"})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == [NW]
    detail = api.get(f"/api/grids/{NW}").json()
    assert detail["name"] == "多福巷一号网格"
    assert detail["area_m2"] == pytest.approx(9_470, rel=0.02)


def test_an_overlap_is_refused_with_where_it_is(api: TestClient) -> None:
    centre = (X0 + 1.3 * D, Y0 + 0.7 * D)  # only NW moves: it grows into its three neighbours
    r = api.put(f"/api/grids/{NW}", json={"geometry": _square(X0, Y0, centre, 0)})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "grid_rejected"
    assert "overlap" in body["message"]
    overlaps = [p for p in body["problems"] if p["kind"] == "overlap"]
    assert {tuple(sorted(p["codes"])) for p in overlaps} >= {(NW, NE), (NW, SE)}
    moved = shape(_square(X0, Y0, centre, 0))
    boxes = dict(zip((NW, NE, SW, SE), grid_boxes(0), strict=True))
    for p in overlaps:
        where = Point(p["location"])  # a point of the overlap: in the moved NW and the neighbour
        assert moved.buffer(1e-9).contains(where)
        assert boxes[p["codes"][1]].buffer(1e-9).contains(where)
        assert p["area_m2"] > 1
    assert len(_versions(api, NW)) == 1  # nothing written


def test_leaving_the_community_is_refused(api: TestClient) -> None:
    x1, y1, x2, y2 = X0, Y0 + D, X0 + D, Y0 + 2 * D
    shape = _ring((x1, y1), (x2, y1), (x2, y2), (x1, y2 + 0.2 * D))  # north-west corner pulled out
    r = api.put(f"/api/grids/{NW}", json={"geometry": shape})
    assert r.status_code == 422
    kinds = {p["kind"] for p in r.json()["problems"]}
    assert "outside_parent" in kinds
    outside = next(p for p in r.json()["problems"] if p["kind"] == "outside_parent")
    assert outside["codes"] == [NW, C0] and outside["location"][1] > Y0 + 2 * D


def test_a_gap_is_refused(api: TestClient) -> None:
    x1, y1, x2, y2 = X0, Y0 + D, X0 + D, Y0 + 2 * D
    shape = _ring((x1, y1), (x2, y1), (x2 - 0.3 * D, y2), (x1, y2))  # NE corner cut off
    r = api.put(f"/api/grids/{NW}", json={"geometry": shape})
    assert r.status_code == 422
    gap = next(p for p in r.json()["problems"] if p["kind"] == "gap")
    assert gap["codes"] == [C0] and gap["area_m2"] > 100


def test_stale_revision_is_a_conflict(api: TestClient) -> None:
    loaded = api.get(f"/api/grids/{NW}").json()["revision_id"]
    x1, y1, x2, y2 = X0, Y0 + D, X0 + D, Y0 + 2 * D
    one = _ring((x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, (y1 + y2) / 2))
    assert api.put(f"/api/grids/{NW}", json={"geometry": one}).status_code == 200
    r = api.put(
        f"/api/grids/{NW}",
        json={"geometry": one, "name": "x", "expected_revision_id": loaded},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "grid_changed" and r.json()["where"]["grid"] == NW


POINT = {"type": "Point", "coordinates": [1, 2]}
NOT_COORDINATES = {"type": "Polygon", "coordinates": "x"}
ONE_POINT_RING = {"type": "Polygon", "coordinates": [[[0, 0]]]}


@pytest.mark.parametrize(
    ("url", "body", "status", "code"),
    [
        (f"/api/grids/{NW}", {"geometry": POINT}, 422, "invalid"),
        (f"/api/grids/{NW}", {"geometry": NOT_COORDINATES}, 422, "invalid"),
        (f"/api/grids/{NW}", {"geometry": ONE_POINT_RING}, 422, None),
        (f"/api/grids/{C0}99", {"geometry": _ring((0, 0), (1, 0), (1, 1))}, 404, "unknown_grid"),
        ("/api/grids/abc", {"geometry": _ring((0, 0), (1, 0), (1, 1))}, 422, "invalid"),
        (f"/api/grids/{NW}", {"geometry": _ring((0, 0), (1, 0), (1, 1)), "x": 1}, 422, "invalid"),
        ("/api/grids/edit", {"grids": []}, 422, "invalid"),
    ],
)
def test_bad_bodies_are_4xx_with_a_message(
    api: TestClient, url: str, body: dict[str, Any], status: int, code: str | None
) -> None:
    method = api.post if url.endswith("/edit") else api.put
    r = method(url, json=body)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if code:
        assert r.json()["code"] == code


def test_a_self_intersecting_polygon_is_located(api: TestClient) -> None:
    x1, y1, x2, y2 = X0, Y0 + D, X0 + D, Y0 + 2 * D
    bowtie = _ring((x1, y1), (x2, y2), (x2, y1), (x1, y2))
    r = api.put(f"/api/grids/{NW}", json={"geometry": bowtie})
    assert r.status_code == 422
    problem = r.json()["problems"][0]
    assert problem["kind"] == "invalid_geometry" and problem["location"]


def test_the_same_grid_twice_is_refused(api: TestClient) -> None:
    shape = _square(X0, Y0, (X0 + D, Y0 + D), 0)
    r = api.post(
        "/api/grids/edit",
        json={"grids": [{"code": NW, "geometry": shape}, {"code": NW, "geometry": shape}]},
    )
    assert r.status_code == 422 and "twice" in r.json()["message"]


def test_only_admins_edit_grids(api: TestClient, session: Session) -> None:
    shape = _square(X0, Y0, (X0 + D, Y0 + D), 0)
    As.user = session.scalars(select(User).where(User.username == "leader")).one()
    r = api.put(f"/api/grids/{NW}", json={"geometry": shape})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden_role")
    As.user = None
    assert api.put(f"/api/grids/{NW}", json={"geometry": shape}).status_code == 401
