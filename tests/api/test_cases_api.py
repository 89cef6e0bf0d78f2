"""HTTP tests of the cases API on SQLite and PostgreSQL (a small app with the cases router)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridgov import ratelimit
from gridgov.accounts.models import Role, User
from gridgov.cases import service
from gridgov.cases.api import router
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import Action
from gridgov.db import make_engine
from gridgov.deps import get_current_user, get_optional_user
from gridgov.geo.chinacrs import from_wgs84
from tests.api.acting import As, acting_client, router_app
from tests.unit.cases_db.world import GARBAGE, GRID, LAT, LON, OUTSIDE, World, build, main_path


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(session: Session, w: World) -> Iterator[tuple[TestClient, type[As]]]:
    with acting_client(router_app(router), session) as c:
        yield c, As


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


# ---- anonymous and resident reports: keys, rate limits, the anonymous actor ----------------


@pytest.fixture
def limiter_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The rate limiter's counters in a database of their own: the test's session holds the
    main database's write lock (SQLite) and its rows are rolled back, the limiter's are not."""
    engine = make_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    ratelimit.RateLimitCounter.__table__.create(engine)
    monkeypatch.setattr(ratelimit, "limiter_engine", lambda _engine: engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app_api(
    client: TestClient, w: World, limiter_db: Engine
) -> Iterator[tuple[TestClient, type[As]]]:
    """The real app (settings, engine, rate limits, photo store) with ``As.user`` logged in."""

    def _current() -> User:
        if As.user is None:
            from gridgov.errors import Unauthorized

            raise Unauthorized("log in first")
        return As.user

    client.app.dependency_overrides[get_current_user] = _current  # type: ignore[attr-defined]
    client.app.dependency_overrides[get_optional_user] = lambda: As.user  # type: ignore[attr-defined]
    yield client, As
    As.user = None


def _limit(c: TestClient, per_minute: int) -> None:
    app = c.app  # type: ignore[attr-defined]
    update = {"public_reports_per_minute": per_minute}
    app.state.settings = app.state.settings.model_copy(update=update)


ANON_KEY = "c0ffee00-1234-4bcd-9def-00000000a001"


def test_anonymous_keys_are_long_and_bound_to_their_report(app_api, session: Session, w: World):  # type: ignore[no-untyped-def]
    c, who = app_api
    _limit(c, 100)
    for short in ("k1", "x" * 15, " " * 20):
        r = c.post("/api/cases", json=_body(photos=[]), headers={"Idempotency-Key": short})
        assert r.status_code == 422, (short, r.text)
        assert r.json()["where"]["field"] == "idempotency_key"
    key = {"Idempotency-Key": ANON_KEY}
    first = c.post("/api/cases", json=_body(photos=[]), headers=key)
    assert first.status_code == 201, first.text
    no = first.json()["case_no"]
    again = c.post("/api/cases", json=_body(photos=[], description=" 路边垃圾 "), headers=key)
    assert (again.status_code, again.json()["case_no"]) == (201, no)
    gx, gy = from_wgs84(LON, LAT, "gcj02")  # the same point from a Chinese map SDK
    same = c.post("/api/cases", json=_body(photos=[], lon=gx, lat=gy, crs="gcj02"), headers=key)
    assert (same.status_code, same.json()["case_no"]) == (201, no)
    for other in (
        {"description": "另一件事"},
        {"subclass": "0101"},
        {"subclass_kind": "component"},
        {"lon": LON + 0.001},
        {"lat": LAT + 0.001},
        {"crs": "gcj02"},  # the same numbers in another CRS are another place
    ):
        r = c.post("/api/cases", json=_body(photos=[]) | other, headers=key)
        assert r.status_code == 409, (other, r.text)
        assert r.json()["code"] == "idempotency_key_reused"
        assert r.json()["where"]["field"] == "idempotency_key"
    # The same key from the public portal is the same anonymous key space: same rule.
    r = c.post("/api/public/reports", json=_body(photos=[], description="另一件事"), headers=key)
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused"
    r = c.post("/api/public/reports", json=_body(photos=[]), headers=key)
    assert r.status_code == 201 and r.json()["case_no"] == no

    who.user = w.resident
    mine = c.post("/api/cases", json=_body(photos=[]), headers=key)  # keys are per user
    assert mine.status_code == 201 and mine.json()["case_no"] != no
    r = c.post("/api/cases", json=_body(photos=[], description="别的"), headers=key)
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_reused"
    short = c.post("/api/cases", json=_body(photos=[]), headers={"Idempotency-Key": "r1"})
    assert short.status_code == 201  # a resident's keys are their own: any length
    assert session.scalar(select(func.count()).select_from(Case)) == 3


def test_public_reports_are_rate_limited_staff_are_not(app_api, w: World):  # type: ignore[no-untyped-def]
    c, who = app_api
    _limit(c, 2)
    codes = [c.post("/api/cases", json=_body(photos=[])).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    refused = c.post("/api/cases", json=_body(photos=[], description=""))
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    # One budget with the public portal: the same client is refused there too.
    r = c.post("/api/public/reports", json=_body(photos=[]))
    assert r.status_code == 429 and "Retry-After" in r.headers

    from gridgov.demo.history import make_photos
    from gridgov.media.storage import storage_for
    from tests.unit.cases_db.world import T0

    photos = make_photos(storage_for(c.app.state.settings), T0, count=1)  # type: ignore[attr-defined]
    who.user = w.supervisor  # staff are not limited
    codes = [c.post("/api/cases", json=_body(photos=photos)).status_code for _ in range(3)]
    assert codes == [201, 201, 201]

    who.user = w.resident  # a resident counts per login session
    token = {"Authorization": "Bearer resident-session-token"}
    codes = [c.post("/api/cases", json=_body(photos=[]), headers=token).status_code for _ in "abc"]
    assert codes == [201, 201, 429]


def test_the_anonymous_reporter_acts_through_act(session: Session, w: World):
    from gridgov.accounts.models import AuditLog
    from gridgov.cases.workflow import WorkflowError

    now = datetime.now(UTC)
    case = service.create_case(
        session,
        actor=None,
        channel=None,
        subclass=GARBAGE,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        description="垃圾没人清",
        now=now,
    )
    no = case.case_no
    with pytest.raises(WorkflowError):  # the anonymous actor is a resident, not staff
        service.act(session, no, "register", None, {}, case.version, now)
    steps = [
        (w.acceptor, "assign_verify", {"verifier_id": w.supervisor.id}),
        (w.supervisor, "verify", {"photos": ["v1"]}),
        *main_path(w),
    ]
    for user, action, payload in steps:
        case = service.act(session, no, action, user, payload, case.version, now)
    assert case.state.value == "closed"
    rated = service.act(session, no, "rate", None, {"score": 5}, case.version, now)
    assert service.from_snapshot(rated.workflow).ratings == ((0, 5),)
    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == rated.id, CaseEvent.action == Action.RATE)
    )
    assert event is not None and event.actor_user_id is None and event.role is Role.RESIDENT
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "case.rate"))
    assert audit is not None and audit.user_id is None and audit.object_id == no
    with pytest.raises(WorkflowError):  # once per reporter
        service.act(session, no, "rate", None, {"score": 1}, rated.version, now)


def test_timeline_names_its_actors_in_one_query(api, w: World, session: Session):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    c, who = api
    who.user = None
    r = c.post("/api/cases", json=_body(photos=[], contact={"name": "李女士"}))
    assert r.status_code == 201, r.text
    no, version = r.json()["case_no"], r.json()["version"]
    steps = [
        (w.acceptor, "assign_verify", {"verifier_id": w.supervisor.id}),
        (w.supervisor, "verify", {"photos": ["v1.jpg"]}),
        *main_path(w),
    ]
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def user_reads(user: User) -> tuple[int, dict[str, Any]]:
        who.user = user
        statements.clear()
        event.listen(session.get_bind(), "before_cursor_execute", record)
        try:
            detail = c.get(f"/api/cases/{no}").json()
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", record)
        return sum("FROM user_account" in s for s in statements), detail

    for i, (user, action, payload) in enumerate(steps):
        who.user = user
        r = c.post(
            f"/api/cases/{no}/actions",
            json={"action": action, "payload": payload, "expected_version": version},
        )
        assert r.status_code == 200, (action, r.text)
        version = r.json()["version"]
        if i == 0:
            reads_few, _ = user_reads(w.shift_lead)
    reads_many, detail = user_reads(w.shift_lead)
    assert reads_many == reads_few == 1  # one query for every actor, however many
    events = detail["events"]
    first = events[0]
    assert (first["actor_user_id"], first["actor_name"], first["role"]) == (None, None, "resident")
    named = {e["action"]: (e["actor_name"], e["role"]) for e in events[1:]}
    assert named["assign_verify"] == ("acc", "acceptor")
    assert named["verify"] == ("sup", "supervisor")
    assert named["dispatch"] == ("disp", "dispatcher")
    assert named["close"] == ("lead", "shift_lead")


def test_a_resident_sees_roles_not_staff_names(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.resident
    r = c.post("/api/cases", json=_body(photos=[]))
    assert r.status_code == 201, r.text
    no = r.json()["case_no"]
    who.user = w.acceptor
    r = c.post(
        f"/api/cases/{no}/actions",
        json={
            "action": "assign_verify",
            "payload": {"verifier_id": w.supervisor.id},
            "expected_version": r.json()["version"],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["actor_name"] == "res"  # staff see the resident's name
    who.user = w.resident
    r = c.get(f"/api/cases/{no}")
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    assert [e["role"] for e in events] == ["resident", "acceptor"]
    assert all(e["actor_name"] is None for e in events)
