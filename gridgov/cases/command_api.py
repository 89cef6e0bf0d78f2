"""HTTP API of the command centre (指挥中心) and the department desk (专业部门): the lists their
pages need that ``GET /cases`` and the supervision board do not give.

=================================== ===========================================================
``GET /command/counts``             how many cases wait in each command queue
``GET /command/dispatch``           待派遣: registered cases with a suggested department and why
``GET /command/approvals``          待审批: 回退 / 延期 / 挂账 requests and 上报上级, with the
                                    request (reason, asked-for due time, who, when)
``GET /command/overdue``            红灯: open cases with a running step past due, most
                                    overdue first
``GET /command/departments``        部门负荷: open / overdue / pending requests per department
``GET /department/tasks``           my tasks (专业部门): the department's open cases, red first,
                                    then yellow, then by due time
=================================== ===========================================================

Lists are sorted and paged in SQL and answer ``total`` (every matching case) besides the page.
The dispatch board also pages by key: ``after=<case_no>`` continues after that case, and
``next_after`` names the last case of a page when more follow (a case dispatched in the meantime
neither shifts nor repeats the next page).

Registered cases without a suggested department are the coordination queue
(``GET /cases/coordination``), not the dispatch board. Every list goes through the one
jurisdiction helper (:func:`gridgov.accounts.scope.filter_by_scope` on :func:`scope_of`, as
``queries.list_cases`` does); nothing here builds a scope of its own. Lights are the worst light
of a case's running steps, computed with the deployment calendar like everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.scope import filter_by_scope, scope_of
from gridgov.cases import levels
from gridgov.cases.api import case_read
from gridgov.cases.board_api import yellow_ids
from gridgov.cases.deadlines import deadline_light, deployment_calendar, open_deadlines
from gridgov.cases.dispatching import ROUTING_KEY, routing_of
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.schemas import CaseRead
from gridgov.cases.workflow import OPEN, Action, State
from gridgov.departments.models import Department
from gridgov.deps import CurrentUser, SessionDep
from gridgov.errors import ValidationError
from gridgov.taxonomy.models import Subclass

router = APIRouter(tags=["command"])

#: Who may read the command centre's lists (the page itself is for dispatchers and admins).
COMMAND = frozenset({Role.DISPATCHER, Role.ADMIN, Role.LEADER, Role.SHIFT_LEAD})
#: Who may read a department's task list.
DEPARTMENT_DESK = frozenset({Role.DEPARTMENT, Role.ADMIN})

Light = Literal["green", "yellow", "red"]
RequestKind = Literal["return", "extension", "hang", "escalation"]
#: Pending decisions of the dispatcher: kind → (state the case waits in, the request action).
REQUESTS: Mapping[str, tuple[State, Action]] = {
    "return": (State.RETURN_REQUESTED, Action.REQUEST_RETURN),
    "extension": (State.EXTENSION_REQUESTED, Action.REQUEST_EXTENSION),
    "hang": (State.HANG_REQUESTED, Action.REQUEST_HANG),
    "escalation": (State.ESCALATED, Action.ESCALATE),
}
_KIND_OF_STATE = {state: kind for kind, (state, _) in REQUESTS.items()}
#: A department's own work (待办) and what waits on someone else (等待审批/核查).
TODO_STATES = (State.DISPATCHED, State.HANDLING, State.REWORK)
WAITING_STATES = tuple(s for s in OPEN if s not in TODO_STATES)
_RANK = {"red": 3, "yellow": 2, "green": 1}
MAX_LIMIT = 500


# ---- bodies ----------------------------------------------------------------------------------


class CommandItem(CaseRead):
    """A case as the command centre lists it: the case, its subclass name, its worst light, the
    earliest due time of its running steps (and which step) and how long it is overdue."""

    subclass_name: str | None
    light: Light | None
    due_at: datetime | None
    due_step: str | None
    overdue_seconds: int
    department_name: str | None


class Suggestion(BaseModel):
    """The stored routing suggestion (派遣建议) of a registered case."""

    department_code: str
    department_name: str | None
    reason: str


class DispatchItem(CommandItem):
    suggestion: Suggestion
    waiting_seconds: int  # since registration (立案)


class DispatchList(BaseModel):
    items: list[DispatchItem]
    count: int  # items on this page
    total: int  # every case waiting for dispatch
    next_after: str | None  # pass as ``after`` for the next page; None: this is the last page


class RequestRead(BaseModel):
    """The request a case waits on: who asked, when, why, and (延期) the due time asked for."""

    action: Action
    at: datetime
    actor_user_id: int | None
    actor_name: str | None
    role: Role
    reason: str
    due_at: datetime | None
    paused_from: State | None


class ApprovalItem(CommandItem):
    kind: RequestKind
    request: RequestRead | None
    waiting_seconds: int  # since the request


class ApprovalList(BaseModel):
    items: list[ApprovalItem]
    count: int
    counts: dict[str, int]  # per kind, under the user's jurisdiction


class OverdueList(BaseModel):
    items: list[CommandItem]
    count: int
    total: int


class DepartmentLoad(BaseModel):
    code: str
    name: str | None
    open: int
    overdue: int
    requests: int  # 回退 / 延期 / 挂账 / 上报上级 waiting for the dispatcher


class DepartmentLoadList(BaseModel):
    items: list[DepartmentLoad]
    unassigned_open: int  # open cases with no department yet (before 派遣)


class CommandCounts(BaseModel):
    dispatch: int  # registered, with a suggested department
    coordination: int  # registered, no suggestion (协调队列)
    overdue: int  # open, a running step past due (红灯)
    approvals: dict[str, int]


class TaskItem(CommandItem):
    group: Literal["todo", "waiting"]


class TaskList(BaseModel):
    items: list[TaskItem]
    count: int
    total: int
    counts: dict[str, int]  # todo / waiting / overdue


# ---- helpers ---------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _scoped(session: Session, user: User, stmt: Any) -> Any:
    """``stmt`` restricted to the user's jurisdiction by the one helper (grid or department),
    less the cases an escalation (上报上级) moved to another level's command centre."""
    scoped = filter_by_scope(stmt, scope_of(session, user), Case.grid_code, Case.department_code)
    return levels.filter_by_level(session, user, scoped)


def _overdue(now: datetime) -> Any:
    """EXISTS a running step of the case past its due time (红灯)."""
    return exists().where(
        CaseStepDeadline.case_id == Case.id,
        CaseStepDeadline.stopped_at.is_(None),
        CaseStepDeadline.due_at < now,
    )


def _seconds(later: datetime, earlier: datetime | None) -> int:
    return max(int((later - earlier).total_seconds()), 0) if earlier else 0


class _Decorator:
    """Adds subclass names, department names, lights and due times to a page of cases (a
    handful of queries per page, never one per case)."""

    def __init__(self, session: Session, cases: Sequence[Case], now: datetime) -> None:
        self.now = now
        self.running: dict[int, list[CaseStepDeadline]] = {c.id: [] for c in cases}
        for row in open_deadlines(session, self.running):
            self.running[row.case_id].append(row)
        codes = {c.subclass_code for c in cases}
        self.subclasses = (
            {
                (str(kind.value), code): name
                for kind, code, name in session.execute(
                    select(Subclass.kind, Subclass.code, Subclass.name).where(
                        Subclass.code.in_(sorted(codes))
                    )
                )
            }
            if codes
            else {}
        )
        self.departments = department_names(session, (c.department_code for c in cases))
        self.calendar = deployment_calendar(session) if self.running else None

    def fields(self, case: Case) -> dict[str, Any]:
        rows = self.running.get(case.id, [])
        lights = {r.step.value: deadline_light(r, self.now, self.calendar) for r in rows}
        worst = max(lights.values(), key=lambda x: _RANK.get(x or "", 0), default=None)
        timed = sorted((r for r in rows if r.due_at is not None), key=lambda r: r.due_at)
        first = timed[0] if timed else None
        return {
            **case_read(case, lights).model_dump(),
            "subclass_name": self.subclasses.get((case.subclass_kind, case.subclass_code)),
            "light": worst,
            "due_at": first.due_at if first else None,
            "due_step": first.step.value if first else None,
            "overdue_seconds": _seconds(self.now, first.due_at)
            if first and first.due_at and first.due_at < self.now
            else 0,
            "department_name": self.departments.get(case.department_code or ""),
        }


def department_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.execute(
        select(Department.code, Department.name).where(Department.code.in_(wanted))
    )
    return {code: name for code, name in rows}


def _has_suggestion() -> Any:
    """The case's stored routing names a department (``workflow.routing.department_code``)."""
    code = Case.workflow[(ROUTING_KEY, "department_code")].as_string()
    return func.coalesce(code, "") != ""


def _registered_count(session: Session, user: User, *where: Any) -> int:
    stmt = _scoped(
        session,
        user,
        select(func.count()).select_from(Case).where(Case.state == State.REGISTERED, *where),
    )
    return int(session.scalar(stmt) or 0)


def _since_registered() -> Any:
    """The dispatch board's order key (a registered case always has ``registered_at``)."""
    return func.coalesce(Case.registered_at, Case.created_at)


def _after(session: Session, case_no: str) -> Any:
    """Keyset condition: cases after ``case_no`` in the dispatch board's order."""
    row = session.execute(
        select(_since_registered(), Case.id).where(Case.case_no == case_no)
    ).first()
    if row is None:
        raise ValidationError(
            f"after: no case {case_no}", code="invalid", field="after", case_no=case_no
        )
    since, case_id = row
    key = _since_registered()
    return or_(key > since, and_(key == since, Case.id > case_id))


def _request_counts(session: Session, user: User) -> dict[str, int]:
    states = [state for state, _ in REQUESTS.values()]
    stmt = _scoped(
        session,
        user,
        select(Case.state, func.count()).where(Case.state.in_(states)).group_by(Case.state),
    )
    found = {State(state): int(n) for state, n in session.execute(stmt)}
    return {kind: found.get(state, 0) for kind, (state, _) in REQUESTS.items()}


def _latest_requests(session: Session, cases: Sequence[Case]) -> dict[int, CaseEvent]:
    """The event that put each case into its waiting state (the newest such event)."""
    if not cases:
        return {}
    stmt = (
        select(CaseEvent)
        .where(CaseEvent.case_id.in_([c.id for c in cases]))
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    state_of = {c.id: c.state for c in cases}
    out: dict[int, CaseEvent] = {}
    for row in session.scalars(stmt):
        if row.to_state is state_of[row.case_id] and row.from_state is not row.to_state:
            out[row.case_id] = row
    return out


def _user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {
        uid: name
        for uid, name in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    }


def _request_read(
    row: CaseEvent | None, names: Mapping[int, str], case: Case
) -> RequestRead | None:
    if row is None:
        return None
    payload = dict(row.payload or {})
    due = payload.get("due_at")
    try:
        due_at = datetime.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        due_at = None
    paused = (case.workflow or {}).get("paused_from")
    return RequestRead(
        action=row.action,
        at=row.at,
        actor_user_id=row.actor_user_id,
        actor_name=names.get(row.actor_user_id or 0),
        role=row.role,
        reason=str(payload.get("reason") or row.note or ""),
        due_at=due_at,
        paused_from=State(paused) if paused else None,
    )


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
OffsetQuery = Annotated[int, Query(ge=0)]


# ---- endpoints -------------------------------------------------------------------------------


@router.get("/command/counts", response_model=CommandCounts)
def command_counts(session: SessionDep, user: CurrentUser) -> CommandCounts:
    """How many cases of the user's jurisdiction wait for dispatch (with a suggestion), in the
    coordination queue (no suggestion), are overdue (红灯) and wait for each kind of approval."""
    authorize(user, COMMAND, action="see the command centre")
    now = _now()
    red = _scoped(
        session,
        user,
        select(func.count()).select_from(Case).where(Case.state.in_(OPEN), _overdue(now)),
    )
    return CommandCounts(
        dispatch=_registered_count(session, user, _has_suggestion()),
        coordination=_registered_count(session, user, ~_has_suggestion()),
        overdue=int(session.scalar(red) or 0),
        approvals=_request_counts(session, user),
    )


@router.get("/command/dispatch", response_model=DispatchList)
def dispatch_board(
    session: SessionDep,
    user: CurrentUser,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
    after: Annotated[
        str | None,
        Query(max_length=20, pattern=r"^\d+$", description="continue after this case number"),
    ] = None,
) -> DispatchList:
    """待派遣: registered cases of the user's jurisdiction with a suggested department, oldest
    registration first, each with the suggestion, its reason and how long it has waited. Cases
    routing found no department for are in the coordination queue instead. Paged by ``offset``
    or, steadier while others dispatch, by key: ``after`` = the ``next_after`` of the page
    before."""
    authorize(user, COMMAND, action="see the dispatch board")
    now = _now()
    stmt = _scoped(
        session, user, select(Case).where(Case.state == State.REGISTERED, _has_suggestion())
    )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    if after:
        stmt = stmt.where(_after(session, after))
    stmt = stmt.order_by(_since_registered(), Case.id).offset(offset).limit(limit + 1)
    page = list(session.scalars(stmt))
    more = len(page) > limit
    page = page[:limit]
    deco = _Decorator(session, page, now)
    names = department_names(session, ((routing_of(c) or {}).get("department_code") for c in page))
    items = []
    for case in page:
        routing = routing_of(case) or {}
        code = str(routing.get("department_code"))
        items.append(
            DispatchItem(
                **deco.fields(case),
                suggestion=Suggestion(
                    department_code=code,
                    department_name=names.get(code),
                    reason=str(routing.get("reason") or ""),
                ),
                waiting_seconds=_seconds(now, case.registered_at or case.created_at),
            )
        )
    return DispatchList(
        items=items,
        count=len(items),
        total=total,
        next_after=page[-1].case_no if more and page else None,
    )


@router.get("/command/approvals", response_model=ApprovalList)
def approvals(
    session: SessionDep,
    user: CurrentUser,
    kind: RequestKind | None = None,
    limit: LimitQuery = 100,
) -> ApprovalList:
    """待审批: cases waiting for the dispatcher's decision on a 回退 (return), 延期 (extension),
    挂账 (hang) request or an 上报上级 (escalation), oldest request first, each with the
    request: who asked, when, the reason and, for an extension, the due time asked for."""
    authorize(user, COMMAND, action="see the approval queues")
    now = _now()
    kinds = [kind] if kind else list(REQUESTS)
    states = [REQUESTS[k][0] for k in kinds]
    stmt = _scoped(session, user, select(Case).where(Case.state.in_(states)))
    cases = list(session.scalars(stmt.order_by(Case.id)))
    requests = _latest_requests(session, cases)
    far = datetime.max.replace(tzinfo=UTC)
    cases.sort(key=lambda c: (requests[c.id].at if c.id in requests else far, c.id))
    cases = cases[:limit]
    names = _user_names(session, (r.actor_user_id for r in requests.values()))
    deco = _Decorator(session, cases, now)
    items = []
    for case in cases:
        row = requests.get(case.id)
        items.append(
            ApprovalItem(
                **deco.fields(case),
                kind=_KIND_OF_STATE[case.state],  # type: ignore[arg-type]
                request=_request_read(row, names, case),
                waiting_seconds=_seconds(now, row.at if row else None),
            )
        )
    return ApprovalList(items=items, count=len(items), counts=_request_counts(session, user))


@router.get("/command/overdue", response_model=OverdueList)
def overdue_board(
    session: SessionDep, user: CurrentUser, limit: LimitQuery = 100, offset: OffsetQuery = 0
) -> OverdueList:
    """红灯: open cases of the user's jurisdiction with a running step past its due time, the
    longest overdue first (earliest due time), each with that step and how long it is over."""
    authorize(user, COMMAND, action="see the overdue board")
    now = _now()
    due = (
        select(CaseStepDeadline.case_id, func.min(CaseStepDeadline.due_at).label("due"))
        .where(CaseStepDeadline.stopped_at.is_(None), CaseStepDeadline.due_at < now)
        .group_by(CaseStepDeadline.case_id)
        .subquery()
    )
    base = _scoped(
        session,
        user,
        select(Case.id, due.c.due).join(due, due.c.case_id == Case.id).where(Case.state.in_(OPEN)),
    )
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    ids = [
        row[0]
        for row in session.execute(base.order_by(due.c.due, Case.id).limit(limit).offset(offset))
    ]
    by_id = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))} if ids else {}
    cases = [by_id[i] for i in ids]
    deco = _Decorator(session, cases, now)
    items = [CommandItem(**deco.fields(c)) for c in cases]
    return OverdueList(items=items, count=len(items), total=total)


@router.get("/command/departments", response_model=DepartmentLoadList)
def department_load(session: SessionDep, user: CurrentUser) -> DepartmentLoadList:
    """部门负荷: per department with open cases in the user's jurisdiction, how many are open,
    overdue (红灯) and waiting for the dispatcher's decision; most overdue first."""
    authorize(user, COMMAND, action="see the department load")
    now = _now()
    pending = [state for state, _ in REQUESTS.values()]

    def per_department(*where: Any) -> dict[str | None, int]:
        stmt = _scoped(
            session,
            user,
            select(Case.department_code, func.count())
            .where(Case.state.in_(OPEN), *where)
            .group_by(Case.department_code),
        )
        return {code: int(n) for code, n in session.execute(stmt)}

    opened = per_department()
    late = per_department(_overdue(now))
    asked = per_department(Case.state.in_(pending))
    names = department_names(session, opened)
    items = [
        DepartmentLoad(
            code=code,
            name=names.get(code),
            open=n,
            overdue=late.get(code, 0),
            requests=asked.get(code, 0),
        )
        for code, n in opened.items()
        if code
    ]
    items.sort(key=lambda d: (-d.overdue, -d.open, d.code))
    return DepartmentLoadList(items=items, unassigned_open=opened.get(None, 0))


@router.get("/department/tasks", response_model=TaskList)
def department_tasks(
    session: SessionDep,
    user: CurrentUser,
    group: Literal["todo", "waiting"] | None = None,
    limit: LimitQuery = 200,
    offset: OffsetQuery = 0,
) -> TaskList:
    """My tasks (专业部门): open cases dispatched to the user's department(s), red (overdue)
    first, then yellow, then by due time (none last); without ``group`` the 待办 before the
    waiting ones. ``todo``: 待签收 / 处置中 / 返工; ``waiting``: requests waiting for approval,
    hung, escalated, or reported back and waiting for the check. Sorted and paged in SQL
    (``limit`` / ``offset``; ``total`` counts the whole group)."""
    authorize(user, DEPARTMENT_DESK, action="see department tasks")
    now = _now()
    mine = _scoped(
        session,
        user,
        select(Case.id).where(Case.state.in_(OPEN), Case.department_code.is_not(None)),
    )
    todo = Case.state.in_(TODO_STATES)
    tally = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(when((todo, 1), else_=0)), 0),
            func.coalesce(func.sum(when((_overdue(now), 1), else_=0)), 0),
        ).where(Case.id.in_(mine))
    ).one()
    everything, todo_n, late_n = (int(x or 0) for x in tally)
    counts = {"todo": todo_n, "waiting": everything - todo_n, "overdue": late_n}
    chosen = mine.where(todo if group == "todo" else ~todo) if group else mine
    total = counts[group] if group else everything
    # The earliest due time of the running steps: red iff it has passed (a running step past
    # due); yellow needs the working calendar, so the few yellow ids are computed first.
    due = (
        select(CaseStepDeadline.case_id, func.min(CaseStepDeadline.due_at).label("due"))
        .where(CaseStepDeadline.stopped_at.is_(None), CaseStepDeadline.due_at.is_not(None))
        .group_by(CaseStepDeadline.case_id)
        .subquery()
    )
    yellow = yellow_ids(session, chosen, now)
    light_rank = when((due.c.due < now, 0), (Case.id.in_(yellow), 1), else_=2)
    order = [light_rank, due.c.due.is_(None), due.c.due, Case.id]
    if not group:
        order.insert(0, when((todo, 0), else_=1))
    ids = list(
        session.scalars(
            chosen.outerjoin(due, due.c.case_id == Case.id)
            .order_by(*order)
            .limit(limit)
            .offset(offset)
        )
    )
    by_id = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))} if ids else {}
    cases = [by_id[i] for i in ids]
    deco = _Decorator(session, cases, now)
    items = [
        TaskItem(**deco.fields(c), group="todo" if c.state in TODO_STATES else "waiting")
        for c in cases
    ]
    return TaskList(items=items, count=len(items), total=total, counts=counts)
