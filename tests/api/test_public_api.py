"""Public tracking over HTTP on SQLite and PostgreSQL: anonymous reports with a tracking code,
the public view, rating once after close, refusals, idempotency and rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridgov import ratelimit
from gridgov.accounts.models import User
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.public import STAGES, TIMELINE
from gridgov.cases.tracking import code_matches, tracking_code
from gridgov.cases.workflow import Action, State
from gridgov.codes.admin import Level
from gridgov.config import Settings
from gridgov.db import make_engine
from gridgov.departments.models import Department
from gridgov.deps import get_current_user, get_optional_user
from gridgov.errors import Unauthorized
from tests.unit.cases_db.world import DEPT, GARBAGE, LAT, LON, OUTSIDE, World, build, desk_report


class As:
    user: User | None = None


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
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(client: TestClient, w: World, limiter_db: Engine) -> Iterator[tuple[TestClient, As]]:
    who = As()

    def current() -> User:
        if who.user is None:
            raise Unauthorized("please log in")
        return who.user

    client.app.dependency_overrides[get_current_user] = current  # type: ignore[attr-defined]
    client.app.dependency_overrides[get_optional_user] = lambda: who.user  # type: ignore[attr-defined]
    yield client, who


def _body(**kw: Any) -> dict[str, Any]:
    body = {
        "subclass": GARBAGE,
        "subclass_kind": "event",
        "lon": LON,
        "lat": LAT,
        "description": "小区门口垃圾没人清",
        "contact": {"name": "王女士", "phone": "13912345678"},
    }
    return body | kw


def _report(c: TestClient, **kw: Any) -> dict[str, Any]:
    r = c.post("/api/public/reports", json=_body(**kw))
    assert r.status_code == 201, r.text
    return r.json()


def _now() -> datetime:
    return datetime.now(UTC)


def _close(session: Session, w: World, case_no: str, *, note: str = "") -> None:
    """The public path to 结案: verify on site, register, dispatch, handle, check, close."""
    steps = [
        (w.acceptor, "assign_verify", {"verifier_id": w.supervisor.id}),
        (w.supervisor, "verify", {"photos": ["v1"]}),
        (w.shift_lead, "register", {"note": note} if note else {}),
        (w.dispatcher, "dispatch", {"department_id": 1, "department_code": DEPT}),
        (w.department, "accept", {}),
        (w.department, "report_back", {"result": "已清理干净", "photos": ["r1", "r2"]}),
        (w.acceptor, "assign_check", {"checker_id": w.checker.id}),
        (w.checker, "check_pass", {"photos": ["c1"]}),
        (w.shift_lead, "close", {}),
    ]
    for user, action, payload in steps:
        case = service.load_case(session, case_no)
        service.act(session, case_no, action, user, payload, case.version, _now())


def test_tracking_codes_are_stable_secret_and_forgiving():
    s = Settings(environment="test", secret_key="one secret")
    code = tracking_code("2026060100001", s)
    assert len(code) == 10 and code == tracking_code("2026060100001", s)
    assert set(code) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert code != tracking_code("2026060100002", s)
    assert code != tracking_code("2026060100001", Settings(environment="test", secret_key="x"))
    own = Settings(environment="test", secret_key="one secret", tracking_secret="kept")
    assert tracking_code("2026060100001", own) != code
    messy = f" {code[:5].lower()}-{code[5:]} ".replace("0", "o").replace("1", "l")
    assert code_matches("2026060100001", messy, s)
    assert not code_matches("2026060100001", code[:-1], s)
    assert not code_matches("2026060100002", code, s)


def test_every_state_and_action_has_a_public_form():
    assert set(STAGES) == set(State)
    hidden = set(Action) - set(TIMELINE)
    assert hidden == {
        Action.REQUEST_RETURN,
        Action.DENY_RETURN,
        Action.REQUEST_EXTENSION,
        Action.DENY_EXTENSION,
        Action.REQUEST_HANG,
        Action.DENY_HANG,
        Action.REQUEST_VOID,
        Action.DENY_VOID,
        Action.SUPERVISE,
        Action.ABSORB,
    }


def test_anonymous_report_gets_a_tracking_code_and_a_public_view(api, session: Session):  # type: ignore[no-untyped-def]
    c, _ = api
    made = _report(c)
    no, code = made["case_no"], made["tracking_code"]
    assert made["stage"] == "received" and made["stage_text"]
    assert made["track_url"] == f"/api/public/cases/{no}?code={code}"
    r = c.get(made["track_url"])
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["case_no"] == no and view["stage"] == "received"
    assert [e["action"] for e in view["timeline"]] == ["submit"]
    assert view["timeline"][0]["text"] == "已收到您的反映"
    assert view["can_rate"] is False and view["rating"] is None and view["result"] is None
    assert view["subclass_name"] and view["description"] == "小区门口垃圾没人清"
    assert "王女士" not in r.text and "1391" not in r.text and "5678" not in r.text
    case = session.scalar(select(Case).where(Case.case_no == no))
    assert case is not None and case.reporter_user_id is None and case.channel.value == "public"


def test_wrong_code_is_the_same_404_as_an_unknown_case(api):  # type: ignore[no-untyped-def]
    c, _ = api
    made = _report(c)
    no, code = made["case_no"], made["tracking_code"]
    wrong = c.get(f"/api/public/cases/{no}", params={"code": "AAAAAAAAAA"})
    unknown = c.get("/api/public/cases/2099010199999", params={"code": code})
    assert wrong.status_code == unknown.status_code == 404
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "case_not_found",
            "message": "no case with this number and tracking code",
        }
    )
    missing = c.get(f"/api/public/cases/{no}")
    assert missing.status_code == 422 and missing.json()["problems"][0]["field"] == "code"
    dashed = f"{code[:5].lower()}-{code[5:]}"
    assert c.get(f"/api/public/cases/{no}", params={"code": dashed}).status_code == 200
    rating = c.post(f"/api/public/cases/{no}/rating", json={"code": "AAAAAAAAAA", "score": 5})
    assert rating.status_code == 404


def test_bad_reports_are_4xx_naming_the_field(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    app = c.app  # type: ignore[attr-defined]
    app.state.settings = app.state.settings.model_copy(update={"public_reports_per_minute": 50})

    def field(r) -> str:  # type: ignore[no-untyped-def]
        body = r.json()
        return (body.get("where") or {}).get("field") or body["problems"][0]["field"]

    r = c.post("/api/public/reports", json=_body(lon=500))
    assert r.status_code == 422 and field(r) == "lon"
    r = c.post("/api/public/reports", json=_body(lon=OUTSIDE[0], lat=OUTSIDE[1]))
    assert r.status_code == 422 and r.json()["code"] == "outside_grids"
    r = c.post("/api/public/reports", json=_body(subclass="9999"))
    assert r.status_code == 422 and field(r) == "subclass"
    r = c.post("/api/public/reports", json=_body(description=""))
    assert r.status_code == 422 and field(r) == "description"
    r = c.post("/api/public/reports", json=_body(contact={"user_id": 1}))
    assert r.status_code == 422 and field(r) == "contact.user_id"
    r = c.post("/api/public/reports", json=_body(contact={"phone": "call me"}))
    assert r.status_code == 422 and field(r) == "contact.phone"
    r = c.post("/api/public/reports", json=_body(crs="utm"))
    assert r.status_code == 422 and field(r) == "crs"
    r = c.post("/api/public/reports", json=_body(photos=["not-uploaded"]))
    assert r.status_code == 422 and r.json()["code"] == "unknown_photo"
    r = c.post("/api/public/reports", json=_body(photos=["p"] * 10))
    assert r.status_code == 422 and field(r) == "photos"
    r = c.post("/api/public/reports", json=_body(description="a\x00b"))
    assert r.status_code == 422 and field(r) == "description"
    r = c.post(
        "/api/public/reports", content=b"not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    who.user = w.supervisor
    r = c.post("/api/public/reports", json=_body())
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"


def test_idempotency_key_returns_the_first_report_and_refuses_reuse(api):  # type: ignore[no-untyped-def]
    c, _ = api
    key = {"Idempotency-Key": "c0ffee00-1234-4bcd-9def-000000000001"}
    first = c.post("/api/public/reports", json=_body(), headers=key)
    again = c.post("/api/public/reports", json=_body(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = c.post("/api/public/reports", json=_body(description="另一件事"), headers=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    short = c.post("/api/public/reports", json=_body(), headers={"Idempotency-Key": "1"})
    assert short.status_code == 422 and short.json()["where"]["field"] == "idempotency_key"


def test_closed_case_shows_the_result_and_is_rated_once(api, session: Session, w: World):  # type: ignore[no-untyped-def]
    c, _ = api
    made = _report(c)
    no, code = made["case_no"], made["tracking_code"]
    early = c.post(f"/api/public/cases/{no}/rating", json={"code": code, "score": 5})
    assert early.status_code == 409 and early.json()["code"] == "not_allowed_in_state"
    _close(session, w, no, note="内部备注XYZ")
    view = c.get(f"/api/public/cases/{no}", params={"code": code}).json()
    assert view["stage"] == "closed" and view["stage_text"] == "已办结"
    assert view["result"]["text"] == "已清理干净" and view["result"]["photos"] == ["r1", "r2"]
    assert view["handled_by"] is None  # no department row in this world
    assert view["closed_at"] and view["expected_at"] is None and view["overdue"] is False
    assert [e["action"] for e in view["timeline"]] == [
        "submit",
        "assign_verify",
        "verify",
        "register",
        "dispatch",
        "accept",
        "report_back",
        "assign_check",
        "check_pass",
        "close",
    ]
    assert all(set(e) == {"at", "action", "text", "detail"} for e in view["timeline"])
    body = str(view)
    assert "内部备注XYZ" not in body and "actor" not in body and "user_id" not in body
    assert view["can_rate"] is True
    bad = c.post(f"/api/public/cases/{no}/rating", json={"code": code, "score": 6})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "score"
    r = c.post(f"/api/public/cases/{no}/rating", json={"code": code, "score": 4, "comment": "挺快"})
    assert r.status_code == 200, r.text
    rated = r.json()
    assert rated["rating"]["score"] == 4 and rated["rating"]["comment"] == "挺快"
    assert rated["can_rate"] is False and rated["timeline"][-1]["action"] == "rate"
    twice = c.post(f"/api/public/cases/{no}/rating", json={"code": code, "score": 1})
    assert twice.status_code == 409 and twice.json()["code"] == "already_rated"
    case = service.load_case(session, no)
    assert service.from_snapshot(case.workflow).ratings == ((0, 4),)
    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == Action.RATE)
    )
    assert event is not None and event.actor_user_id is None


def test_while_handled_the_view_shows_the_department_and_the_deadline(  # type: ignore[no-untyped-def]
    api, session: Session, w: World
):
    c, _ = api
    session.add(Department(code=DEPT, name="城管局", level=Level.DISTRICT))
    made = _report(c)
    no, code = made["case_no"], made["tracking_code"]
    steps = [
        (w.acceptor, "assign_verify", {"verifier_id": w.supervisor.id}),
        (w.supervisor, "verify", {"photos": ["v1"]}),
        (w.shift_lead, "register", {}),
        (w.dispatcher, "dispatch", {"department_id": 1, "department_code": DEPT}),
    ]
    for user, action, payload in steps:
        case = service.load_case(session, no)
        service.act(session, no, action, user, payload, case.version, _now())
    view = c.get(f"/api/public/cases/{no}", params={"code": code}).json()
    assert view["stage"] == "handling" and view["handled_by"] == "城管局"
    handle = next(d for d in service.deadlines_of(session, case.id) if d.step.value == "handle")
    assert datetime.fromisoformat(view["expected_at"]) == handle.due_at
    assert view["overdue"] is False and view["result"] is None and view["can_rate"] is False


def test_a_logged_in_resident_reports_and_rates_through_the_workflow(  # type: ignore[no-untyped-def]
    api, session: Session, w: World
):
    c, who = api
    who.user = w.resident
    made = _report(c)
    no, code = made["case_no"], made["tracking_code"]
    case = service.load_case(session, no)
    assert case.reporter_user_id == w.resident.id
    who.user = None  # the tracking code works without the login
    _close(session, w, no)
    r = c.post(f"/api/public/cases/{no}/rating", json={"code": code, "score": 5})
    assert r.status_code == 200, r.text
    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == Action.RATE)
    )
    assert event is not None and event.actor_user_id == w.resident.id


@pytest.mark.parametrize(
    ("channel", "refused"),
    [
        ("sensor", "no_reporter"),  # an alarm has nobody to rate it
        # A phone caller without an account is reporter 0: told the tracking code, they may
        # rate the result online once it is closed (or the desk records it on the callback).
        ("hotline", "not_allowed_in_state"),
    ],
)
def test_who_may_rate_a_desk_report(api, session: Session, w: World, channel, refused):  # type: ignore[no-untyped-def]
    c, _ = api
    case = desk_report(session, w, channel=channel, description="来电或告警", now=_now())
    code = tracking_code(case.case_no, c.app.state.settings)  # type: ignore[attr-defined]
    view = c.get(f"/api/public/cases/{case.case_no}", params={"code": code}).json()
    assert view["can_rate"] is False
    r = c.post(f"/api/public/cases/{case.case_no}/rating", json={"code": code, "score": 3})
    assert r.status_code == 409 and r.json()["code"] == refused


def test_public_lookups_are_rate_limited(api):  # type: ignore[no-untyped-def]
    c, _ = api
    made = _report(c)
    app = c.app  # type: ignore[attr-defined]
    app.state.settings = app.state.settings.model_copy(update={"public_lookups_per_minute": 2})
    codes = [c.get(made["track_url"]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = c.get(made["track_url"])
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
