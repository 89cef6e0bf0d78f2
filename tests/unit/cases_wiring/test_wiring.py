"""Routing on the case, the coordination queue and the loop's notifications, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases import dispatching, queries, service
from gridgov.cases.models import CaseEvent
from gridgov.cases.workflow import State, WorkflowError
from gridgov.departments.models import Department
from gridgov.errors import Forbidden
from gridgov.notify.models import Notification, RecipientKind
from tests.unit.cases_wiring.world import (
    GRID,
    NOISE,
    STREET_OFFICE,
    T0,
    act,
    event_id,
    notes,
    report,
)


def test_registration_stores_suggestion_with_reason(session: Session, w: dict[str, User]):
    case = report(session, w)
    assert dispatching.routing_of(case) is None  # not before 立案
    case = act(session, case, w["lead"], "register", {}, 10)
    routing = dispatching.routing_of(case)
    assert routing is not None
    assert routing["department_code"] == STREET_OFFICE
    assert routing["reason"].startswith("事件按属地（先属地后属主")
    assert GRID in routing["reason"] and STREET_OFFICE in routing["reason"]
    assert [c["department_code"] for c in routing["candidates"]] == [STREET_OFFICE, "QCGZFJ"]
    # The register event (shown by GET /cases/{case_no}) carries the suggestion too.
    register = service.history(session, case.case_no)[-1]
    assert register.payload["routing"]["department_code"] == STREET_OFFICE
    # The snapshot key survives later actions and replay still agrees with the snapshot.
    case = act(session, case, w["disp"], "dispatch", {}, 20)
    assert dispatching.routing_of(case) == routing
    assert service.rebuild(session, case.case_no) == service.from_snapshot(case.workflow)


def test_dispatch_without_department_uses_suggestion(session: Session, w: dict[str, User]):
    case = act(session, report(session, w), w["lead"], "register", {}, 10)
    case = act(session, case, w["disp"], "dispatch", {}, 20)
    office = session.scalars(select(Department).where(Department.code == STREET_OFFICE)).one()
    assert case.state is State.DISPATCHED
    assert (case.department_code, case.department_id) == (STREET_OFFICE, office.id)
    # An explicit department code wins over the suggestion.
    other = act(session, report(session, w), w["lead"], "register", {}, 10)
    other = act(session, other, w["disp"], "dispatch", {"department_code": "QCGZFJ"}, 20)
    assert other.department_code == "QCGZFJ"


def test_return_suggests_the_next_candidate(session: Session, w: dict[str, User]):
    case = act(session, report(session, w), w["lead"], "register", {}, 10)
    case = act(session, case, w["disp"], "dispatch", {}, 20)
    case = act(session, case, w["dept"], "request_return", {"reason": "非本单位职责"}, 30)
    case = act(session, case, w["disp"], "approve_return", {}, 40)
    routing = dispatching.routing_of(case)
    assert routing is not None
    assert routing["department_code"] == "QCGZFJ"
    assert routing["excluded"] == [STREET_OFFICE]
    assert "回退后改派下一候选" in routing["reason"]


def test_unmatched_case_waits_in_coordination_queue_with_age(session: Session, w: dict[str, User]):
    qzjw = session.scalars(select(Department).where(Department.code == "QZJW")).one()
    qzjw.active = False
    session.flush()
    case = act(session, report(session, w, NOISE), w["lead"], "register", {}, 10)
    routing = dispatching.routing_of(case)
    assert routing is not None and routing["department_code"] is None
    assert routing["reason"].startswith("无匹配部门，转协调")
    routed = act(session, report(session, w), w["lead"], "register", {}, 10)  # not queued

    now = T0 + timedelta(hours=3, minutes=10)
    queue = queries.coordination_queue(session, w["disp"], now)
    assert [(q.case.case_no, q.age) for q in queue] == [(case.case_no, timedelta(hours=3))]
    assert queue[0].reason.startswith("无匹配部门")
    assert routed.case_no not in {q.case.case_no for q in queue}
    with pytest.raises(Forbidden):
        queries.coordination_queue(session, w["sup"], now)

    # Dispatch needs a person's choice; with it the case leaves the queue.
    with pytest.raises(WorkflowError) as refused:
        act(session, case, w["disp"], "dispatch", {}, 20)
    assert "coordination queue" in refused.value.message
    case = act(session, case, w["disp"], "dispatch", {"department_code": "QCGZFJ"}, 20)
    assert queries.coordination_queue(session, w["disp"], now) == []


def test_dispatch_close_and_red_card_notify_once(session: Session, w: dict[str, User]):
    case = report(session, w)
    case = act(session, case, w["lead"], "register", {}, 10)
    case = act(session, case, w["disp"], "dispatch", {}, 20)
    [sent] = notes(session)
    assert (sent.kind, sent.recipient_kind, sent.recipient) == (
        "case.dispatched",
        RecipientKind.DEPARTMENT,
        STREET_OFFICE,
    )
    assert sent.channel == "log"
    dispatch_id = event_id(session, case, "dispatch")
    assert sent.dedupe_key.startswith(f"case.dispatched:case_event:{dispatch_id}:")
    assert case.case_no in sent.subject
    assert sent.body.startswith("东华门街道办事处：收到新派遣案件")
    assert "请于 2026-06-02 09:20 前处置并反馈" in sent.body  # 处置 deadline, Asia/Shanghai

    case = act(session, case, w["boss"], "supervise", {"level": "yellow"}, 25)
    assert len(notes(session)) == 1  # a yellow card tells nobody
    case = act(session, case, w["boss"], "supervise", {"level": "red", "reason": "超期"}, 26)
    [red] = notes(session, "case.red_card")
    assert (red.recipient_kind, red.recipient) == (RecipientKind.USER, str(w["boss"].id))
    assert "督办事由：超期" in red.body

    steps = [
        (w["dept"], "accept", {}),
        (w["dept"], "report_back", {"result": "已清理", "photos": ["p2.jpg"]}),
        (w["acc"], "assign_check", {"checker_id": w["chk"].id}),
        (w["chk"], "check_pass", {"photos": ["p3.jpg"]}),
        (w["lead"], "close", {}),
    ]
    for i, (user, action, payload) in enumerate(steps):
        case = act(session, case, user, action, payload, 30 + 10 * i)
    [closed] = notes(session, "case.closed")
    assert (closed.recipient_kind, closed.recipient) == (RecipientKind.USER, str(w["sup"].id))
    assert "处置结果：已清理" in closed.body
    assert len(notes(session)) == 3

    # Replaying the notification of a stored event never adds a row (dedupe by event id).
    for action in ("dispatch", "supervise", "close"):
        for row in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == action)
        ):
            dispatching.notify(session, case, row)
    assert len(notes(session)) == 3


def test_close_tells_every_reporter_user_or_phone(session: Session, w: dict[str, User]):
    # A hotline caller who left a phone number, and a registered resident on one case.
    called = report(
        session,
        w,
        actor=w["acc"],
        channel="hotline",
        photos=None,
        item_class="on_the_spot",
        contact={"name": "张先生", "phone": "13800138000"},
    )
    act(session, called, w["acc"], "resolve_on_spot", {"result": "电话解答"}, 5)
    resident = report(session, w, actor=w["res"], channel="public", photos=None)
    resident = act(session, resident, w["acc"], "assign_verify", {"verifier_id": w["sup"].id}, 5)
    resident = act(session, resident, w["sup"], "verify", {"photos": ["v.jpg"]}, 6)
    resident = act(session, resident, w["lead"], "register", {}, 7)
    resident = act(session, resident, w["disp"], "dispatch", {}, 8)
    resident = act(session, resident, w["dept"], "accept", {}, 9)
    payload = {"result": "已清运", "photos": ["r.jpg"]}
    resident = act(session, resident, w["dept"], "report_back", payload, 10)
    resident = act(session, resident, w["acc"], "assign_check", {"checker_id": w["chk"].id}, 11)
    resident = act(session, resident, w["chk"], "check_pass", {"photos": ["c.jpg"]}, 12)
    resident = act(session, resident, w["lead"], "close", {}, 13)
    closed = {(n.recipient_kind, n.recipient, n.body) for n in notes(session, "case.closed")}
    assert {(k, r) for k, r, _ in closed} == {
        (RecipientKind.PHONE, "13800138000"),
        (RecipientKind.USER, str(w["res"].id)),
    }
    assert {b.split("处置结果：")[1].split("。")[0] for _, _, b in closed} == {"电话解答", "已清运"}


def test_rolled_back_action_enqueues_nothing(session: Session, w: dict[str, User]):
    case = act(session, report(session, w), w["lead"], "register", {}, 10)
    before = session.scalar(select(func.count()).select_from(Notification))
    with pytest.raises(RuntimeError), session.begin_nested():
        act(session, case, w["disp"], "dispatch", {}, 20)
        assert len(notes(session)) == before + 1
        raise RuntimeError("the request fails after the action")
    assert session.scalar(select(func.count()).select_from(Notification)) == before
    session.refresh(case)
    assert case.state is State.REGISTERED
