"""The public side of a case (公众查询): what a reporter without an account sees and may do.

``public_view`` is the case as the holder of its tracking code (:mod:`gridgov.cases.tracking`)
sees it: the state in plain words (``STAGES``), a timeline without staff names or internal notes
(``TIMELINE``), the result after handling, the expected date. ``rate`` is 评价 by that reporter,
once the case is closed, through the workflow's ``rate`` action (``actions.act``, as the
anonymous reporter when the report had no account). The HTTP layer is
:mod:`gridgov.cases.public_api`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.cases.actions import ANONYMOUS, act, from_snapshot, reject_nul
from gridgov.cases.deadlines import open_deadlines
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import Action, Actor, State, Step, allowed_actions
from gridgov.departments.models import Department
from gridgov.errors import Conflict
from gridgov.taxonomy.models import Kind, Subclass

# ---- what the public sees ------------------------------------------------------------------

#: Public stage (公开状态) of each state: a code for the UI and the plain words (zh-CN).
STAGES: Mapping[State, tuple[str, str]] = {
    State.NEW: ("received", "已收到"),
    State.REPORTED: ("received", "已受理，等待立案"),
    State.VERIFYING: ("verifying", "正在现场核实"),
    State.VERIFIED: ("verifying", "已核实，等待立案"),
    State.AWAITING_DOCUMENTS: ("awaiting_documents", "等待补充材料"),
    State.AWAITING_APPROVAL: ("awaiting_approval", "等待上级审批"),
    State.REGISTERED: ("registered", "已立案，等待派遣"),
    State.ESCALATED: ("registered", "已立案，上级部门处理中"),
    State.DISPATCHED: ("handling", "处置中"),
    State.HANDLING: ("handling", "处置中"),
    State.REWORK: ("handling", "处置中"),
    State.RETURN_REQUESTED: ("handling", "处置中"),
    State.EXTENSION_REQUESTED: ("handling", "处置中"),
    State.HANG_REQUESTED: ("handling", "处置中"),
    State.VOID_REQUESTED: ("handling", "处置中"),
    State.HUNG: ("suspended", "暂时无法处置，已挂账"),
    State.HANDLED: ("checking", "已处置，等待核查"),
    State.CHECKING: ("checking", "已处置，正在核查"),
    State.CHECKED: ("checking", "核查通过，即将结案"),
    State.CLOSED: ("closed", "已办结"),
    State.REJECTED: ("not_accepted", "不予立案"),
    State.VOIDED: ("voided", "已作废"),
    State.MERGED: ("merged", "已与同一问题的其他反映合并处理"),
    State.REFERRED: ("referred", "不属本平台受理范围，已转交"),
}
#: Timeline text of each action the public sees; the others (requests waiting for approval,
#: denials, 督办, absorbing a duplicate) are internal and left out.
TIMELINE: Mapping[Action, str] = {
    Action.SUBMIT: "已收到您的反映",
    Action.ASSIGN_VERIFY: "已安排监督员现场核实",
    Action.VERIFY: "现场核实：问题属实",
    Action.VERIFY_FALSE: "现场核实：未发现所反映的问题",
    Action.REGISTER: "已立案",
    Action.REJECT: "不予立案",
    Action.DISPATCH: "已派遣处置部门",
    Action.ACCEPT: "处置部门已接收",
    Action.REPORT_BACK: "处置部门已反馈处置结果",
    Action.ASSIGN_CHECK: "已安排监督员现场核查",
    Action.CHECK_PASS: "现场核查通过",
    Action.CHECK_FAIL: "现场核查未通过，重新处置",
    Action.CLOSE: "已结案",
    Action.APPROVE_RETURN: "重新派遣处置部门",
    Action.APPROVE_EXTENSION: "处置期限已延长",
    Action.APPROVE_HANG: "暂时无法处置，已挂账",
    Action.RESUME: "恢复处置",
    Action.APPROVE_VOID: "已作废",
    Action.ESCALATE: "已上报上级部门",
    Action.ACCEPT_ESCALATION: "上级部门已受理",
    Action.DECLINE_ESCALATION: "由本级继续处理",
    Action.SELF_HANDLE: "监督员已现场处置",
    Action.MERGE: "已与同一问题的其他反映合并处理",
    Action.RATE: "已评价",
    Action.RECORD_RATING: "已回访评价",
    Action.RESOLVE_ON_SPOT: "已当场办结",
    Action.PROMISE: "已受理，承诺办结时间",
    Action.REQUEST_DOCUMENTS: "请补充材料",
    Action.DOCUMENTS_RECEIVED: "材料已收齐",
    Action.REQUEST_APPROVAL: "已报上级审批",
    Action.GRANT_APPROVAL: "上级已批准",
    Action.REFUSE_APPROVAL: "上级未批准",
    Action.REFER: "已转交",
}
#: Payload fields written for the reporter (shown as the entry's ``detail``).
_DETAIL: Mapping[Action, str] = {
    Action.REQUEST_DOCUMENTS: "notice",
    Action.REFER: "referred_to",
    Action.PROMISE: "due_at",
    Action.RATE: "score",
    Action.RECORD_RATING: "score",
}
#: Actions whose ``result`` and ``photos`` are the handling result shown to the reporter.
_RESULT_ACTIONS = (Action.REPORT_BACK, Action.SELF_HANDLE, Action.RESOLVE_ON_SPOT)
_RESULT_STATES = frozenset({State.HANDLED, State.CHECKING, State.CHECKED, State.CLOSED})
#: Running steps whose due time the reporter is told, first match wins.
_EXPECTED_STEPS = (Step.PROMISE, Step.REPLY, Step.HANDLE)


class TimelineEntry(BaseModel):
    at: datetime
    action: Action
    text: str
    detail: str | None = None


class PublicResult(BaseModel):
    """处置结果: what was done, with photos (media ids), once the case was handled."""

    text: str
    photos: list[str]
    at: datetime


class PublicRating(BaseModel):
    score: int
    comment: str | None
    at: datetime


class MergedInto(BaseModel):
    """The case a duplicate was merged into: its stage and result (专项反馈)."""

    stage: str
    stage_text: str
    result: PublicResult | None
    closed_at: datetime | None


class PublicCaseRead(BaseModel):
    """The public view of a case: no staff names, no internal notes, no reporter contact."""

    case_no: str
    stage: str
    stage_text: str
    subclass_code: str
    subclass_name: str | None
    description: str
    photos: list[str]
    lon: float
    lat: float
    reported_at: datetime | None
    closed_at: datetime | None
    expected_at: datetime | None  # the promised date or the handling deadline while it runs
    overdue: bool
    handled_by: str | None  # the department's name once dispatched
    timeline: list[TimelineEntry]
    result: PublicResult | None
    can_rate: bool
    rating: PublicRating | None
    merged_into: MergedInto | None


def _events(session: Session, case: Case) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    return list(session.scalars(stmt))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _result(case: Case, events: list[CaseEvent]) -> PublicResult | None:
    if case.state not in _RESULT_STATES:
        return None
    for e in reversed(events):
        if e.action in _RESULT_ACTIONS:
            payload = e.payload or {}
            photos = payload.get("photos") or []
            return PublicResult(
                text=str(payload.get("result") or ""),
                photos=[str(p) for p in photos] if isinstance(photos, list) else [],
                at=e.at,
            )
    return None


def rater_id(case: Case) -> int | None:
    """Who rates through the tracking code: the first reporter (a resident's user id, or
    ``ANONYMOUS`` for a report without an account); None when the case has no reporter."""
    reporters = from_snapshot(case.workflow).reporter_ids
    if case.reporter_user_id is not None and case.reporter_user_id in reporters:
        return case.reporter_user_id
    return ANONYMOUS if ANONYMOUS in reporters else None


def _rater_actor(session: Session, case: Case) -> Actor | None:
    rater = rater_id(case)
    if rater is None:
        return None
    if rater == ANONYMOUS:
        return Actor(ANONYMOUS, Role.RESIDENT, True)
    user = session.get(User, rater)
    return None if user is None else Actor(user.id, user.role, True)


def _rating(events: list[CaseEvent], rater: int | None) -> PublicRating | None:
    if rater is None:
        return None
    for e in events:
        recorded = e.action is Action.RECORD_RATING and rater == ANONYMOUS  # 回访 by the desk
        if recorded or (e.action is Action.RATE and (e.actor_user_id or ANONYMOUS) == rater):
            payload = e.payload or {}
            return PublicRating(
                score=int(payload.get("score") or 0), comment=_text(payload.get("comment")), at=e.at
            )
    return None


def _expected(session: Session, case: Case, now: datetime) -> tuple[datetime | None, bool]:
    running = {r.step: r for r in open_deadlines(session, [case.id]) if r.due_at is not None}
    for step in _EXPECTED_STEPS:
        row = running.get(step)
        if row is not None and row.due_at is not None:
            return row.due_at, now > row.due_at
    return None, False


def _subclass_name(session: Session, case: Case) -> str | None:
    stmt = select(Subclass.name).where(
        Subclass.code == case.subclass_code, Subclass.kind == Kind(case.subclass_kind)
    )
    return session.scalar(stmt)


def _merged_into(session: Session, case: Case) -> MergedInto | None:
    if case.state is not State.MERGED:
        return None
    master_id = from_snapshot(case.workflow).merged_into
    master = session.get(Case, master_id) if master_id else None
    if master is None:
        return None
    stage, text = STAGES[master.state]
    return MergedInto(
        stage=stage,
        stage_text=text,
        result=_result(master, _events(session, master)),
        closed_at=master.closed_at,
    )


def public_view(session: Session, case: Case, now: datetime) -> PublicCaseRead:
    """What the holder of the tracking code sees."""
    events = _events(session, case)
    timeline = [
        TimelineEntry(
            at=e.at,
            action=e.action,
            text=TIMELINE[e.action],
            detail=_text((e.payload or {}).get(_DETAIL[e.action])) if e.action in _DETAIL else None,
        )
        for e in events
        if e.action in TIMELINE
    ]
    stage, stage_text = STAGES[case.state]
    expected, overdue = _expected(session, case, now)
    actor = _rater_actor(session, case)
    can_rate = actor is not None and Action.RATE in allowed_actions(
        from_snapshot(case.workflow), actor
    )
    handled_by = None
    if case.department_code:
        handled_by = session.scalar(
            select(Department.name).where(Department.code == case.department_code)
        )
    return PublicCaseRead(
        case_no=case.case_no,
        stage=stage,
        stage_text=stage_text,
        subclass_code=case.subclass_code,
        subclass_name=_subclass_name(session, case),
        description=case.description,
        photos=list(case.photos or []),
        lon=case.lon,
        lat=case.lat,
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        expected_at=expected,
        overdue=overdue,
        handled_by=handled_by,
        timeline=timeline,
        result=_result(case, events),
        can_rate=can_rate,
        rating=_rating(events, rater_id(case)),
        merged_into=_merged_into(session, case),
    )


# ---- rating ---------------------------------------------------------------------------------


def rate(session: Session, case: Case, score: int, comment: str | None, now: datetime) -> Case:
    """评价 by the reporter the tracking code stands for, through the workflow's ``rate`` row
    (closed cases only, once per reporter: 409 otherwise). One path for both kinds of reporter:
    ``actions.act`` as the resident, or as the anonymous reporter (no user) for a report made
    without an account."""
    payload: dict[str, Any] = {"score": score}
    if comment:
        reject_nul(comment, "comment")
        payload["comment"] = comment
    rater = rater_id(case)
    if rater is None:
        raise Conflict(f"case {case.case_no} has no reporter who can rate it", code="no_reporter")
    user: User | None = None
    if rater != ANONYMOUS:
        user = session.get(User, rater)
        if user is None:
            raise Conflict(f"the reporter of case {case.case_no} is gone", code="no_reporter")
    return act(session, case.case_no, Action.RATE, user, payload, case.version, now)
