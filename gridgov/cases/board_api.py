"""HTTP API of the supervision board (监督中心): work queues with counts and a filtered case list.

``GET /cases`` filters by one state; the desk needs more: several states, the channel, a region
prefix, the deadline light (黄灯/红灯) and a count per queue. These endpoints add exactly that and
nothing else. Every query goes through the one jurisdiction helper
(:func:`gridgov.accounts.scope.filter_by_scope` on :func:`scope_of`, as ``service.list_cases``
does) and every single-case read through ``service.check_can_read``; none builds its own scope.

Queues (a case can be in more than one, e.g. a supervisor's report is 待受理 and 待立案):

========== ============================================================================
queue       cases
========== ============================================================================
reported    待受理: state ``reported``
verifying   核实中: state ``verifying``
to_register 待立案: ``verified``, or ``reported`` from a channel that needs no 核实
to_check    待核查/核查中: ``handled`` or ``checking``
to_close    待结案: ``checked``
open        全部在办: every open state (``workflow.OPEN``)
========== ============================================================================

``assigned_to_me=true`` lists the caller's own site tasks: cases in 核实中 (``verifying``) whose
verifier is the caller, and cases in 核查中 (``checking``) whose checker is the caller (the
``verifier_id`` / ``checker_id`` of the case's workflow snapshot, set by ``assign_verify`` /
``assign_check``); a supervisor's phone lists its tasks with one request.

Lights: a case's light is the worst light of its running steps (red 红灯 > yellow 黄灯 > green).
Red is decided in SQL (a running step past its due time); yellow needs the working calendar and
is computed for the open cases that are not red.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.accounts.permissions import ANY_STAFF, authorize
from gridgov.accounts.scope import filter_by_scope, scope_of
from gridgov.cases import service
from gridgov.cases.api import case_read
from gridgov.cases.deadlines import deadline_light, deployment_calendar, open_deadlines
from gridgov.cases.model import Policy
from gridgov.cases.models import Case, CaseStepDeadline
from gridgov.cases.schemas import CaseRead
from gridgov.cases.workflow import OPEN, Channel, State
from gridgov.deps import CurrentUser, SessionDep
from gridgov.regions.models import GridSet, GridSetKind, GridSetMember
from gridgov.taxonomy.models import Subclass

router = APIRouter(tags=["cases"])

Light = Literal["green", "yellow", "red"]
QueueName = Literal["reported", "verifying", "to_register", "to_check", "to_close", "open"]
_NEEDS_VERIFY = tuple(Policy().verify_channels)
_RANK = {None: 0, "green": 1, "yellow": 2, "red": 3}


def _queue_condition(name: str) -> ColumnElement[bool]:
    conditions: Mapping[str, Callable[[], ColumnElement[bool]]] = {
        "reported": lambda: Case.state == State.REPORTED,
        "verifying": lambda: Case.state == State.VERIFYING,
        "to_register": lambda: or_(
            Case.state == State.VERIFIED,
            and_(Case.state == State.REPORTED, Case.channel.not_in(_NEEDS_VERIFY)),
        ),
        "to_check": lambda: Case.state.in_((State.HANDLED, State.CHECKING)),
        "to_close": lambda: Case.state == State.CHECKED,
        "open": lambda: Case.state.in_(OPEN),
    }
    return conditions[name]()


QUEUES: tuple[str, ...] = ("reported", "verifying", "to_register", "to_check", "to_close", "open")


class BoardItem(CaseRead):
    """A case as the board lists it: the case, its subclass name and its worst light."""

    subclass_name: str | None
    light: Light | None


class BoardList(BaseModel):
    items: list[BoardItem]
    count: int  # items on this page
    total: int  # items matching the filters
    limit: int
    offset: int


class BoardCounts(BaseModel):
    """Cases per queue, and open cases per light, under the channel/subclass/region filters."""

    queues: dict[str, int]
    lights: dict[str, int]


class Candidate(BaseModel):
    """A supervisor who may be sent to verify (核实) or check (核查) a case."""

    id: int
    username: str
    name: str
    responsible: bool  # assignee of the responsibility grid (责任网格) holding the case's grid
    discoverer: bool  # reported the problem (may not check it)


class CaseRef(BaseModel):
    """What a merge (合并) form needs of the other case: its id and reporters."""

    id: int
    case_no: str
    state: State
    version: int
    reporter_ids: list[int]


def _assigned_to(user_id: int) -> ColumnElement[bool]:
    """The case's current 核实 or 核查 task is assigned to ``user_id``: the assignee in the
    workflow snapshot (``case.workflow``, rewritten by every action), in the state where that
    task is the one running."""
    return or_(
        and_(
            Case.state == State.VERIFYING,
            Case.workflow["verifier_id"].as_integer() == user_id,
        ),
        and_(
            Case.state == State.CHECKING,
            Case.workflow["checker_id"].as_integer() == user_id,
        ),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _staff(user: User) -> None:
    authorize(user, ANY_STAFF, action="see the supervision board")


def _filtered(
    session: Session,
    user: User,
    *,
    channel: Channel | None,
    subclass: str | None,
    subclass_kind: str | None,
    region: str | None,
) -> Any:
    """``select(Case.id)`` in the user's jurisdiction with the common filters."""
    stmt = filter_by_scope(
        select(Case.id), scope_of(session, user), Case.grid_code, Case.department_code
    )
    if channel is not None:
        stmt = stmt.where(Case.channel == channel)
    if subclass:
        stmt = stmt.where(Case.subclass_code == subclass)
    if subclass_kind:
        stmt = stmt.where(Case.subclass_kind == subclass_kind)
    if region:
        stmt = stmt.where(Case.grid_code.startswith(region, autoescape=True))
    return stmt


def _running(now: datetime, *, overdue: bool) -> Any:
    """EXISTS a running step of the case past (``overdue``) or not yet past its due time."""
    due = CaseStepDeadline.due_at < now if overdue else CaseStepDeadline.due_at >= now
    return exists().where(
        CaseStepDeadline.case_id == Case.id, CaseStepDeadline.stopped_at.is_(None), due
    )


def _worst(lights: Iterable[str | None]) -> str | None:
    return max(lights, key=lambda x: _RANK.get(x, 0), default=None)


def yellow_ids(session: Session, candidates: Any, now: datetime) -> list[int]:
    """Ids among ``candidates`` (a ``select(Case.id)``) with a yellow and no red step."""
    stmt = candidates.where(Case.state.in_(OPEN), ~_running(now, overdue=True))
    stmt = stmt.where(_running(now, overdue=False))
    ids = list(session.scalars(stmt))
    if not ids:
        return []
    calendar = deployment_calendar(session)
    yellow: set[int] = set()
    for row in open_deadlines(session, ids):
        if row.case_id not in yellow and deadline_light(row, now, calendar) == "yellow":
            yellow.add(row.case_id)
    return sorted(yellow)


def _with_light(session: Session, stmt: Any, light: Light | None, now: datetime) -> Any:
    if light == "red":
        return stmt.where(Case.state.in_(OPEN), _running(now, overdue=True))
    if light == "yellow":
        return stmt.where(Case.id.in_(yellow_ids(session, stmt, now)))
    if light == "green":
        yellow = yellow_ids(session, stmt, now)
        return stmt.where(
            Case.state.in_(OPEN), ~_running(now, overdue=True), Case.id.not_in(yellow)
        )
    return stmt


def _subclass_names(session: Session, cases: list[Case]) -> dict[tuple[str, str], str]:
    keys = {(c.subclass_kind, c.subclass_code) for c in cases}
    if not keys:
        return {}
    rows = session.execute(
        select(Subclass.kind, Subclass.code, Subclass.name).where(
            Subclass.code.in_({code for _, code in keys})
        )
    ).all()
    return {(str(kind.value), code): name for kind, code, name in rows}


RegionQuery = Annotated[
    str | None,
    Query(max_length=20, pattern=r"^\d+$", description="grid, community or street code (prefix)"),
]
SubclassQuery = Annotated[str | None, Query(max_length=4, pattern=r"^\d{1,4}$")]
KindQuery = Annotated[Literal["component", "event"] | None, Query()]


@router.get("/cases/board/counts", response_model=BoardCounts)
def board_counts(
    session: SessionDep,
    user: CurrentUser,
    channel: Channel | None = None,
    subclass: SubclassQuery = None,
    subclass_kind: KindQuery = None,
    grid_code: RegionQuery = None,
) -> BoardCounts:
    """How many cases of the user's jurisdiction wait in each queue, and how many open cases
    have a yellow (黄灯) or red (红灯) light, under the given filters."""
    _staff(user)
    now = _now()
    base = _filtered(
        session,
        user,
        channel=channel,
        subclass=subclass,
        subclass_kind=subclass_kind,
        region=grid_code,
    )
    ids = base.subquery()
    queues: dict[str, int] = {}
    for name in QUEUES:
        stmt = (
            select(func.count())
            .select_from(Case)
            .where(Case.id.in_(select(ids.c.id)), _queue_condition(name))
        )
        queues[name] = int(session.scalar(stmt) or 0)
    red = (
        select(func.count())
        .select_from(Case)
        .where(Case.id.in_(select(ids.c.id)), Case.state.in_(OPEN), _running(now, overdue=True))
    )
    lights = {
        "yellow": len(yellow_ids(session, base, now)),
        "red": int(session.scalar(red) or 0),
    }
    return BoardCounts(queues=queues, lights=lights)


@router.get("/cases/board/list", response_model=BoardList)
def board_list(
    session: SessionDep,
    user: CurrentUser,
    queue: QueueName | None = None,
    state: Annotated[list[State] | None, Query()] = None,
    channel: Channel | None = None,
    subclass: SubclassQuery = None,
    subclass_kind: KindQuery = None,
    grid_code: RegionQuery = None,
    light: Light | None = None,
    assigned_to_me: Annotated[
        bool, Query(description="only cases whose current 核实/核查 task is the caller's")
    ] = False,
    order: Literal["newest", "oldest"] = "newest",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BoardList:
    """Cases of the user's jurisdiction in a queue and/or states, filtered by channel, subclass,
    region prefix and light, or only the caller's own 核实/核查 tasks (``assigned_to_me``); each
    with its subclass name, its lights and the worst of them."""
    _staff(user)
    now = _now()
    stmt = _filtered(
        session,
        user,
        channel=channel,
        subclass=subclass,
        subclass_kind=subclass_kind,
        region=grid_code,
    )
    if queue is not None:
        stmt = stmt.where(_queue_condition(queue))
    if state:
        stmt = stmt.where(Case.state.in_(state))
    if assigned_to_me:
        stmt = stmt.where(_assigned_to(user.id))
    stmt = _with_light(session, stmt, light, now)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    ordering = Case.id.desc() if order == "newest" else Case.id.asc()
    page_ids = list(session.scalars(stmt.order_by(ordering).limit(limit).offset(offset)))
    cases = list(session.scalars(select(Case).where(Case.id.in_(page_ids)).order_by(ordering)))
    running: dict[int, list[CaseStepDeadline]] = {c.id: [] for c in cases}
    for row in open_deadlines(session, running):
        running[row.case_id].append(row)
    names = _subclass_names(session, cases)
    calendar = deployment_calendar(session)
    items = []
    for case in cases:
        lights = {r.step.value: deadline_light(r, now, calendar) for r in running[case.id]}
        base = case_read(case, lights).model_dump()
        items.append(
            BoardItem(
                **base,
                subclass_name=names.get((case.subclass_kind, case.subclass_code)),
                light=_worst(lights.values()),  # type: ignore[arg-type]
            )
        )
    return BoardList(items=items, count=len(items), total=total, limit=limit, offset=offset)


@router.get("/cases/board/candidates/{case_no}", response_model=list[Candidate])
def board_candidates(case_no: str, session: SessionDep, user: CurrentUser) -> list[Candidate]:
    """Supervisors whose jurisdiction covers the case's grid, the responsible one first: the
    people an acceptor may send to verify (核实) or check (核查) it."""
    authorize(user, {Role.ACCEPTOR, Role.SHIFT_LEAD, Role.ADMIN}, action="assign supervisors")
    case = service.load_case(session, case_no)
    service.check_can_read(session, user, case)
    grid = case.grid_code
    prefixes = {grid[:n] for n in (6, 9, 12) if len(grid) > n}
    rows = session.scalars(
        select(User)
        .join(Jurisdiction, Jurisdiction.user_id == User.id)
        .where(
            User.role == Role.SUPERVISOR,
            User.active.is_(True),
            or_(
                and_(Jurisdiction.scope_kind == ScopeKind.GRID, Jurisdiction.code == grid),
                and_(Jurisdiction.scope_kind == ScopeKind.REGION, Jurisdiction.code.in_(prefixes)),
            ),
        )
        .distinct()
    ).all()
    responsible = set(
        session.scalars(
            select(GridSet.assignee_id)
            .join(GridSetMember, GridSetMember.grid_set_id == GridSet.id)
            .where(GridSetMember.grid_code == grid, GridSet.kind == GridSetKind.RESPONSIBILITY)
        )
    )
    discoverer = service.from_snapshot(case.workflow).discoverer_id
    out = [
        Candidate(
            id=u.id,
            username=u.username,
            name=u.name,
            responsible=u.id in responsible,
            discoverer=u.id == discoverer,
        )
        for u in rows
        if scope_of(session, u).covers_grid(grid)  # the one helper decides, not the prefixes
    ]
    out.sort(key=lambda c: (not c.responsible, c.discoverer, c.username))
    return out


@router.get("/cases/board/ref/{case_no}", response_model=CaseRef)
def board_ref(case_no: str, session: SessionDep, user: CurrentUser) -> CaseRef:
    """The id, state and reporters of a case the user may read (for 合并 forms, whose payload
    names the other case by id)."""
    _staff(user)
    case = service.load_case(session, case_no)
    service.check_can_read(session, user, case)
    reporters = list(service.from_snapshot(case.workflow).reporter_ids)
    return CaseRef(
        id=case.id,
        case_no=case.case_no,
        state=case.state,
        version=case.version,
        reporter_ids=reporters,
    )
