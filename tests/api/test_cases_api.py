"""HTTP tests of the cases API on SQLite and PostgreSQL (a small app with the cases router)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.app import _install_error_handlers
from gridgov.cases.api import router
from gridgov.deps import get_current_user, get_optional_user, get_session
from gridgov.regions import geocode
from tests.unit.cases_db.world import GARBAGE, GRID, LAT, LON, OUTSIDE, World, build, main_path


class As:
    """Who the next request is made by (None: anonymous)."""

    user: User | None = None


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(session: Session, w: World) -> Iterator[tuple[TestClient, type[As]]]:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    def _current() -> User:
        if As.user is None:
            from gridgov.errors import Unauthorized

            raise Unauthorized("log in first")
        return As.user

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_current_user] = _current
    app.dependency_overrides[get_optional_user] = lambda: As.user
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, As
    As.user = None
    geocode.invalidate()


def _body(**kw: Any) -> dict[str, Any]:
    body = {
        "subclass": GARBAGE,
        "subclass_kind": "event",
        "urgency": "normal",
        "lon": LON,
        "lat": LAT,
        "description": "路边垃圾",
        "photos": ["p1.jpg"],
    }
    return body | kw


def test_report_then_walk_the_loop_over_http(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    r = c.post("/api/cases", json=_body(), headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["state"], case["version"], case["grid_code"]) == ("reported", 1, GRID)
    again = c.post("/api/cases", json=_body(description="again"), headers={"Idempotency-Key": "k1"})
    assert again.json()["case_no"] == case["case_no"]
    no, version = case["case_no"], 1
    for user, action, payload in main_path(w):
        who.user = user
        r = c.post(
            f"/api/cases/{no}/actions",
            json={"action": action, "payload": payload, "expected_version": version},
        )
        assert r.status_code == 200, (action, r.text)
        version = r.json()["version"]
    detail = r.json()
    assert detail["state"] == "closed" and version == 8
    assert [e["action"] for e in detail["events"]][-1] == "close"
    assert all(d["stopped_at"] for d in detail["deadlines"])


def test_detail_list_and_lights(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    no = c.post("/api/cases", json=_body()).json()["case_no"]
    who.user = w.shift_lead
    detail = c.get(f"/api/cases/{no}").json()
    assert "register" in detail["allowed_actions"]
    assert detail["deadlines"][0]["step"] == "register"
    assert detail["deadlines"][0]["limit"] == "1工作时"
    items = c.get("/api/cases", params={"open_only": True}).json()["items"]
    assert [i["case_no"] for i in items] == [no]
    assert set(items[0]["lights"]) == {"register"}
    who.user = w.far_supervisor
    assert c.get("/api/cases").json()["items"] == []
    r = c.get(f"/api/cases/{no}")
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"


def test_errors_are_4xx_with_messages(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    r = c.post("/api/cases", json=_body(lon=OUTSIDE[0], lat=OUTSIDE[1]))
    assert r.status_code == 422 and "outside every grid" in r.json()["message"]
    assert c.post("/api/cases", json=_body(subclass="9999")).status_code == 422
    assert c.post("/api/cases", json=_body(description="")).status_code == 422
    assert c.post("/api/cases", json=_body(lon="east")).status_code == 422
    assert c.post("/api/cases", json=_body(photos=[])).status_code == 422
    assert c.post("/api/cases", json=_body(description="a\x00b")).status_code == 422
    assert (
        c.post("/api/cases", json=_body(), headers={"Idempotency-Key": "k" * 101}).status_code
        == 422
    )
    no = c.post("/api/cases", json=_body()).json()["case_no"]
    who.user = w.shift_lead
    act = f"/api/cases/{no}/actions"
    r = c.post(act, json={"action": "register", "expected_version": 0})
    assert r.status_code == 409
    assert r.json()["where"] == {"state": "reported", "version": 1}
    assert c.post(act, json={"action": "close", "expected_version": 1}).status_code == 409
    assert c.post(act, json={"action": "nope", "expected_version": 1}).status_code == 422
    assert c.post(act, json={"action": "register"}).status_code == 422
    assert c.post(act, json=[1, 2]).status_code == 422
    who.user = w.far_lead
    r = c.post(act, json={"action": "register", "expected_version": 1})
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    who.user = w.shift_lead
    assert c.get("/api/cases/nope").status_code == 404
    r = c.post(
        act, json={"action": "register", "payload": {"due_at": "soon"}, "expected_version": 1}
    )
    assert r.status_code == 422
    r = c.post(
        act, json={"action": "reject", "payload": {"reason": "x\x00"}, "expected_version": 1}
    )
    assert r.status_code == 422
    who.user = None
    assert c.get("/api/cases").status_code == 401


def test_anonymous_report_masks_the_phone(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = None
    r = c.post("/api/cases", json=_body(photos=[], contact={"phone": "13812345678"}))
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "public"
    assert r.json()["reporter_phone"] == "138****5678"
