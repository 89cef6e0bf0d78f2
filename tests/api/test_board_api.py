"""The supervision board API (gridgov/cases/board_api.py) on SQLite and PostgreSQL: queues,
counts, filters, lights, scope, candidates and case refs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases import service
from gridgov.cases.board_api import router as board_router
from gridgov.cases.models import Case, CaseStepDeadline
from tests.api.acting import As, acting_client, router_app
from tests.unit.cases_db.world import (
    GRID,
    T0,
    World,
    build,
    desk_report,
    report,
    walk,
)


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(session: Session, w: World) -> Iterator[tuple[TestClient, type[As]]]:
    with acting_client(router_app(board_router), session) as c:
        yield c, As


def _hotline(session: Session, w: World, key: str) -> Case:
    contact = {"name": "张三", "phone": "13812345678"}
    return desk_report(session, w, contact=contact, idempotency_key=key)


def _numbers(body: dict[str, Any]) -> list[str]:
    return [i["case_no"] for i in body["items"]]


def test_queues_counts_and_filters(api, w: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, who = api
    sup = report(session, w, key="a")  # supervisor report: 待受理 and 待立案 (no 核实 needed)
    hot = _hotline(session, w, "b")  # hotline: 待受理 only (needs 核实)
    done = walk(session, w, report(session, w, key="c"), 4)  # handled: 待核查
    who.user = w.acceptor
    counts = c.get("/api/cases/board/counts").json()
    assert counts["queues"] == {
        "reported": 2,
        "verifying": 0,
        "to_register": 1,
        "to_check": 1,
        "to_close": 0,
        "open": 3,
    }
    assert set(counts["lights"]) == {"yellow", "red"}
    body = c.get("/api/cases/board/list", params={"queue": "reported"}).json()
    assert sorted(_numbers(body)) == sorted([sup.case_no, hot.case_no])
    assert body["total"] == 2 and body["items"][0]["subclass_name"] == "暴露垃圾"
    assert _numbers(c.get("/api/cases/board/list", params={"queue": "to_register"}).json()) == [
        sup.case_no
    ]
    hotline = c.get("/api/cases/board/list", params={"channel": "hotline"}).json()
    assert _numbers(hotline) == [hot.case_no]
    assert hotline["items"][0]["reporter_phone"] == "138****5678"
    states = c.get("/api/cases/board/list", params=[("state", "handled"), ("state", "reported")])
    assert set(_numbers(states.json())) == {sup.case_no, hot.case_no, done.case_no}
    assert (
        c.get("/api/cases/board/counts", params={"channel": "hotline"}).json()["queues"]["open"]
        == 1
    )
    assert c.get("/api/cases/board/list", params={"grid_code": GRID[:9]}).json()["total"] == 3
    assert c.get("/api/cases/board/list", params={"grid_code": "110188002"}).json()["total"] == 0
    page = c.get("/api/cases/board/list", params={"limit": 2, "order": "oldest"}).json()
    assert page["count"] == 2 and page["total"] == 3 and _numbers(page)[0] == sup.case_no
    assert c.get("/api/cases/board/list", params={"queue": "nope"}).status_code == 422
    assert c.get("/api/cases/board/list", params={"grid_code": "x'"}).status_code == 422


def test_lights_filter(api, w: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, who = api
    late = report(session, w, key="late")
    soon = report(session, w, key="soon")
    calm = report(session, w, key="calm")
    # The board reads the real clock: move the running deadlines around it.
    real = datetime.now(UTC)
    shift = {
        late.id: (real - timedelta(hours=3), real - timedelta(hours=1)),
        soon.id: (real - timedelta(hours=9), real + timedelta(minutes=5)),
        calm.id: (real - timedelta(minutes=1), real + timedelta(days=30)),
    }
    for case_id, (start, due) in shift.items():
        session.execute(
            update(CaseStepDeadline)
            .where(CaseStepDeadline.case_id == case_id)
            .values(started_at=start, due_at=due, limit_unit="natural_hours")
        )
    session.flush()
    who.user = w.shift_lead
    assert c.get("/api/cases/board/counts").json()["lights"] == {"yellow": 1, "red": 1}
    red = c.get("/api/cases/board/list", params={"light": "red"}).json()
    assert _numbers(red) == [late.case_no] and red["items"][0]["light"] == "red"
    yellow = c.get("/api/cases/board/list", params={"light": "yellow"}).json()
    assert _numbers(yellow) == [soon.case_no] and yellow["items"][0]["lights"] == {
        "register": "yellow"
    }
    green = c.get("/api/cases/board/list", params={"light": "green"}).json()
    assert _numbers(green) == [calm.case_no]


def test_scope_roles_candidates_and_refs(api, w: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, who = api
    case = _hotline(session, w, "h")
    who.user = w.far_lead  # the other street: sees nothing, may not read the case
    assert c.get("/api/cases/board/list").json()["total"] == 0
    assert c.get("/api/cases/board/counts").json()["queues"]["open"] == 0
    assert c.get(f"/api/cases/board/ref/{case.case_no}").status_code == 403
    who.user = w.resident
    assert c.get("/api/cases/board/list").status_code == 403
    who.user = None
    assert c.get("/api/cases/board/counts").status_code == 401
    who.user = w.acceptor
    people = c.get(f"/api/cases/board/candidates/{case.case_no}").json()
    names = {p["username"] for p in people}
    assert {"sup", "chk"} <= names and "farsup" not in names
    assert c.get("/api/cases/board/candidates/nope").status_code == 404
    ref = c.get(f"/api/cases/board/ref/{case.case_no}").json()
    assert ref["id"] == case.id and ref["state"] == "reported" and ref["version"] == 1
    who.user = w.dispatcher
    assert c.get(f"/api/cases/board/candidates/{case.case_no}").status_code == 403


def test_assigned_to_me_lists_own_verify_and_check_tasks(api, w: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    c, who = api
    later = T0 + timedelta(minutes=5)

    def assign_verify(case: Case, verifier: User) -> Case:
        return service.act(
            session,
            case.case_no,
            "assign_verify",
            w.acceptor,
            {"verifier_id": verifier.id},
            case.version,
            later,
        )

    mine = assign_verify(_hotline(session, w, "v1"), w.supervisor)  # 核实 by the supervisor
    theirs = assign_verify(_hotline(session, w, "v2"), w.checker)  # 核实 by the checker
    verified = assign_verify(_hotline(session, w, "v3"), w.supervisor)
    verified = service.act(
        session,
        verified.case_no,
        "verify",
        w.supervisor,
        {"photos": ["v.jpg"]},
        verified.version,
        later + timedelta(minutes=1),
    )
    checking = walk(session, w, report(session, w, key="k1"), 5)  # 核查 by the checker
    checked = walk(session, w, report(session, w, key="k2"), 6)  # the checker's, done
    assert (verified.state, checking.state, checked.state) == ("verified", "checking", "checked")
    unassigned = _hotline(session, w, "v4")

    def assigned(**params: Any) -> list[str]:
        body = c.get("/api/cases/board/list", params={"assigned_to_me": "true", **params})
        assert body.status_code == 200, body.text
        return sorted(_numbers(body.json()))

    who.user = w.supervisor
    assert assigned() == [mine.case_no]
    everything = _numbers(c.get("/api/cases/board/list", params={"limit": 200}).json())
    assert {mine.case_no, theirs.case_no, unassigned.case_no} <= set(everything)  # default: all
    who.user = w.checker
    assert assigned() == sorted([theirs.case_no, checking.case_no])
    assert assigned(state="checking") == [checking.case_no]
    assert assigned(queue="verifying") == [theirs.case_no]
    who.user = w.acceptor  # assigns tasks, has none
    assert assigned() == []
    who.user = w.far_supervisor  # the other street
    assert assigned() == []
    who.user = w.resident
    assert c.get("/api/cases/board/list", params={"assigned_to_me": "true"}).status_code == 403
    who.user = w.supervisor
    assert c.get("/api/cases/board/list", params={"assigned_to_me": "x"}).status_code == 422
