"""HTTP API of the dashboard (领导驾驶舱 / 指挥大屏): summary, grid density, map cases, and the
change stream (Server-Sent Events).

Thin: check the role with ``authorize``, take the user's scope from ``scope_of``, call
:mod:`gridgov.dashboard.service`. Readers: leaders, admins, dispatchers and shift leads, each
over their own jurisdiction.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.scope import Scope, scope_of
from gridgov.config import Settings
from gridgov.dashboard import service, stream
from gridgov.dashboard.schemas import DensityRead, SummaryRead
from gridgov.db import session_scope
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.regions.api import BBoxQuery, parse_bbox

router = APIRouter(tags=["dashboard"])

GEOJSON = "application/geo+json"


def get_session_opener(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Short read-only sessions for the stream's polls (tests replace this dependency)."""
    engine = request.app.state.engine
    return lambda: session_scope(engine, read_only=True)


SessionOpenerDep = Annotated[
    Callable[[], AbstractContextManager[Session]], Depends(get_session_opener)
]


def _context(session: Session, user: User, settings: Settings) -> tuple[Scope, service.Clock]:
    authorize(user, service.VIEWERS, action="see the dashboard")
    clock = service.Clock(datetime.now(UTC), ZoneInfo(settings.timezone))
    return scope_of(session, user), clock


@router.get("/dashboard/summary", response_model=SummaryRead)
def summary(session: SessionDep, user: CurrentUser, settings: SettingsDep) -> SummaryRead:
    """The leader dashboard over the user's jurisdiction: today's reported / registered /
    closed; open cases by state; yellow and red lights; 督办 levels; open and overdue per
    street and per department; this week's top subclasses; a 14-day trend of reported and
    closed per local day; departments ranked by 按期结案率 over the last 30 days with numerator,
    denominator and the definition."""
    scope, clock = _context(session, user, settings)
    return SummaryRead.model_validate(service.summary(session, scope, clock))


@router.get("/dashboard/density", response_model=DensityRead)
def density(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=366, description="reported in the last N days")] = 30,
    level: Annotated[
        Literal["grid", "community", "street"],
        Query(description="counts per unit grid, or summed per community or street"),
    ] = "grid",
) -> DensityRead:
    """Case counts per unit grid for a choropleth (grid code → reported in the last ``days``
    days, open now, overdue now), with the maxima for the colour scale; per community or
    street code with ``level`` (the map of a whole city at low zoom)."""
    scope, clock = _context(session, user, settings)
    return DensityRead.model_validate(service.density(session, scope, clock, days, level))


@router.get(
    "/dashboard/cases.geojson",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def cases_geojson(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    bbox: BBoxQuery = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> JSONResponse:
    """Open cases in the jurisdiction (optionally inside ``bbox``) as a GeoJSON
    FeatureCollection of points (case_no, state, subclass, light …), overdue ones first, then
    the newest. At most ``limit`` (default and ceiling: ``dashboard_map_max_cases``);
    ``truncated`` is true when more exist and ``total`` counts them all."""
    scope, clock = _context(session, user, settings)
    cap = min(limit or settings.dashboard_map_max_cases, settings.dashboard_map_max_cases)
    body = service.map_cases(session, scope, clock, limit=cap, bbox=parse_bbox(bbox))
    return JSONResponse(body, media_type=GEOJSON)


@router.get(
    "/dashboard/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def dashboard_stream(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    opener: SessionOpenerDep,
) -> StreamingResponse:
    """Server-Sent Events: ``summary`` at once with the small counts (today's reported /
    registered / closed, open, yellow, red), then ``changed`` with new counts within about
    ``dashboard_poll_seconds`` + 1 s of a change to a case in the jurisdiction, a heartbeat
    comment every ``dashboard_heartbeat_seconds``, and ``reconnect`` before the stream ends
    after ``dashboard_stream_max_seconds``."""
    scope, clock = _context(session, user, settings)
    state = stream.first_state(session, scope, clock.tz)
    # End the request's transaction now: between polls the stream holds no connection.
    session.commit()
    times = stream.StreamTimes(
        poll_seconds=settings.dashboard_poll_seconds,
        heartbeat_seconds=settings.dashboard_heartbeat_seconds,
        max_seconds=settings.dashboard_stream_max_seconds,
    )
    body = stream.dashboard_events(
        request, scope=scope, tz=clock.tz, opener=opener, state=state, times=times
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
