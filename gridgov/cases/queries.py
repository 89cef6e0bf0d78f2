"""Reading cases: one case with its history, the scoped list with deadline lights, replay, and
the coordination queue (协调队列) of registered cases no department was found for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import ANY_STAFF, authorize
from gridgov.accounts.scope import filter_by_scope, scope_of
from gridgov.cases.actions import actor_for, event_of, from_snapshot, load_case
from gridgov.cases.deadlines import deadline_light, open_deadlines
from gridgov.cases.dispatching import routing_of
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.workflow import OPEN, Action, CaseState, State, allowed_actions, replay
from gridgov.errors import Forbidden, ValidationError

MAX_LIMIT = 500


def history(session: Session, case_no: str) -> list[CaseEvent]:
    """The case's event rows (流转记录), oldest first."""
    case = load_case(session, case_no)
    return _events(session, case.id)


def _events(session: Session, case_id: int) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    return list(session.scalars(stmt))


def rebuild(session: Session, case_no: str) -> CaseState:
    """回放: the workflow state rebuilt from the event rows alone."""
    return replay([event_of(r) for r in history(session, case_no)])


def deadlines_of(session: Session, case_id: int) -> list[CaseStepDeadline]:
    """Every step deadline of a case, running or stopped, oldest first."""
    stmt = (
        select(CaseStepDeadline)
        .where(CaseStepDeadline.case_id == case_id)
        .order_by(CaseStepDeadline.id)
    )
    return list(session.scalars(stmt))


def check_can_read(session: Session, user: User, case: Case) -> None:
    """Staff read cases in their jurisdiction (grid or department); residents their own."""
    if user.role is Role.RESIDENT:
        reporters = from_snapshot(case.workflow).reporter_ids
        if user.id != case.reporter_user_id and user.id not in reporters:
            raise Forbidden("residents may only see their own reports", code="outside_jurisdiction")
        return
    authorize(
        user,
        ANY_STAFF,
        scope_of(session, user),
        grid_code=case.grid_code,
        department=case.department_code,
        action="see this case",
    )


@dataclass
class CaseDetail:
    """One case as its reader sees it: the row, the events, the deadlines, what they may do."""

    case: Case
    events: list[CaseEvent]
    deadlines: list[CaseStepDeadline]
    allowed: list[Action] = field(default_factory=list)


def get_case(session: Session, user: User, case_no: str) -> CaseDetail:
    """The case with its history and the actions ``user`` may take now; 403/404 otherwise."""
    case = load_case(session, case_no)
    check_can_read(session, user, case)
    allowed = allowed_actions(from_snapshot(case.workflow), actor_for(session, user, case))
    # 合并 starts from the duplicate (POST …/merge); the master's absorb is never done alone.
    allowed = [a for a in allowed if a is not Action.ABSORB]
    return CaseDetail(
        case, _events(session, case.id), deadlines_of(session, case.id), list(allowed)
    )


@dataclass
class CaseListing:
    """A page of cases and the running step deadlines of each (lights computed by the API)."""

    cases: list[Case]
    running: dict[int, list[CaseStepDeadline]]
    total_shown: int


def list_cases(
    session: Session,
    user: User,
    *,
    state: State | str | None = None,
    open_only: bool = False,
    grid_code: str | None = None,
    subclass_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CaseListing:
    """Cases ``user`` may see, newest first: staff through ``filter_by_scope`` (grid or
    department), residents their own reports."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be 1–{MAX_LIMIT}", field="limit")
    if offset < 0:
        raise ValidationError("offset must be ≥ 0", field="offset")
    stmt = select(Case)
    if user.role is Role.RESIDENT:
        stmt = stmt.where(Case.reporter_user_id == user.id)
    else:
        stmt = filter_by_scope(stmt, scope_of(session, user), Case.grid_code, Case.department_code)
    if state is not None:
        try:
            stmt = stmt.where(Case.state == State(state))
        except ValueError:
            raise ValidationError(f"unknown state {state!r}", field="state") from None
    if open_only:
        stmt = stmt.where(Case.state.in_(OPEN))
    if grid_code:
        stmt = stmt.where(Case.grid_code == grid_code)
    if subclass_code:
        stmt = stmt.where(Case.subclass_code == subclass_code)
    stmt = stmt.order_by(Case.id.desc()).limit(limit).offset(offset)
    cases = list(session.scalars(stmt))
    running: dict[int, list[CaseStepDeadline]] = {c.id: [] for c in cases}
    for row in open_deadlines(session, running):
        running[row.case_id].append(row)
    return CaseListing(cases, running, len(cases))


def lights_now(rows: list[CaseStepDeadline], now: datetime) -> dict[str, str | None]:
    """step → light for the running deadlines of one case."""
    return {r.step.value: deadline_light(r, now) for r in rows}


#: Who may see the coordination queue: the desk that registers and dispatches, and leaders.
COORDINATORS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.LEADER, Role.ADMIN})


@dataclass
class QueuedCase:
    """A registered case waiting for a person to choose its department, and how long it has."""

    case: Case
    reason: str
    age: timedelta


def coordination_queue(session: Session, user: User, now: datetime) -> list[QueuedCase]:
    """协调队列: registered cases in ``user``'s jurisdiction with no department and no suggested
    department (routing found none, or every candidate returned it), oldest first, each with its
    age (``now`` − ``registered_at``). Such a case stays here until someone dispatches it."""
    authorize(user, COORDINATORS, action="see the coordination queue")
    stmt = select(Case).where(Case.state == State.REGISTERED, Case.department_code.is_(None))
    stmt = filter_by_scope(stmt, scope_of(session, user), Case.grid_code)
    stmt = stmt.order_by(Case.registered_at, Case.id)
    out = []
    for case in session.scalars(stmt):
        routing = routing_of(case)
        if routing is not None and routing.get("department_code"):
            continue
        since = case.registered_at or case.created_at
        reason = (routing or {}).get("reason") or "未路由"
        out.append(QueuedCase(case, str(reason), now - since))
    return out
