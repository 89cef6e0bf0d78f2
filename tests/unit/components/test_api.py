"""Smoke tests of the component API on a small app that includes only its router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.app import _install_error_handlers
from gridgov.components.api import router
from gridgov.deps import get_current_user, get_session

LON, LAT = 116.4005, 39.9015


@pytest.fixture
def acting(district: Session) -> dict[str, User]:
    """Who the request is made as: an admin unless a test changes it."""
    users = {r: User(username=f"u_{r.value}", name=r.value, role=r) for r in Role}
    district.add_all(users.values())
    district.flush()
    return {"user": users[Role.ADMIN], **{r.value: u for r, u in users.items()}}


@pytest.fixture
def client(district: Session, acting: dict[str, User]) -> Iterator[TestClient]:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")
    app.dependency_overrides[get_current_user] = lambda: acting["user"]

    def _session() -> Iterator[Session]:
        yield district
        district.flush()

    app.dependency_overrides[get_session] = _session
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_create_list_detail_state_nearby(client: TestClient) -> None:
    r = client.post(
        "/api/components",
        json={"subclass_code": "0101", "lon": LON, "lat": LAT, "name": "上水井盖"},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["id"] == "1101880101000001"
    assert made["grid_code"] == "11018800100101"
    assert made["state_label"] == "完好"

    r = client.post(
        "/api/components/1101880101000001/state",
        json={"state": "damaged", "note": "井盖破损", "case_no": "C1"},
    )
    assert r.status_code == 201 and r.json()["from_state"] == "intact"

    detail = client.get("/api/components/1101880101000001").json()
    assert detail["state"] == "damaged"
    assert [(h["from_state"], h["to_state"]) for h in detail["history"]] == [
        (None, "intact"),
        ("intact", "damaged"),
    ]

    listed = client.get("/api/components", params={"state": "damaged", "subclass": "0101"})
    assert [c["id"] for c in listed.json()] == ["1101880101000001"]
    box = "116.402,39.900,116.404,39.902"
    assert client.get("/api/components", params={"bbox": box}).json() == []

    near = client.get("/api/components/nearby", params={"lon": LON, "lat": LAT, "radius": 20})
    assert near.status_code == 200
    assert [(n["component"]["id"], n["distance_m"]) for n in near.json()] == [
        ("1101880101000001", 0.0)
    ]


def test_bad_input_is_4xx(client: TestClient, acting: dict[str, User]) -> None:
    r = client.post("/api/components", json={"subclass_code": "0101", "lon": 116.0, "lat": 39.0})
    assert r.status_code == 422 and r.json()["code"] == "outside_grids"
    r = client.post("/api/components", json={"subclass_code": "0999", "lon": LON, "lat": LAT})
    assert r.status_code == 422 and r.json()["code"] == "unknown_subclass"
    r = client.post("/api/components", json={"subclass_code": "1", "lon": LON, "lat": LAT})
    assert r.status_code == 422
    assert client.get("/api/components/1101880101999999").status_code == 404
    r = client.get("/api/components", params={"bbox": "1,2,3"})
    assert r.status_code == 422
    r = client.get("/api/components/nearby", params={"lon": LON, "lat": LAT, "radius": 0})
    assert r.status_code == 422

    acting["user"] = acting["supervisor"]
    r = client.post("/api/components", json={"subclass_code": "0101", "lon": LON, "lat": LAT})
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    acting["user"] = acting["registrar"]  # no jurisdiction rows: nothing is in scope
    r = client.post("/api/components", json={"subclass_code": "0101", "lon": LON, "lat": LAT})
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    acting["user"] = acting["resident"]
    assert client.get("/api/components").status_code == 403
