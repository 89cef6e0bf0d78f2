"""HTTP API of cases (案件): report, list, read, act. Thin: parse, call the service, answer.

Domain errors (422 validation, 403 role/jurisdiction, 404, 409 state or stale version) are
mapped by the app's error handlers; nothing here builds its own scope. Reports by anonymous
reporters and residents count against the public report limit (429 with ``Retry-After``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import ANY_STAFF
from gridgov.accounts.service import mask_phone
from gridgov.cases import dispatching, queries, service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.numbering import release_case_counter
from gridgov.cases.public_api import count_public_report
from gridgov.cases.schemas import (
    ActionIn,
    CaseComponentRead,
    CaseCreate,
    CaseDetailRead,
    CaseList,
    CaseRead,
    DeadlineRead,
    DuplicateList,
    DuplicateRead,
    EventRead,
    MergeIn,
)
from gridgov.cases.workflow import State
from gridgov.components.schemas import StateEventRead
from gridgov.config import Settings, get_settings
from gridgov.deps import CurrentUser, OptionalUser, SessionDep
from gridgov.errors import NotFound
from gridgov.media.storage import MediaStorage, storage_for
from gridgov.ratelimit import RateLimitRoute

router = APIRouter(tags=["cases"], route_class=RateLimitRoute)


# Bodies of the routing endpoints (kept here while schemas.py is edited elsewhere).
class RoutingRead(BaseModel):
    """The stored routing suggestion (派遣建议) of a case; ``department_code`` None: 协调队列."""

    case_no: str
    department_code: str | None
    reason: str
    candidates: list[dict[str, Any]]
    excluded: list[str]
    decided_at: str | None


class CoordinationItem(BaseModel):
    """A registered case no department was found for, with its age in the queue."""

    case: CaseRead
    reason: str
    age_seconds: int
    age: str  # e.g. "2天3小时"


class CoordinationList(BaseModel):
    items: list[CoordinationItem]
    count: int


def _now() -> datetime:
    return datetime.now(UTC)


def _app_settings(request: Request) -> Settings | None:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else None


async def _media(request: Request) -> MediaStorage | None:
    """The photo store of the app's settings: photo ids named by a case are checked in it.
    An app built without settings (a bare router in a test) checks none. ``async``: it only
    builds an object, so it needs no worker thread of its own."""
    settings = _app_settings(request)
    return storage_for(settings) if settings is not None else None


MediaDep = Annotated[MediaStorage | None, Depends(_media)]


async def _limit_public_reports(request: Request, user: OptionalUser) -> None:
    """Count a report by an anonymous reporter or a resident on the shared public report
    limiter (the one ``POST /api/public/reports`` counts on: ``public_reports_per_minute`` per
    login session or IP address); staff are not limited. Counted before the body is checked,
    so refused bodies count too. An app built without settings and engine (a bare router in
    a test) counts nothing. Only the count, which writes to the database, takes a worker
    thread: a staff report does not wait for one here."""
    if user is not None and user.role is not Role.RESIDENT:
        return
    settings = _app_settings(request)
    if settings is None or getattr(request.app.state, "engine", None) is None:
        return
    await run_in_threadpool(count_public_report, request, settings)


def case_read(case: Case, lights: Mapping[str, str | None] | None = None) -> CaseRead:
    """The API form of a case row (reporter phone masked)."""
    data = {name: getattr(case, name) for name in CaseRead.model_fields if hasattr(case, name)}
    data["reporter_phone"] = mask_phone(case.reporter_phone)
    data["photos"] = list(case.photos or [])
    data["lights"] = dict(lights or {})
    return CaseRead.model_validate(data)


def _actor_names(session: Session, viewer: User, events: list[CaseEvent]) -> dict[int, str]:
    """Display names of the events' actors, in one query, for staff viewers only (a resident
    reading their own case sees roles, never the names of the staff who handled it)."""
    if viewer.role not in ANY_STAFF:
        return {}
    ids = sorted({e.actor_user_id for e in events if e.actor_user_id})
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {uid: name for uid, name in rows}


def _event_read(row: CaseEvent, names: Mapping[int, str]) -> EventRead:
    return EventRead(
        seq=row.seq,
        action=row.action,
        actor_user_id=row.actor_user_id,
        actor_name=names.get(row.actor_user_id or 0),
        role=row.role,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        note=row.note,
        payload=dict(row.payload or {}),
    )


def _detail(session: Session, user: CurrentUser, case_no: str) -> CaseDetailRead:
    now = _now()
    d = service.get_case(session, user, case_no)
    deadlines = [DeadlineRead.model_validate(service.deadline_dict(r, now)) for r in d.deadlines]
    lights = {x.step: x.light for x in deadlines if x.stopped_at is None}
    base = case_read(d.case, lights).model_dump()
    linked = service.linked_component(session, d.case)
    names = _actor_names(session, user, d.events)
    return CaseDetailRead(
        **base,
        events=[_event_read(e, names) for e in d.events],
        deadlines=deadlines,
        allowed_actions=d.allowed,
        component=CaseComponentRead(**linked.summary()) if linked else None,
        component_history=[StateEventRead.model_validate(r) for r in linked.history]
        if linked
        else [],
        merged_into=_master_no(session, d.case),
    )


def _master_no(session: Session, case: Case) -> str | None:
    """The case number a merged case (合并) was folded into."""
    master_id = service.from_snapshot(case.workflow).merged_into
    master = session.get(Case, master_id) if master_id else None
    return master.case_no if master is not None else None


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseRead,
    dependencies=[Depends(_limit_public_reports)],
)
def create_case(
    body: CaseCreate,
    session: SessionDep,
    user: OptionalUser,
    media: MediaDep,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> CaseRead:
    """上报 a problem. Anonymous residents may report; a repeated ``Idempotency-Key`` returns the
    first case. ``component_id`` links the component the case is about (its point is used when
    ``lon``/``lat`` are absent); every photo id must have been uploaded (422 naming it).

    Like ``POST /api/public/reports``: an anonymous key must be at least 16 random characters
    (422 naming ``idempotency_key``); a key an anonymous reporter or a resident repeats with a
    different subclass, description or point is a 409 (``idempotency_key_reused``); anonymous
    reporters and residents share the public report limit (429 with ``Retry-After``)."""
    case = service.create_case(
        session,
        actor=user,
        channel=body.channel,
        subclass=body.subclass,
        subclass_kind=body.subclass_kind,
        urgency=body.urgency,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        description=body.description,
        photos=body.photos,
        contact=body.contact.model_dump() if body.contact else None,
        item_class=body.item_class,
        idempotency_key=idempotency_key,
        now=_now(),
        component_id=body.component_id,
        media=media,
    )
    release_case_counter(session)
    return case_read(case)


@router.get("/cases", response_model=CaseList)
def list_cases(
    session: SessionDep,
    user: CurrentUser,
    state: State | None = None,
    open_only: bool = False,
    grid_code: Annotated[str | None, Query(max_length=20)] = None,
    subclass: Annotated[str | None, Query(max_length=4)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    """Cases in the user's jurisdiction (residents: their own), newest first, with the light of
    each running step (green / yellow 黄灯 / red 红灯)."""
    listing = service.list_cases(
        session,
        user,
        state=state,
        open_only=open_only,
        grid_code=grid_code,
        subclass_code=subclass,
        limit=limit,
        offset=offset,
    )
    now = _now()
    items = [case_read(c, service.lights_now(listing.running[c.id], now)) for c in listing.cases]
    return CaseList(items=items, count=len(items))


def _age_text(seconds: int) -> str:
    days, rest = divmod(max(seconds, 0), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}天{hours}小时" if days else f"{hours}小时{rest // 60}分"


@router.get("/cases/coordination", response_model=CoordinationList)
def coordination_queue(session: SessionDep, user: CurrentUser) -> CoordinationList:
    """协调队列: registered cases in the user's jurisdiction that routing found no department
    for, oldest first, with their age; they stay here until someone dispatches them."""
    queued = queries.coordination_queue(session, user, _now())
    items = [
        CoordinationItem(
            case=case_read(q.case),
            reason=q.reason,
            age_seconds=int(q.age.total_seconds()),
            age=_age_text(int(q.age.total_seconds())),
        )
        for q in queued
    ]
    return CoordinationList(items=items, count=len(items))


@router.get("/cases/{case_no}/routing", response_model=RoutingRead)
def get_routing(case_no: str, session: SessionDep, user: CurrentUser) -> RoutingRead:
    """The department suggested when the case was registered, why, and every candidate; 404
    before registration. The detail (GET /cases/{case_no}) shows it in the register event."""
    case = service.load_case(session, case_no)
    service.check_can_read(session, user, case)
    routing = dispatching.routing_of(case)
    if routing is None:
        raise NotFound(
            f"case {case_no} has not been registered yet", code="not_routed", case_no=case_no
        )
    return RoutingRead(
        case_no=case.case_no,
        department_code=routing.get("department_code"),
        reason=str(routing.get("reason") or ""),
        candidates=list(routing.get("candidates") or []),
        excluded=list(routing.get("excluded") or []),
        decided_at=routing.get("decided_at"),
    )


@router.get("/cases/{case_no}", response_model=CaseDetailRead)
def get_case(case_no: str, session: SessionDep, user: CurrentUser) -> CaseDetailRead:
    """One case with its events, deadlines and the actions the user may take now."""
    return _detail(session, user, case_no)


@router.post("/cases/{case_no}/actions", response_model=CaseDetailRead)
def act(
    case_no: str, body: ActionIn, session: SessionDep, user: CurrentUser, media: MediaDep
) -> CaseDetailRead:
    """Apply one workflow action; 409 with the current state and version when
    ``expected_version`` is stale; 422 naming a photo id in the payload nobody uploaded."""
    service.act(
        session,
        case_no,
        body.action,
        user,
        body.payload,
        body.expected_version,
        _now(),
        media=media,
    )
    return _detail(session, user, case_no)


@router.post("/cases/{case_no}/merge", response_model=CaseDetailRead)
def merge(case_no: str, body: MergeIn, session: SessionDep, user: CurrentUser) -> CaseDetailRead:
    """合并: fold this case (a duplicate) into the master case ``into`` in one transaction; the
    master gains its reporters, who all get the result. Answers the master's detail. 409 when
    either version is stale, the master is closed or void (``master_closed``) or itself merged
    (``merge_chain``); 422 for merging a case into itself or into an unknown case."""
    master = service.merge_case(
        session,
        case_no,
        into=body.into,
        actor_user=user,
        expected_version=body.expected_version,
        master_expected_version=body.master_expected_version,
        note=body.note,
        now=_now(),
    )
    return _detail(session, user, master.case_no)


@router.get("/cases/{case_no}/duplicates", response_model=DuplicateList)
def duplicates(
    case_no: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    radius_m: Annotated[float | None, Query(gt=0, le=5000)] = None,
    days: Annotated[int | None, Query(ge=1, le=365)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DuplicateList:
    """合并候选: open cases of the same subclass near this one (``case_duplicate_radius_m``,
    default 50 m) reported in the last ``case_duplicate_days`` days (default 7), in the user's
    jurisdiction, nearest first."""
    settings = _app_settings(request) or get_settings()
    radius = settings.case_duplicate_radius_m if radius_m is None else radius_m
    window = settings.case_duplicate_days if days is None else days
    found = service.duplicate_candidates(
        session, user, case_no, now=_now(), radius_m=radius, days=window, limit=limit
    )
    items = [DuplicateRead(case=case_read(c.case), distance_m=c.distance_m) for c in found]
    return DuplicateList(items=items, count=len(items), radius_m=radius, days=window)
