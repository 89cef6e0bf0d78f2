"""Dispatching (派遣): the routing suggestion stored on a case, and the loop's notifications.

When a case is registered (立案) :func:`record_suggestion` asks the pure
:func:`gridgov.cases.routing.route` which department should get it and stores the decision and
its reason on the case, in the ``routing`` key of the case's JSON ``workflow`` snapshot (no
column: the key is kept by ``actions.store_outcome`` across actions, and ``from_snapshot``
ignores it). A dispatch (派遣) without an explicit department takes the suggestion; a case with
no suggestion waits in the coordination queue (协调队列, see ``queries.coordination_queue``).
After an approved return (回退) the department that returned it is excluded and the next
candidate, if any, becomes the suggestion.

:func:`notify` writes the outbox rows of one stored event in the caller's transaction: 派遣通知
to the department on dispatch, 结案反馈 to every reporter on close (the reporters of merged
duplicates too: 专项反馈), 合并通知 to a duplicate's reporters when it is merged, 红牌督办 to the
leaders on a red card. Each is keyed by the event row id, so the same event never notifies the
same recipient twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import scope_of
from gridgov.cases.linked import linked_component_id
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.routing import RoutingDecision, route
from gridgov.cases.workflow import Action, State, SupervisionLevel, WorkflowError
from gridgov.components.models import Component
from gridgov.departments.models import Department
from gridgov.departments.service import rules_for
from gridgov.errors import ValidationError
from gridgov.notify.models import Notification
from gridgov.notify.outbox import (
    DEFAULT_TZ,
    Message,
    Recipient,
    closed_message,
    dispatched_message,
    enqueue_message,
    red_card_message,
)
from gridgov.taxonomy.models import Kind
from gridgov.taxonomy.service import get_subclass

#: Key of the stored suggestion in ``case.workflow``.
ROUTING_KEY = "routing"
#: Channel of the loop's notifications (the log channel is always on).
DEFAULT_CHANNEL = "log"
#: Who is told of a red card when no leader's jurisdiction covers the case (区政府 of the
#: default department tree); ignored when no such department is stored.
RED_CARD_FALLBACK_DEPARTMENT = "QZF"
#: Kind of the 合并通知 sent to a duplicate's reporters when it is merged into a master case.
CASE_MERGED = "case.merged"
#: Actions that close a case and so tell its reporters (结案, 即办).
CLOSING = (Action.CLOSE, Action.RESOLVE_ON_SPOT)
#: Actions whose payload carries the handling result shown to reporters, newest wins.
RESULT_ACTIONS = (Action.REPORT_BACK, Action.SELF_HANDLE, Action.RESOLVE_ON_SPOT)


# ---- the suggestion --------------------------------------------------------------------------


def component_owner(session: Session, case: Case) -> str | None:
    """The owner department (权属单位) of the component this case is about, if it is linked
    (``case.component_id``, else a component state event naming the case)."""
    cid = linked_component_id(session, case)
    if cid is None:
        return None
    return session.scalar(select(Component.owner_dept_code).where(Component.id == cid))


def _subclass_name(session: Session, case: Case) -> str:
    return get_subclass(session, case.subclass_code, Kind(case.subclass_kind)).name


def suggest_department(session: Session, case: Case) -> RoutingDecision:
    """Route the case over the stored responsibility matrix: its subclass, its grid and (for a
    component) the component's owner. Pure apart from reading the tables; stores nothing."""
    tables = rules_for(session)
    return route(
        case.subclass_kind,
        case.subclass_code,
        case.grid_code,
        component_owner(session, case),
        tables.rules,
        tables.departments,
        subclass_name=_subclass_name(session, case),
    )


def routing_of(case: Case) -> dict[str, Any] | None:
    """The stored suggestion: ``department_code`` (None: coordination queue), ``reason``,
    ``candidates``, ``excluded`` and ``decided_at``; None before registration."""
    value = (case.workflow or {}).get(ROUTING_KEY)
    return dict(value) if isinstance(value, Mapping) else None


def _decision_dict(decision: RoutingDecision, now: datetime) -> dict[str, Any]:
    return {
        "department_code": decision.department_code,
        "reason": decision.reason,
        "candidates": [
            {
                "department_code": c.department_code,
                "department_name": c.department_name,
                "basis": c.basis,
                "rule_id": c.rule_id,
            }
            for c in decision.candidates
        ],
        "excluded": [],
        "decided_at": now.isoformat(),
    }


def _store(case: Case, routing: dict[str, Any]) -> None:
    # A new dict, so the JSON column sees the change.
    case.workflow = {**(case.workflow or {}), ROUTING_KEY: routing}


def record_suggestion(
    session: Session, case: Case, action: Action, previous_department: str | None, now: datetime
) -> dict[str, Any] | None:
    """Store the routing suggestion when the case has just become registered.

    The first registration routes the case. An approved return (回退) excludes the department
    that returned it and suggests the next candidate not yet excluded (none: coordination
    queue). Any other re-entry keeps the stored suggestion. Returns the stored suggestion.
    """
    if case.state is not State.REGISTERED:
        return routing_of(case)
    current = routing_of(case)
    if current is None:
        current = _decision_dict(suggest_department(session, case), now)
    elif action is Action.APPROVE_RETURN and previous_department:
        excluded = [*current.get("excluded", []), previous_department]
        rest = [c for c in current.get("candidates", []) if c["department_code"] not in excluded]
        reason = f"{previous_department} 回退后改派下一候选"
        current = {
            **current,
            "excluded": excluded,
            "department_code": rest[0]["department_code"] if rest else None,
            "reason": f"{reason}: {rest[0]['department_name']}（{rest[0]['department_code']}）"
            if rest
            else f"{reason}: 无其他候选部门，转协调",
            "decided_at": now.isoformat(),
        }
    else:
        return current
    _store(case, current)
    return current


def dispatch_payload(session: Session, case: Case, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of a 派遣 with its department filled in.

    Without ``department_id`` and ``department_code`` the stored suggestion is used; a case with
    no suggestion is left without one, so the workflow refuses it (see :func:`no_department`).
    A code alone
    gets its id and an id alone its code, from the department table.
    """
    out = dict(payload)
    dept_id, code = out.get("department_id"), out.get("department_code")
    if dept_id is None and not code:
        code = (routing_of(case) or {}).get("department_code")
        if not code:
            return out  # the workflow refuses it (role, state, then the missing department)
    if dept_id is None:
        dept = session.scalar(select(Department).where(Department.code == str(code)))
        if dept is None or not dept.active:
            raise ValidationError(
                f"no active department {code!r}", code="unknown_department", field="department_code"
            )
        out["department_id"], out["department_code"] = dept.id, dept.code
    elif not code and isinstance(dept_id, int):
        found = session.scalar(select(Department.code).where(Department.id == dept_id))
        if found:
            out["department_code"] = found
    return out


def no_department(case: Case, error: WorkflowError) -> WorkflowError:
    """The workflow's "department_id is required" made helpful for a queued case."""
    if error.code == "missing_field" and routing_of(case) is not None:
        return WorkflowError(
            "missing_field",
            "this case has no suggested department (it is in the coordination queue, 协调队列); "
            "choose department_code",
            field="department_code",
        )
    return error


# ---- notifications ---------------------------------------------------------------------------


def _address(case: Case) -> str:
    return f"网格 {case.grid_code}（{case.lon:.5f}, {case.lat:.5f}）"


def _department_name(session: Session, code: str | None) -> str:
    if not code:
        return "未派遣"
    name = session.scalar(select(Department.name).where(Department.code == code))
    return name or code


def _running_due(session: Session, case: Case) -> datetime | None:
    """The due time of the case's running 处置 deadline (or of any running step)."""
    rows = session.scalars(
        select(CaseStepDeadline)
        .where(CaseStepDeadline.case_id == case.id, CaseStepDeadline.stopped_at.is_(None))
        .order_by(CaseStepDeadline.id.desc())
    ).all()
    handle = [r for r in rows if r.step.value == "handle" and r.due_at is not None]
    other = [r for r in rows if r.due_at is not None]
    chosen = handle or other
    return chosen[0].due_at if chosen else None


def _no_due(message: Message, due_text: str, instead: str) -> Message:
    """A message rendered without a deadline: the deadline phrase replaced by ``instead``."""
    return replace(message, body=message.body.replace(due_text, instead))


def _result(session: Session, case: Case) -> str:
    rows = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action.in_(RESULT_ACTIONS))
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).all()
    result = (rows[0].payload or {}).get("result") if rows else None
    return str(result) if result else "已办结"


def reporters_of(case: Case) -> list[Recipient]:
    """Every reporter of the case: registered users (merged duplicates' included) by user id,
    a hotline or anonymous caller by the phone they left."""
    ids = [int(i) for i in (case.workflow or {}).get("reporter_ids") or [] if int(i) > 0]
    if case.reporter_user_id and case.reporter_user_id not in ids:
        ids.insert(0, case.reporter_user_id)
    out = [Recipient.user(i) for i in ids]
    if case.reporter_phone and not case.reporter_user_id:
        out.append(Recipient.phone(case.reporter_phone))
    return out


def absorbed_cases(session: Session, master: Case) -> list[Case]:
    """The duplicates merged into ``master`` (合并), oldest merge first, and theirs in turn: read
    from the master's ``absorb`` event rows, so the reporters of each get the result."""
    out: list[Case] = []
    seen = {master.id}
    queue = [master.id]
    while queue:
        rows = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == queue.pop(0), CaseEvent.action == Action.ABSORB)
            .order_by(CaseEvent.seq)
        ).all()
        for row in rows:
            dup_id = (row.payload or {}).get("duplicate_id")
            dup = session.get(Case, dup_id) if isinstance(dup_id, int) else None
            if dup is not None and dup.id not in seen:
                seen.add(dup.id)
                out.append(dup)
                queue.append(dup.id)
    return out


def _duplicate_closed_jobs(
    session: Session, master: Case, master_msg: Message
) -> list[tuple[Message, Recipient]]:
    """专项反馈: the 结案反馈 of a master case for the reporters of each merged duplicate, worded
    with their own case number, report time and place (a reporter of several gets one)."""
    jobs: list[tuple[Message, Recipient]] = []
    for dup in absorbed_cases(session, master):
        msg = closed_message(
            case_code=dup.case_no,
            subclass_name=master_msg.payload.get("subclass_name", ""),
            address=_address(dup),
            reported_at=dup.reported_at or dup.created_at,
            result=master_msg.payload.get("result", "已办结"),
        )
        msg = replace(msg, payload={**msg.payload, "master_case_code": master.case_no})
        jobs.extend((msg, r) for r in reporters_of(dup))
    return jobs


def _merged_message(case: Case, event: CaseEvent, subclass_name: str) -> Message:
    """合并通知: the duplicate's reporters learn which case now carries their report."""
    master = str((event.payload or {}).get("master_case_no") or "")
    reported = (case.reported_at or case.created_at).astimezone(ZoneInfo(DEFAULT_TZ))
    return Message(
        kind=CASE_MERGED,
        subject=f"【合并办理】您反映的问题已并入案件 {master}",
        body=(
            f"您于 {reported:%Y-%m-%d %H:%M} 反映的问题（{subclass_name}，{_address(case)}）"
            f"与案件 {master} 为同一问题，已合并办理（原案件 {case.case_no}）。"
            "办结后将一并反馈处置结果。"
        ),
        payload={
            "case_code": case.case_no,
            "master_case_code": master,
            "subclass_name": subclass_name,
            "address": _address(case),
            "reported_at": reported.isoformat(),
        },
    )


def leaders_for(session: Session, case: Case) -> list[Recipient]:
    """The active leaders (领导) whose jurisdiction covers the case's grid; when there are none,
    the fallback department if it is stored."""
    leaders = session.scalars(
        select(User).where(User.role == Role.LEADER, User.active.is_(True)).order_by(User.id)
    ).all()
    out = [
        Recipient.user(u.id) for u in leaders if scope_of(session, u).covers_grid(case.grid_code)
    ]
    if not out:
        found = session.scalar(
            select(Department.code).where(Department.code == RED_CARD_FALLBACK_DEPARTMENT)
        )
        if found:
            out.append(Recipient.department(found))
    return out


def notify(
    session: Session, case: Case, event: CaseEvent, *, channel: str = DEFAULT_CHANNEL
) -> list[Notification]:
    """Enqueue the notifications ``event`` (already flushed, so it has an id) causes; nothing
    for events that notify nobody. Runs in the caller's transaction and commits nothing."""
    ref = f"case_event:{event.id}"
    sub = _subclass_name(session, case)
    jobs: list[tuple[Message, Recipient]] = []
    if event.action is Action.DISPATCH and case.department_code:
        name = _department_name(session, case.department_code)
        due = _running_due(session, case)
        msg = dispatched_message(
            case_code=case.case_no,
            subclass_name=sub,
            address=_address(case),
            department_name=name,
            due_at=due or event.at,
        )
        if due is None:
            msg = _no_due(msg, msg.body[msg.body.index("请于") :], "请尽快处置并反馈。")
        jobs.append((msg, Recipient.department(case.department_code)))
    elif event.action in CLOSING and event.to_state is State.CLOSED:
        msg = closed_message(
            case_code=case.case_no,
            subclass_name=sub,
            address=_address(case),
            reported_at=case.reported_at or case.created_at,
            result=_result(session, case),
        )
        jobs.extend((msg, r) for r in reporters_of(case))
        jobs.extend(_duplicate_closed_jobs(session, case, msg))
    elif event.action is Action.MERGE:
        jobs.extend((_merged_message(case, event, sub), r) for r in reporters_of(case))
    elif (
        event.action is Action.SUPERVISE
        and (event.payload or {}).get("level") == SupervisionLevel.RED.value
    ):
        due = _running_due(session, case)
        msg = red_card_message(
            case_code=case.case_no,
            subclass_name=sub,
            department_name=_department_name(session, case.department_code),
            reason=event.note or "红牌督办",
            due_at=due or event.at,
        )
        if due is None:
            msg = _no_due(msg, msg.body[msg.body.index("处置时限") :], "请督促办理。")
        jobs.extend((msg, r) for r in leaders_for(session, case))
    return [
        enqueue_message(session, m, recipient=r, channel=channel, event_ref=ref, now=event.at)
        for m, r in jobs
    ]
