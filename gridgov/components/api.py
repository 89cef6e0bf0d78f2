"""Component HTTP API: list, nearby, one with its history, create, change state.

Reading needs any staff role; lists are limited to the caller's jurisdiction. Creating needs
registrar (信息采集员) or admin with the point's grid in scope; a state change may also be made
by a supervisor or department covering the component's grid or owning department.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gridgov.accounts.audit import record
from gridgov.accounts.models import Role
from gridgov.accounts.permissions import ANY_STAFF, authorize
from gridgov.accounts.scope import scope_of
from gridgov.components import service
from gridgov.components.models import ComponentState
from gridgov.components.schemas import (
    ComponentCreate,
    ComponentDetail,
    ComponentRead,
    NearbyRead,
    StateChange,
    StateEventRead,
)
from gridgov.deps import CurrentUser, SessionDep
from gridgov.regions.api import parse_bbox

router = APIRouter(tags=["components"])

REGISTER_ROLES = frozenset({Role.REGISTRAR, Role.ADMIN})
STATE_ROLES = frozenset({Role.REGISTRAR, Role.ADMIN, Role.SUPERVISOR, Role.DEPARTMENT})


@router.get("/components", response_model=list[ComponentRead])
def list_components(
    session: SessionDep,
    user: CurrentUser,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy (lon/lat)")] = None,
    subclass: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    state: ComponentState | None = None,
    grid: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ComponentRead]:
    """Components in the caller's jurisdiction, by id, filtered by bbox, subclass, state, grid."""
    authorize(user, ANY_STAFF, action="list components")
    rows = service.list_components(
        session,
        bbox=parse_bbox(bbox),
        subclass_code=subclass,
        state=state,
        grid_code=grid,
        scope=scope_of(session, user),
        limit=limit,
        offset=offset,
    )
    return [ComponentRead.model_validate(c) for c in rows]


@router.get("/components/nearby", response_model=list[NearbyRead])
def nearby(
    session: SessionDep,
    user: CurrentUser,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    radius: Annotated[float, Query(gt=0, le=service.MAX_NEARBY_RADIUS_M)] = 50.0,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    subclass: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
) -> list[NearbyRead]:
    """Components within ``radius`` metres of a WGS84 point, nearest first."""
    authorize(user, ANY_STAFF, action="search components")
    found = service.nearby(session, lon, lat, radius, limit, subclass_code=subclass)
    return [
        NearbyRead(component=ComponentRead.model_validate(c), distance_m=round(d, 2))
        for c, d in found
    ]


@router.get("/components/{component_id}", response_model=ComponentDetail)
def get_component(session: SessionDep, user: CurrentUser, component_id: str) -> ComponentDetail:
    """One component with its state history (状态变更记录)."""
    authorize(user, ANY_STAFF, action="view components")
    comp = service.get_component(session, component_id)
    events = [StateEventRead.model_validate(e) for e in service.history(session, comp.id)]
    return ComponentDetail(**ComponentRead.model_validate(comp).model_dump(), history=events)


@router.post("/components", response_model=ComponentRead, status_code=201)
def create_component(
    session: SessionDep, user: CurrentUser, body: ComponentCreate
) -> ComponentRead:
    """Register a component; its grid comes from the point, its id from the next serial."""
    authorize(user, REGISTER_ROLES, action="register components")
    grid = service.locate(session, body.lon, body.lat)
    authorize(
        user, REGISTER_ROLES, scope_of(session, user), grid_code=grid, action="register components"
    )
    fields = body.model_dump(exclude={"id"})
    comp = service.create_component(session, component_id=body.id, actor=user, **fields)
    record(session, user, "component.create", comp, {"subclass": comp.subclass_code})
    return ComponentRead.model_validate(comp)


@router.post("/components/{component_id}/state", response_model=StateEventRead, status_code=201)
def change_state(
    session: SessionDep, user: CurrentUser, component_id: str, body: StateChange
) -> StateEventRead:
    """Change a component's state; the change is added to its history."""
    authorize(user, STATE_ROLES, action="change component states")
    comp = service.get_component(session, component_id)
    authorize(
        user,
        STATE_ROLES,
        scope_of(session, user),
        grid_code=comp.grid_code,
        department=comp.owner_dept_code or comp.maintainer_dept_code,
        action="change the state of this component",
    )
    event = service.change_state(
        session, comp.id, body.state, actor=user, note=body.note, case_no=body.case_no
    )
    record(
        session,
        user,
        "component.state",
        comp,
        {"from": event.from_state, "to": event.to_state, "case_no": body.case_no},
    )
    return StateEventRead.model_validate(event)
