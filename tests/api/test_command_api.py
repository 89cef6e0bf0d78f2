"""The command-centre and department-desk API (gridgov/cases/command_api.py) on SQLite and
PostgreSQL: dispatch board with suggestions, approval queues with the request, overdue board,
department load, a department's task list, roles and jurisdiction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.cases.command_api import router as command_router
from gridgov.cases.models import Case, CaseStepDeadline
from gridgov.departments.models import Department
from tests.api.acting import As, acting_client, router_app
from tests.factories.regions import STREETS
from tests.unit.cases_wiring.world import NOISE, STREET_OFFICE, T0, act, build, make_user, report

OTHER_DEPT = "QZJW"


@pytest.fixture
def w(session: Session) -> dict[str, User]:
    users = build(session)
    users["dept2"] = make_user(session, "dept2", Role.DEPARTMENT, OTHER_DEPT)
    far = User(username="fardisp", name="fardisp", role=Role.DISPATCHER, active=True)
    far.failed_logins = 0
    session.add(far)
    session.flush()
    session.add(Jurisdiction(user_id=far.id, scope_kind=ScopeKind.REGION, code=STREETS[1]))
    session.flush()
    users["fardisp"] = far
    return users


@pytest.fixture
def api(session: Session, w: dict[str, User]) -> Iterator[tuple[TestClient, type[As]]]:
    with acting_client(router_app(command_router), session) as c:
        yield c, As


def _registered(session: Session, w: dict[str, User], subclass: str | None = None) -> Case:
    case = report(session, w) if subclass is None else report(session, w, subclass)
    return act(session, case, w["lead"], "register", {}, 5)


def _handling(session: Session, w: dict[str, User]) -> Case:
    """Registered, dispatched to the suggested street office and accepted by its user."""
    case = _registered(session, w)
    case = act(session, case, w["disp"], "dispatch", {}, 10)
    return act(session, case, w["dept"], "accept", {}, 15)


def _numbers(body: dict[str, Any]) -> list[str]:
    return [i["case_no"] for i in body["items"]]


def _set_due(session: Session, case: Case, due: datetime) -> None:
    session.execute(
        update(CaseStepDeadline)
        .where(CaseStepDeadline.case_id == case.id, CaseStepDeadline.stopped_at.is_(None))
        .values(started_at=due - timedelta(hours=4), due_at=due, limit_unit="natural_hours")
    )
    session.flush()


def test_dispatch_board_has_suggested_cases_and_coordination_is_apart(
    api: Any, w: dict[str, User], session: Session
) -> None:
    c, who = api
    routed = _registered(session, w)
    qzjw = session.scalars(select(Department).where(Department.code == OTHER_DEPT)).one()
    qzjw.active = False  # 施工扰民 then has no department: the coordination queue
    session.flush()
    lonely = _registered(session, w, NOISE)
    report(session, w)  # reported, not registered: on no command list

    who.user = w["disp"]
    board = c.get("/api/command/dispatch").json()
    assert _numbers(board) == [routed.case_no]
    assert board["total"] == 1
    item = board["items"][0]
    assert item["suggestion"]["department_code"] == STREET_OFFICE
    assert item["suggestion"]["department_name"]
    assert item["suggestion"]["reason"]
    assert item["subclass_name"] == "乱堆物堆料"
    assert item["due_step"] == "dispatch" and item["light"] == "red"  # T0 is long past
    assert item["waiting_seconds"] > 0 and item["overdue_seconds"] > 0
    counts = c.get("/api/command/counts").json()
    assert counts["dispatch"] == 1 and counts["coordination"] == 1
    assert lonely.case_no not in _numbers(board)

    act(session, routed, w["disp"], "dispatch", {}, 10)
    assert c.get("/api/command/dispatch").json()["items"] == []
    assert c.get("/api/command/counts").json()["dispatch"] == 0


def test_approval_queues_carry_the_request(api: Any, w: dict[str, User], session: Session) -> None:
    c, who = api
    wanted = T0 + timedelta(days=3)
    ext = act(
        session,
        _handling(session, w),
        w["dept"],
        "request_extension",
        {"reason": "需要协调物业", "due_at": wanted.isoformat()},
        20,
    )
    ret = act(
        session, _handling(session, w), w["dept"], "request_return", {"reason": "非本单位"}, 25
    )
    hang = act(session, _handling(session, w), w["dept"], "request_hang", {"reason": "待拆迁"}, 30)
    _handling(session, w)  # handling, nothing asked

    who.user = w["disp"]
    body = c.get("/api/command/approvals").json()
    assert body["counts"] == {"return": 1, "extension": 1, "hang": 1, "escalation": 0}
    assert _numbers(body) == [ext.case_no, ret.case_no, hang.case_no]  # oldest request first
    first = body["items"][0]
    assert first["kind"] == "extension"
    assert first["request"]["action"] == "request_extension"
    assert first["request"]["reason"] == "需要协调物业"
    assert datetime.fromisoformat(first["request"]["due_at"]) == wanted
    assert first["request"]["actor_name"] == "dept" and first["request"]["role"] == "department"
    assert first["request"]["paused_from"] == "handling"
    assert first["department_code"] == STREET_OFFICE and first["department_name"]
    only = c.get("/api/command/approvals", params={"kind": "return"}).json()
    assert _numbers(only) == [ret.case_no] and only["items"][0]["request"]["reason"] == "非本单位"
    assert c.get("/api/command/approvals", params={"kind": "nope"}).status_code == 422

    act(session, ext, w["disp"], "approve_extension", {"due_at": wanted.isoformat()}, 40)
    assert c.get("/api/command/approvals").json()["counts"]["extension"] == 0
    assert c.get("/api/command/counts").json()["approvals"]["hang"] == 1


def test_overdue_board_longest_overdue_first(
    api: Any, w: dict[str, User], session: Session
) -> None:
    c, who = api
    now = datetime.now(UTC)
    late = _handling(session, w)
    later = _handling(session, w)
    calm = _handling(session, w)
    _set_due(session, late, now - timedelta(hours=1))
    _set_due(session, later, now - timedelta(hours=5))
    _set_due(session, calm, now + timedelta(hours=5))

    who.user = w["disp"]
    body = c.get("/api/command/overdue").json()
    assert _numbers(body) == [later.case_no, late.case_no]
    assert body["total"] == 2
    top = body["items"][0]
    assert top["light"] == "red" and top["due_step"] == "handle"
    assert 5 * 3600 - 120 <= top["overdue_seconds"] <= 5 * 3600 + 120
    assert top["department_code"] == STREET_OFFICE
    page = c.get("/api/command/overdue", params={"limit": 1, "offset": 1}).json()
    assert _numbers(page) == [late.case_no] and page["total"] == 2
    assert c.get("/api/command/counts").json()["overdue"] == 2


def test_department_load(api: Any, w: dict[str, User], session: Session) -> None:
    c, who = api
    now = datetime.now(UTC)
    a = _handling(session, w)
    b = _handling(session, w)
    act(session, b, w["dept"], "request_hang", {"reason": "待拆迁"}, 30)
    _set_due(session, a, now + timedelta(hours=3))
    _registered(session, w)  # open, no department yet

    who.user = w["disp"]
    body = c.get("/api/command/departments").json()
    assert body["unassigned_open"] == 1
    (office,) = body["items"]
    assert office["code"] == STREET_OFFICE and office["name"]
    assert office["open"] == 2 and office["overdue"] == 1 and office["requests"] == 1


def test_department_tasks_mine_only_red_first(
    api: Any, w: dict[str, User], session: Session
) -> None:
    c, who = api
    now = datetime.now(UTC)
    calm = _handling(session, w)
    late = _handling(session, w)
    fresh = act(session, _registered(session, w), w["disp"], "dispatch", {}, 10)  # 待签收
    asked = act(session, _handling(session, w), w["dept"], "request_return", {"reason": "x"}, 20)
    _set_due(session, calm, now + timedelta(days=3))
    _set_due(session, late, now - timedelta(hours=2))
    _set_due(session, fresh, now + timedelta(hours=1))
    other = _registered(session, w)
    other = act(session, other, w["disp"], "dispatch", {"department_code": OTHER_DEPT}, 10)

    who.user = w["dept"]
    body = c.get("/api/department/tasks").json()
    todo = [i for i in body["items"] if i["group"] == "todo"]
    assert [i["case_no"] for i in todo] == [late.case_no, fresh.case_no, calm.case_no]
    assert [i["case_no"] for i in body["items"] if i["group"] == "waiting"] == [asked.case_no]
    assert other.case_no not in _numbers(body)
    assert body["counts"]["todo"] == 3 and body["counts"]["waiting"] == 1
    assert body["counts"]["overdue"] >= 1
    assert body["items"][0]["overdue_seconds"] > 0
    waiting = c.get("/api/department/tasks", params={"group": "waiting"}).json()
    assert _numbers(waiting) == [asked.case_no] and waiting["total"] == 1

    who.user = w["dept2"]
    assert _numbers(c.get("/api/department/tasks").json()) == [other.case_no]


def test_roles_and_jurisdiction(api: Any, w: dict[str, User], session: Session) -> None:
    c, who = api
    case = _registered(session, w)
    act(session, _handling(session, w), w["dept"], "request_hang", {"reason": "待拆迁"}, 30)

    who.user = None
    assert c.get("/api/command/dispatch").status_code == 401
    for name in ("sup", "dept", "res"):
        who.user = w[name]
        r = c.get("/api/command/dispatch")
        assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    who.user = w["disp"]
    assert c.get("/api/department/tasks").status_code == 403

    # A dispatcher of the other street sees none of street 1's cases.
    who.user = w["fardisp"]
    assert c.get("/api/command/dispatch").json()["items"] == []
    assert c.get("/api/command/approvals").json()["counts"]["hang"] == 0
    assert c.get("/api/command/departments").json()["items"] == []
    assert c.get("/api/command/counts").json()["dispatch"] == 0
    who.user = w["disp"]
    assert case.case_no in _numbers(c.get("/api/command/dispatch").json())
    assert c.get("/api/command/dispatch", params={"limit": 0}).status_code == 422


def _set_span(session: Session, case: Case, started: datetime, due: datetime) -> None:
    session.execute(
        update(CaseStepDeadline)
        .where(CaseStepDeadline.case_id == case.id, CaseStepDeadline.stopped_at.is_(None))
        .values(started_at=started, due_at=due, limit_unit="natural_hours")
    )
    session.flush()


def test_dispatch_board_pages_by_key_and_offset_in_sql(
    api: Any, w: dict[str, User], session: Session
) -> None:
    c, who = api
    cases = [_registered(session, w) for _ in range(5)]  # registered at the same minute
    numbers = [x.case_no for x in cases]

    who.user = w["disp"]
    first = c.get("/api/command/dispatch", params={"limit": 2}).json()
    assert _numbers(first) == numbers[:2] and first["total"] == 5
    assert first["count"] == 2 and first["next_after"] == numbers[1]
    # Someone dispatches a case of the first page: the next page neither shifts nor repeats.
    act(session, cases[0], w["disp"], "dispatch", {}, 10)
    second = c.get("/api/command/dispatch", params={"limit": 2, "after": numbers[1]}).json()
    assert _numbers(second) == numbers[2:4] and second["total"] == 4
    last = c.get("/api/command/dispatch", params={"limit": 2, "after": numbers[3]}).json()
    assert _numbers(last) == numbers[4:] and last["next_after"] is None
    by_offset = c.get("/api/command/dispatch", params={"limit": 2, "offset": 2}).json()
    assert _numbers(by_offset) == numbers[3:5]
    assert c.get("/api/command/dispatch", params={"after": "999"}).status_code == 422
    assert c.get("/api/command/dispatch", params={"after": "x;1"}).status_code == 422
    counts = c.get("/api/command/counts").json()
    assert counts["dispatch"] == 4 and counts["coordination"] == 0


def test_department_tasks_sorted_and_paged_in_sql(
    api: Any, w: dict[str, User], session: Session
) -> None:
    c, who = api
    now = datetime.now(UTC)
    green = _handling(session, w)  # half its time used, due first among the timely ones
    yellow = _handling(session, w)  # 80 % used (黄灯), due later: still before the green one
    late = _handling(session, w)
    none = _handling(session, w)  # no due time: last
    asked = act(session, _handling(session, w), w["dept"], "request_hang", {"reason": "x"}, 20)
    _set_span(session, green, now - timedelta(hours=1), now + timedelta(hours=1))
    _set_span(session, yellow, now - timedelta(hours=10), now + timedelta(hours=2))
    _set_span(session, late, now - timedelta(hours=5), now - timedelta(hours=1))
    session.execute(
        update(CaseStepDeadline)
        .where(CaseStepDeadline.case_id == none.id, CaseStepDeadline.stopped_at.is_(None))
        .values(due_at=None)
    )
    session.flush()

    who.user = w["dept"]
    body = c.get("/api/department/tasks").json()
    order = [late.case_no, yellow.case_no, green.case_no, none.case_no, asked.case_no]
    assert _numbers(body) == order  # 待办 first (red, yellow, by due time, none), then waiting
    assert [i["light"] for i in body["items"][:3]] == ["red", "yellow", "green"]
    assert body["total"] == 5 and body["count"] == 5
    late_n = sum(1 for i in body["items"] if i["overdue_seconds"] > 0)  # the hang request too
    assert body["counts"] == {"todo": 4, "waiting": 1, "overdue": late_n} and late_n >= 1
    pages = [
        c.get("/api/department/tasks", params={"limit": 2, "offset": n}).json() for n in (0, 2, 4)
    ]
    assert [n for p in pages for n in _numbers(p)] == order
    assert all(p["total"] == 5 for p in pages) and [p["count"] for p in pages] == [2, 2, 1]
    todo = c.get("/api/department/tasks", params={"group": "todo", "limit": 1, "offset": 1}).json()
    assert _numbers(todo) == [yellow.case_no] and todo["total"] == 4
    assert c.get("/api/department/tasks", params={"limit": 501}).status_code == 422
