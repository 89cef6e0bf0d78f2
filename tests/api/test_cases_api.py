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


# ---- 合并, duplicates, components and photos ------------------------------------------------


def _merge(c: TestClient, dup: str, **body: Any) -> Any:
    return c.post(f"/api/cases/{dup}/merge", json=body)


def test_merge_over_http(api, w: World, session: Session):  # type: ignore[no-untyped-def]
    from tests.unit.cases_db.world import report, walk

    c, who = api
    who.user = w.supervisor
    master = c.post("/api/cases", json=_body()).json()["case_no"]
    who.user = w.resident
    dup = c.post("/api/cases", json=_body(photos=[], description="垃圾没人管")).json()["case_no"]
    who.user = w.acceptor
    r = _merge(c, dup, into=master, expected_version=1, master_expected_version=1, note="同一处")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["case_no"], body["state"], body["version"]) == (master, "reported", 2)
    assert body["events"][-1]["action"] == "absorb"
    assert body["events"][-1]["payload"]["duplicate_case_no"] == dup
    merged = c.get(f"/api/cases/{dup}").json()
    assert (merged["state"], merged["merged_into"]) == ("merged", master)
    assert body["merged_into"] is None
    who.user = w.resident  # the duplicate's reporter now follows the master
    assert c.get(f"/api/cases/{master}").status_code == 200

    who.user = w.acceptor
    r = _merge(c, dup, into=master, expected_version=1)
    assert r.status_code == 409
    assert r.json()["where"] == {"case_no": dup, "state": "merged", "version": 2}
    other = c.post("/api/cases", json=_body(photos=[])).json()["case_no"]
    r = _merge(c, other, into=master, expected_version=1, master_expected_version=1)
    assert r.status_code == 409 and r.json()["where"]["case_no"] == master
    r = _merge(c, other, into=other, expected_version=1)
    assert r.status_code == 422 and r.json()["where"]["field"] == "into"
    r = _merge(c, other, into="2099010100001", expected_version=1)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_case")
    assert _merge(c, other, into=master).status_code == 422  # no expected_version
    assert _merge(c, other, into=master, expected_version=1, extra=1).status_code == 422
    assert _merge(c, other, into=master, expected_version="one").status_code == 422
    assert _merge(c, "nope", into=master, expected_version=1).status_code == 404
    r = _merge(c, other, into=dup, expected_version=1)
    assert (r.status_code, r.json()["code"]) == (409, "merge_chain")
    closed = walk(session, w, report(session, w), 7).case_no
    r = _merge(c, other, into=closed, expected_version=1)
    assert (r.status_code, r.json()["code"]) == (409, "master_closed")
    for user in (w.dispatcher, w.resident, w.far_lead):
        who.user = user
        assert _merge(c, other, into=master, expected_version=1).status_code == 403
    who.user = w.acceptor
    assert c.get(f"/api/cases/{other}").json()["version"] == 1  # every refusal changed nothing


def test_duplicates_over_http(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.supervisor
    case = c.post("/api/cases", json=_body()).json()["case_no"]
    near = c.post("/api/cases", json=_body(lon=LON + 0.0001)).json()["case_no"]
    c.post("/api/cases", json=_body(lon=LON + 0.001))  # ≈ 85 m away
    who.user = w.acceptor
    r = c.get(f"/api/cases/{case}/duplicates")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["count"], body["radius_m"], body["days"]) == (1, 50.0, 7)
    assert body["items"][0]["case"]["case_no"] == near
    assert 8 < body["items"][0]["distance_m"] < 9
    assert c.get(f"/api/cases/{case}/duplicates", params={"radius_m": 100}).json()["count"] == 2
    for bad in ({"radius_m": 0}, {"radius_m": "far"}, {"days": 0}, {"limit": 1000}):
        r = c.get(f"/api/cases/{case}/duplicates", params=bad)
        assert r.status_code == 422, bad
    assert c.get("/api/cases/nope/duplicates").status_code == 404
    who.user = w.resident
    assert c.get(f"/api/cases/{case}/duplicates").status_code == 403
    who.user = w.far_supervisor
    assert c.get(f"/api/cases/{case}/duplicates").status_code == 403


def test_component_case_over_http(api, w: World, session: Session):  # type: ignore[no-untyped-def]
    from gridgov.components import service as components

    c, who = api
    cover = components.create_component(
        session, subclass_code="0101", lon=LON, lat=LAT, name="上水井盖", owner_dept_code="QSWJ"
    )
    components.change_state(session, cover.id, "damaged", note="巡查发现")
    who.user = w.supervisor
    body = {"subclass": "0101", "description": "井盖破损", "photos": ["p.jpg"]}
    r = c.post("/api/cases", json=body | {"component_id": cover.id})
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["component_id"], case["subclass_kind"], case["grid_code"]) == (
        cover.id,
        "component",
        GRID,
    )
    who.user = w.shift_lead
    detail = c.get(f"/api/cases/{case['case_no']}").json()
    assert detail["component"]["id"] == cover.id
    assert (detail["component"]["state"], detail["component"]["owner_dept_code"]) == (
        "damaged",
        "QSWJ",
    )
    assert [h["to_state"] for h in detail["component_history"]] == ["intact", "damaged"]
    plain = c.get("/api/cases", params={"open_only": True}).json()["items"][0]
    assert plain["component_id"] == cover.id

    who.user = w.supervisor
    for bad, code in (
        ({"component_id": "123"}, None),
        ({"component_id": "1101880101999999"}, "unknown_component"),
        (
            {"component_id": cover.id, "subclass": "0102", "subclass_kind": "component"},
            "component_subclass_mismatch",
        ),
        ({"subclass_kind": "component"}, None),  # neither a point nor a component
    ):
        r = c.post("/api/cases", json=body | bad)
        assert r.status_code == 422, (bad, r.text)
        if code:
            assert (r.json()["code"], r.json()["where"]["field"]) == (code, "component_id")
        else:
            assert "component_id" in r.text or "lon" in r.text


def test_photo_ids_must_exist_over_http(api, w: World, tmp_path):  # type: ignore[no-untyped-def]
    from gridgov.config import Settings
    from gridgov.demo.history import make_photos
    from gridgov.media.storage import LocalStorage
    from tests.unit.cases_db.world import T0

    c, who = api
    c.app.state.settings = Settings(data_dir=tmp_path, environment="test")
    photos = make_photos(LocalStorage(tmp_path / "media"), T0, count=2)
    who.user = w.supervisor
    nobody = "f" * 64
    r = c.post("/api/cases", json=_body(photos=[photos[0], nobody]))
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_photo"
    assert r.json()["where"] == {"field": "photos[1]", "photo": nobody}
    r = c.post("/api/cases", json=_body(photos=["p1.jpg"]))
    assert (r.status_code, r.json()["where"]["photo"]) == (422, "p1.jpg")
    assert c.get("/api/cases").json()["items"] == []  # nothing was filed
    r = c.post("/api/cases", json=_body(photos=photos))
    assert r.status_code == 201, r.text
    no = r.json()["case_no"]
    act = f"/api/cases/{no}/actions"
    payload = {"result": "已清理", "photos": [nobody]}
    r = c.post(act, json={"action": "self_handle", "payload": payload, "expected_version": 1})
    assert r.status_code == 422 and r.json()["where"]["field"] == "payload.photos[0]"
    assert c.get(f"/api/cases/{no}").json()["version"] == 1
    payload["photos"] = photos[1:]
    r = c.post(act, json={"action": "self_handle", "payload": payload, "expected_version": 1})
    assert (r.status_code, r.json()["state"]) == (200, "checked")
