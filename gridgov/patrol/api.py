"""HTTP API of patrols (巡查): start, send positions, stop; live map, track, coverage.

Thin: parse, call :mod:`gridgov.patrol.service`, answer. Role and jurisdiction checks live in
the service (the one ``authorize`` and ``filter_by_scope`` helpers).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.patrol import coverage, service
from gridgov.patrol.models import Patrol

router = APIRouter(tags=["patrol"])

GEOJSON = "application/geo+json"
PatrolId = Annotated[int, Path(ge=1, le=2_147_483_647, description="patrol id")]
_STRICT = ConfigDict(extra="forbid")


class PositionIn(BaseModel):
    """One position: ``lon``/``lat`` in the batch's ``crs``, ``at`` the phone's time with its
    time zone, ``accuracy_m`` the reported accuracy in metres."""

    model_config = _STRICT
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)
    at: AwareDatetime


class LastPosition(BaseModel):
    at: datetime
    lon: float
    lat: float
    accuracy_m: float | None
    grid_code: str | None


class PatrolRead(BaseModel):
    id: int
    user_id: int
    username: str
    name: str
    running: bool
    started_at: datetime
    stopped_at: datetime | None
    point_count: int
    last: LastPosition | None


class PatrolList(BaseModel):
    items: list[PatrolRead]
    count: int


class RejectedPosition(BaseModel):
    index: int
    field: str
    reason: str


class BatchRead(BaseModel):
    """What became of a batch; resubmitting it answers ``stored`` 0 and ``duplicates`` n."""

    patrol_id: int
    received: int
    stored: int
    duplicates: int
    rejected: list[RejectedPosition]
    point_count: int
    last: LastPosition | None


class GridVisitRead(BaseModel):
    grid_code: str
    points: int
    first_at: datetime | None
    last_at: datetime | None
    seconds: float


class CoverageRead(BaseModel):
    """Grids the patrol passed (覆盖网格), in the order first entered."""

    patrol_id: int
    grid_count: int
    grids: list[GridVisitRead]
    outside_points: int
    point_count: int
    length_m: float


def _now() -> datetime:
    return datetime.now(UTC)


def _last(p: Patrol) -> LastPosition | None:
    if p.last_at is None or p.last_lon is None or p.last_lat is None:
        return None
    return LastPosition(
        at=p.last_at,
        lon=p.last_lon,
        lat=p.last_lat,
        accuracy_m=p.last_accuracy_m,
        grid_code=p.last_grid_code,
    )


def patrol_read(p: Patrol, user: User) -> PatrolRead:
    return PatrolRead(
        id=p.id,
        user_id=p.user_id,
        username=user.username,
        name=user.name,
        running=p.stopped_at is None,
        started_at=p.started_at,
        stopped_at=p.stopped_at,
        point_count=p.point_count,
        last=_last(p),
    )


def _owner(session: Session, p: Patrol) -> User:
    user = session.get(User, p.user_id)
    assert user is not None  # the foreign key cascades
    return user


@router.post("/patrol/start", status_code=201, response_model=PatrolRead)
def start(session: SessionDep, user: CurrentUser, response: Response) -> PatrolRead:
    """开始巡查 (supervisors): 201 with a new patrol, or 200 with the one already running."""
    patrol, created = service.start_patrol(session, user, now=_now())
    if not created:
        response.status_code = 200
    return patrol_read(patrol, user)


@router.get("/patrol/current", response_model=PatrolRead | None)
def current(session: SessionDep, user: CurrentUser) -> PatrolRead | None:
    """The supervisor's running patrol, or null: a phone that reloads picks it up again."""
    patrol = service.running_patrol(session, user)
    return None if patrol is None else patrol_read(patrol, user)


@router.get(
    "/patrol/live", response_class=JSONResponse, responses={200: {"content": {GEOJSON: {}}}}
)
def live(session: SessionDep, user: CurrentUser, settings: SettingsDep) -> JSONResponse:
    """实时位置: the newest position of each supervisor on patrol now in the user's
    jurisdiction, as a GeoJSON FeatureCollection of points (for the leader and command maps).
    A patrol with no position for ``patrol_live_minutes`` is left out."""
    now = _now()
    rows = service.live_positions(session, user, now=now, settings=settings)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.patrol.last_lon, r.patrol.last_lat]},
            "properties": {
                "patrol_id": r.patrol.id,
                "user_id": r.user.id,
                "username": r.user.username,
                "name": r.user.name,
                "at": r.patrol.last_at.isoformat() if r.patrol.last_at else None,
                "age_seconds": int(r.age.total_seconds()),
                "accuracy_m": r.patrol.last_accuracy_m,
                "grid_code": r.patrol.last_grid_code,
                "started_at": r.patrol.started_at.isoformat(),
                "point_count": r.patrol.point_count,
            },
        }
        for r in rows
    ]
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features,
        "count": len(features),
        "window_minutes": settings.patrol_live_minutes,
        "at": now.isoformat(),
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get("/patrol", response_model=PatrolList)
def list_patrols(
    session: SessionDep,
    user: CurrentUser,
    running: bool | None = None,
    supervisor_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PatrolList:
    """Patrols newest first: a supervisor's own; for staff, those last seen in their
    jurisdiction (track replay, 轨迹回放)."""
    rows = service.list_patrols(
        session, user, running=running, supervisor_id=supervisor_id, limit=limit, offset=offset
    )
    items = [patrol_read(p, u) for p, u in rows]
    return PatrolList(items=items, count=len(items))


@router.post("/patrol/{patrol_id}/positions", response_model=BatchRead)
def positions(
    patrol_id: PatrolId,
    body: list[PositionIn],
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
) -> BatchRead:
    """上传轨迹点 (the supervisor's own running or just-stopped patrol): a JSON list of
    positions, at most ``patrol_max_batch``. Idempotent per (patrol, ``at``): a batch sent
    again after a network failure stores nothing twice. ``crs`` (query) is the coordinate
    system of the whole batch (GCJ-02 / BD-09 from Chinese map SDKs are converted to WGS84)."""
    result = service.record_positions(
        session,
        user,
        patrol_id,
        [service.PositionInput(p.lon, p.lat, p.at, p.accuracy_m) for p in body],
        crs=crs,
        now=_now(),
        settings=settings,
    )
    return BatchRead(
        patrol_id=result.patrol.id,
        received=result.received,
        stored=result.stored,
        duplicates=result.duplicates,
        rejected=[RejectedPosition(**r) for r in result.rejected],
        point_count=result.patrol.point_count,
        last=_last(result.patrol),
    )


@router.post("/patrol/{patrol_id}/stop", response_model=PatrolRead)
def stop(patrol_id: PatrolId, session: SessionDep, user: CurrentUser) -> PatrolRead:
    """结束巡查 (the supervisor's own patrol); repeating it changes nothing."""
    patrol = service.stop_patrol(session, user, patrol_id, now=_now())
    return patrol_read(patrol, user)


@router.get("/patrol/{patrol_id}", response_model=PatrolRead)
def get_patrol(patrol_id: PatrolId, session: SessionDep, user: CurrentUser) -> PatrolRead:
    """One patrol (its owner, or staff whose jurisdiction it passed through)."""
    patrol = service.read_patrol(session, user, patrol_id)
    return patrol_read(patrol, _owner(session, patrol))


@router.get(
    "/patrol/{patrol_id}/track",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def track(patrol_id: PatrolId, session: SessionDep, user: CurrentUser) -> JSONResponse:
    """巡查轨迹: a GeoJSON Feature with a LineString of the positions in time order (WGS84);
    ``properties.times`` gives each point's time. ``geometry`` is null below two points."""
    patrol = service.read_patrol(session, user, patrol_id)
    owner = _owner(session, patrol)
    feature = coverage.track_feature(
        patrol, service.positions_of(session, patrol), owner.username, owner.name
    )
    return JSONResponse(feature, media_type=GEOJSON)


@router.get("/patrol/{patrol_id}/coverage", response_model=CoverageRead)
def patrol_coverage(patrol_id: PatrolId, session: SessionDep, user: CurrentUser) -> CoverageRead:
    """巡查覆盖: the unit grids the patrol passed (with the legs between fixes sampled), fixes
    and seconds spent in each, fixes outside every grid, and the track length."""
    patrol = service.read_patrol(session, user, patrol_id)
    data = coverage.grid_coverage(session, service.positions_of(session, patrol))
    return CoverageRead(patrol_id=patrol.id, **data)
