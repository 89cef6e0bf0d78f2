"""HTTP API of cases (案件): report, list, read, act. Thin: parse, call the service, answer.

Domain errors (422 validation, 403 role/jurisdiction, 404, 409 state or stale version) are
mapped by the app's error handlers; nothing here builds its own scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sqlalchemy.orm import Session

from gridgov.accounts.service import mask_phone
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.schemas import (
    ActionIn,
    CaseCreate,
    CaseDetailRead,
    CaseList,
    CaseRead,
    DeadlineRead,
    EventRead,
)
from gridgov.cases.workflow import State
from gridgov.deps import CurrentUser, OptionalUser, SessionDep

router = APIRouter(tags=["cases"])


def _now() -> datetime:
    return datetime.now(UTC)


def case_read(case: Case, lights: Mapping[str, str | None] | None = None) -> CaseRead:
    """The API form of a case row (reporter phone masked)."""
    data = {name: getattr(case, name) for name in CaseRead.model_fields if hasattr(case, name)}
    data["reporter_phone"] = mask_phone(case.reporter_phone)
    data["photos"] = list(case.photos or [])
    data["lights"] = dict(lights or {})
    return CaseRead.model_validate(data)


def _event_read(row: CaseEvent) -> EventRead:
    return EventRead(
        seq=row.seq,
        action=row.action,
        actor_user_id=row.actor_user_id,
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
    return CaseDetailRead(
        **base,
        events=[_event_read(e) for e in d.events],
        deadlines=deadlines,
        allowed_actions=d.allowed,
    )


@router.post("/cases", status_code=201, response_model=CaseRead)
def create_case(
    body: CaseCreate,
    session: SessionDep,
    user: OptionalUser,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> CaseRead:
    """上报 a problem. Anonymous residents may report; a repeated ``Idempotency-Key`` returns the
    first case."""
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
    )
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


@router.get("/cases/{case_no}", response_model=CaseDetailRead)
def get_case(case_no: str, session: SessionDep, user: CurrentUser) -> CaseDetailRead:
    """One case with its events, deadlines and the actions the user may take now."""
    return _detail(session, user, case_no)


@router.post("/cases/{case_no}/actions", response_model=CaseDetailRead)
def act(case_no: str, body: ActionIn, session: SessionDep, user: CurrentUser) -> CaseDetailRead:
    """Apply one workflow action; 409 with the current state and version when
    ``expected_version`` is stale."""
    service.act(session, case_no, body.action, user, body.payload, body.expected_version, _now())
    return _detail(session, user, case_no)
