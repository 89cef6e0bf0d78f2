"""Component inventory: create with a generated id, change state with history, search, nearby.

Plain functions, ``session`` first; domain errors only (the API maps them to HTTP).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.accounts.scope import Scope, filter_by_scope
from gridgov.codes.component import MAX_SERIAL, format_component_id, parse_component_id
from gridgov.components.models import STATE_LABELS, Component, ComponentState, ComponentStateEvent
from gridgov.db import utcnow
from gridgov.errors import Conflict, NotFound, ValidationError
from gridgov.geo.files import BBox
from gridgov.geo.projection import LocalProjection, local_epsg
from gridgov.regions.geocode import grid_codes_many
from gridgov.taxonomy.models import Kind, Subclass

MAX_NEARBY_RADIUS_M = 5000.0
MAX_LIST = 5000
_M_PER_DEG_LAT = 111_320.0


# --------------------------------------------------------------------------- lookups


def component_subclass_codes(session: Session) -> set[str]:
    """The 4-digit codes of every active component subclass (部件小类)."""
    stmt = select(Subclass.code).where(Subclass.kind == Kind.COMPONENT, Subclass.is_active)
    return set(session.scalars(stmt))


def check_subclass(session: Session, code: str) -> str:
    """``code`` if it is an active component subclass, else ValidationError ``unknown_subclass``."""
    code = str(code).strip()
    if code not in component_subclass_codes(session):
        raise ValidationError(
            f"unknown component subclass {code!r}", code="unknown_subclass", field="subclass_code"
        )
    return code


def locate(session: Session, lon: float, lat: float) -> str:
    """The code of the unit grid containing (lon, lat); ValidationError ``outside_grids``."""
    _check_lonlat(lon, lat)
    code = grid_codes_many(session, [lon], [lat])[0]
    if code is None:
        raise ValidationError(
            f"point ({lon}, {lat}) is outside every grid", code="outside_grids", field="lon"
        )
    return code


def get_component(session: Session, component_id: str) -> Component:
    """The component with this 16-digit id, or NotFound."""
    found = session.get(Component, str(component_id).strip())
    if found is None:
        raise NotFound(
            f"no component with id {component_id!r}",
            code="component_not_found",
            component=component_id,
        )
    return found


def parse_state(value: str | ComponentState) -> ComponentState:
    """A state from its code (``damaged``) or its Chinese label (破损)."""
    if isinstance(value, ComponentState):
        return value
    text = str(value).strip()
    by_label = {label: state for state, label in STATE_LABELS.items()}
    if text in by_label:
        return by_label[text]
    try:
        return ComponentState(text.lower())
    except ValueError:
        known = ", ".join(f"{s.value} ({STATE_LABELS[s]})" for s in ComponentState)
        raise ValidationError(
            f"unknown component state {text!r}; states: {known}", code="bad_state", field="state"
        ) from None


def _check_lonlat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            f"({lon}, {lat}) is not a WGS84 lon/lat position", code="bad_position", field="lon"
        )


# --------------------------------------------------------------------------- ids


def admin_code_of_grid(grid_code: str) -> str:
    """The 6-digit district code a component in this grid is numbered under."""
    return grid_code[:6]


def max_serial(session: Session, prefix: str) -> int:
    """The highest serial stored under a 10-digit prefix (admin code + subclass), 0 if none."""
    top = session.scalar(
        select(func.max(Component.id)).where(Component.id.like(f"{prefix}%", escape="\\"))
    )
    return int(top[10:]) if top else 0


def next_component_id(session: Session, admin6: str, subclass4: str) -> str:
    """The next free id of a subclass in an admin area (serials are never reused)."""
    serial = max_serial(session, f"{admin6}{subclass4}") + 1
    if serial > MAX_SERIAL:
        raise Conflict(
            f"no serial left for subclass {subclass4} in {admin6} (all {MAX_SERIAL} used)",
            code="serials_exhausted",
        )
    return format_component_id(admin6, subclass4, serial)


def check_given_id(component_id: str, subclass_code: str, grid_code: str) -> str:
    """Validate an id given by the caller against the component's subclass and grid.

    The admin part must be the grid's district, or its city (``XXXX00``).
    """
    parsed = parse_component_id(component_id)
    if parsed.subclass_code != subclass_code:
        raise ValidationError(
            f"component id {parsed.code} is for subclass {parsed.subclass_code}, "
            f"not {subclass_code}",
            code="bad_id",
            field="id",
        )
    district = admin_code_of_grid(grid_code)
    if parsed.admin_code not in (district, district[:4] + "00"):
        raise ValidationError(
            f"component id {parsed.code} starts with {parsed.admin_code}, but the point is in "
            f"grid {grid_code} of district {district}",
            code="bad_id",
            field="id",
        )
    return parsed.code


# --------------------------------------------------------------------------- create, state


def create_component(
    session: Session,
    *,
    subclass_code: str,
    lon: float,
    lat: float,
    name: str = "",
    state: ComponentState | str = ComponentState.INTACT,
    component_id: str | None = None,
    competent_dept_code: str | None = None,
    owner_dept_code: str | None = None,
    maintainer_dept_code: str | None = None,
    installed_on: date | None = None,
    surveyed_on: date | None = None,
    data_source: str = "manual",
    actor: User | None = None,
    note: str = "",
) -> Component:
    """Store a component at (lon, lat): the grid comes from geocoding, the id is the next serial
    of its district and subclass unless ``component_id`` is given (then it is validated). The
    first history row records the initial state."""
    subclass_code = check_subclass(session, subclass_code)
    grid_code = locate(session, lon, lat)
    initial = parse_state(state)
    given = check_given_id(component_id, subclass_code, grid_code) if component_id else None
    if given and session.get(Component, given) is not None:
        raise Conflict(f"component id {given} already exists", code="duplicate_id", field="id")
    admin6 = admin_code_of_grid(grid_code)
    for _attempt in range(5):
        cid = given or next_component_id(session, admin6, subclass_code)
        comp = Component(
            id=cid,
            subclass_code=subclass_code,
            name=name,
            grid_code=grid_code,
            state=initial,
            competent_dept_code=competent_dept_code,
            owner_dept_code=owner_dept_code,
            maintainer_dept_code=maintainer_dept_code,
            installed_on=installed_on,
            surveyed_on=surveyed_on,
            data_source=data_source,
            created_at=utcnow(),
        )
        comp.set_geometry(Point(lon, lat))
        try:
            with session.begin_nested():
                session.add(comp)
                session.flush()
        except IntegrityError:
            # Another transaction took this serial between our read and our insert.
            if given:
                raise Conflict(
                    f"component id {given} already exists", code="duplicate_id", field="id"
                ) from None
            continue
        session.add(
            ComponentStateEvent(
                component_id=comp.id,
                at=comp.created_at,
                from_state=None,
                to_state=initial,
                note=note or "created",
                actor_user_id=actor.id if actor else None,
            )
        )
        session.flush()
        return comp
    raise Conflict("could not allocate a component id; try again", code="id_race")


def change_state(
    session: Session,
    component_id: str,
    to_state: ComponentState | str,
    *,
    actor: User | None = None,
    note: str = "",
    case_no: str | None = None,
    at: datetime | None = None,
) -> ComponentStateEvent:
    """Set a component's state and record the change; the same state again is refused."""
    comp = get_component(session, component_id)
    target = parse_state(to_state)
    if comp.state is target:
        raise ValidationError(
            f"component {comp.id} is already {target.value} ({STATE_LABELS[target]})",
            code="same_state",
            field="state",
        )
    event = ComponentStateEvent(
        component_id=comp.id,
        at=at or utcnow(),
        from_state=comp.state,
        to_state=target,
        note=note,
        actor_user_id=actor.id if actor else None,
        case_no=case_no,
    )
    comp.state = target
    session.add(event)
    session.flush()
    return event


def history(session: Session, component_id: str) -> list[ComponentStateEvent]:
    """Every state row of a component, oldest first (NotFound for an unknown id)."""
    comp = get_component(session, component_id)
    stmt = (
        select(ComponentStateEvent)
        .where(ComponentStateEvent.component_id == comp.id)
        .order_by(ComponentStateEvent.at, ComponentStateEvent.id)
    )
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- search


def list_components(
    session: Session,
    *,
    bbox: BBox | None = None,
    subclass_code: str | None = None,
    state: ComponentState | str | None = None,
    grid_code: str | None = None,
    scope: Scope | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[Component]:
    """Components by id, filtered by bbox (lon/lat), subclass, state, grid and the caller's
    jurisdiction (``scope``; None means no restriction)."""
    stmt = select(Component).order_by(Component.id)
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        stmt = stmt.where(
            Component.minx <= maxx,
            Component.maxx >= minx,
            Component.miny <= maxy,
            Component.maxy >= miny,
        )
    if subclass_code:
        stmt = stmt.where(Component.subclass_code == subclass_code)
    if state:
        stmt = stmt.where(Component.state == parse_state(state))
    if grid_code:
        stmt = stmt.where(Component.grid_code == grid_code)
    if scope is not None:
        stmt = filter_by_scope(stmt, scope, Component.grid_code, Component.owner_dept_code)
    stmt = stmt.limit(max(1, min(limit, MAX_LIST))).offset(max(offset, 0))
    return list(session.scalars(stmt))


def nearby(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float = 50.0,
    limit: int = 10,
    *,
    subclass_code: str | None = None,
) -> list[tuple[Component, float]]:
    """Components within ``radius_m`` metres of (lon, lat), nearest first, with distances.

    A bounding box in degrees prefilters on the indexed bbox columns; the exact distance is then
    measured in the local projected CRS (CGCS2000 Gauss-Krüger in China).
    """
    _check_lonlat(lon, lat)
    if not 0 < radius_m <= MAX_NEARBY_RADIUS_M:
        raise ValidationError(
            f"radius must be more than 0 and at most {MAX_NEARBY_RADIUS_M:g} m",
            code="bad_radius",
            field="radius",
        )
    dlat = radius_m / _M_PER_DEG_LAT * 1.05
    dlon = dlat / max(math.cos(math.radians(min(abs(lat), 89.0))), 1e-6)
    candidates = list_components(
        session,
        bbox=(lon - dlon, lat - dlat, lon + dlon, lat + dlat),
        subclass_code=subclass_code,
        limit=MAX_LIST,
    )
    if not candidates:
        return []
    proj = LocalProjection(local_epsg(lon, lat))
    here = proj.project(Point(lon, lat))
    points = proj.project(np.asarray([c.geom for c in candidates], dtype=object))
    dist = shapely.distance(points, here)
    order = np.argsort(dist, kind="stable")
    out: list[tuple[Component, float]] = []
    for i in order.tolist():
        if dist[i] > radius_m or len(out) >= limit:
            break
        out.append((candidates[i], float(dist[i])))
    return out


def component_dict(comp: Component) -> dict[str, Any]:
    """A component's attributes as plain values (for exports and API responses)."""
    return {
        "id": comp.id,
        "subclass_code": comp.subclass_code,
        "name": comp.name,
        "grid_code": comp.grid_code,
        "state": comp.state.value,
        "state_label": comp.state_label,
        "lon": comp.lon,
        "lat": comp.lat,
        "competent_dept_code": comp.competent_dept_code,
        "owner_dept_code": comp.owner_dept_code,
        "maintainer_dept_code": comp.maintainer_dept_code,
        "installed_on": comp.installed_on,
        "surveyed_on": comp.surveyed_on,
        "data_source": comp.data_source,
        "created_at": comp.created_at,
    }
