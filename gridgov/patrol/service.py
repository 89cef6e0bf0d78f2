"""Patrol services (巡查): start, record positions, stop, read, live positions.

Only a supervisor (监督员) records patrols, and only their own. Staff of the supervision and
command centres and leaders read patrols that touched their jurisdiction; a supervisor reads
their own. Positions may come in GCJ-02 or BD-09 from phones using Chinese map SDKs and are
stored in WGS84. A batch is idempotent: positions are keyed by (patrol, client time), so a
batch resubmitted after a network failure, or positions sent out of order, never store a point
twice. Plain functions, ``session`` first, domain errors only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridgov.accounts import audit
from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.scope import filter_by_scope, scope_of
from gridgov.config import Settings
from gridgov.errors import Forbidden, NotFound, ValidationError
from gridgov.geo.chinacrs import to_wgs84
from gridgov.patrol.models import Patrol, PatrolPosition
from gridgov.regions.geocode import grid_codes_many

CRS_VALUES = ("wgs84", "gcj02", "bd09")
#: Who records patrols: supervisors (监督员 / 网格员), each their own.
RECORDERS = frozenset({Role.SUPERVISOR})
#: Who watches patrols of others in their jurisdiction (live map, tracks, coverage).
OBSERVERS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.LEADER, Role.ADMIN})
#: Who reads one patrol: observers in jurisdiction, and the supervisor who walked it.
READERS = OBSERVERS | RECORDERS
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True)
class PositionInput:
    """One position as a phone sends it: ``lon``/``lat`` in the batch's CRS, ``at`` the phone's
    time (time zone aware), ``accuracy_m`` the reported horizontal accuracy (metres)."""

    lon: float
    lat: float
    at: datetime
    accuracy_m: float | None = None


@dataclass
class BatchResult:
    """What became of a batch: ``stored`` new points, ``duplicates`` already stored (or repeated
    in the batch), ``rejected`` points whose time lies outside the patrol (index, reason)."""

    patrol: Patrol
    received: int
    stored: int
    duplicates: int
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _user_patrol(session: Session, user: User, patrol_id: int, *, lock: bool = False) -> Patrol:
    """The supervisor's own patrol ``patrol_id`` (row-locked on PostgreSQL when ``lock``)."""
    authorize(user, RECORDERS, action="record a patrol")
    stmt = select(Patrol).where(Patrol.id == patrol_id)
    if lock:
        stmt = stmt.with_for_update()
    patrol = session.scalar(stmt)
    if patrol is None:
        raise NotFound(f"no patrol {patrol_id}", code="patrol_not_found", patrol_id=patrol_id)
    if patrol.user_id != user.id:
        raise Forbidden(
            f"patrol {patrol_id} is another supervisor's; you may only record your own",
            code="not_owner",
            patrol_id=patrol_id,
        )
    return patrol


def running_patrol(session: Session, user: User) -> Patrol | None:
    """The supervisor's running patrol, if any."""
    authorize(user, RECORDERS, action="record a patrol")
    stmt = select(Patrol).where(Patrol.user_id == user.id, Patrol.stopped_at.is_(None))
    return session.scalar(stmt)


def start_patrol(session: Session, user: User, *, now: datetime) -> tuple[Patrol, bool]:
    """开始巡查: a new running patrol, or the one already running (``created`` False), so a
    start repeated after a network failure never opens a second patrol."""
    existing = running_patrol(session, user)
    if existing is not None:
        return existing, False
    patrol = Patrol(user_id=user.id, started_at=now, point_count=0)
    try:
        with session.begin_nested():
            session.add(patrol)
            session.flush()
    except IntegrityError:
        # The same start arrived twice at once and the other copy won.
        again = running_patrol(session, user)
        if again is None:
            raise
        return again, False
    audit.record(session, user, "patrol.start", patrol)
    return patrol, True


def stop_patrol(session: Session, user: User, patrol_id: int, *, now: datetime) -> Patrol:
    """结束巡查; stopping a stopped patrol changes nothing (a repeated stop is harmless)."""
    patrol = _user_patrol(session, user, patrol_id, lock=True)
    if patrol.stopped_at is None:
        patrol.stopped_at = now
        audit.record(session, user, "patrol.stop", patrol, {"points": patrol.point_count})
        session.flush()
    return patrol


def _check_number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number", field=name)
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ValidationError(f"{name} must be between {low:g} and {high:g}", field=name)
    return number


def _check_positions(positions: Sequence[PositionInput], settings: Settings) -> None:
    if len(positions) > settings.patrol_max_batch:
        raise ValidationError(
            f"at most {settings.patrol_max_batch} positions per batch, got {len(positions)}; "
            "send the rest in another batch",
            field="positions",
        )
    for i, p in enumerate(positions):
        _check_number(p.lon, f"positions.{i}.lon", -180, 180)
        _check_number(p.lat, f"positions.{i}.lat", -90, 90)
        if p.accuracy_m is not None:
            _check_number(p.accuracy_m, f"positions.{i}.accuracy_m", 0, MAX_ACCURACY_M)
        if not isinstance(p.at, datetime) or p.at.tzinfo is None:
            raise ValidationError(
                "at must be a date-time with a time zone (e.g. 2026-06-01T09:00:00+08:00)",
                field=f"positions.{i}.at",
            )


def _to_wgs84(positions: Sequence[PositionInput], crs: str) -> tuple[np.ndarray, np.ndarray]:
    lons = np.array([float(p.lon) for p in positions], dtype=float)
    lats = np.array([float(p.lat) for p in positions], dtype=float)
    if crs != "wgs84" and len(positions):
        lons, lats = (np.asarray(v, dtype=float) for v in to_wgs84(lons, lats, crs))  # type: ignore[arg-type]
    return lons, lats


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert positions; a (patrol, at) already stored is skipped, not an error."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    stmt: Insert
    if dialect == "postgresql":
        stmt = (
            postgresql.insert(PatrolPosition)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["patrol_id", "at"])
        )
    elif dialect == "sqlite":
        stmt = (
            sqlite.insert(PatrolPosition)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["patrol_id", "at"])
        )
    else:  # pragma: no cover - gridgov runs on SQLite and PostgreSQL
        raise NotImplementedError(dialect)
    # RETURNING lists the rows inserted (a skipped duplicate returns nothing); rowcount is not
    # reliable for a multi-row insert on every driver.
    return len(session.execute(stmt.returning(PatrolPosition.id)).all())


def record_positions(
    session: Session,
    user: User,
    patrol_id: int,
    positions: Sequence[PositionInput],
    *,
    crs: str = "wgs84",
    now: datetime,
    settings: Settings,
) -> BatchResult:
    """Store a batch of the supervisor's own positions (上传轨迹点).

    Validated first, nothing stored on a bad value (422 naming ``positions.<i>.<field>``). A
    position whose time is earlier than the patrol's start, later than its stop, or later than
    the server's clock — each by more than ``patrol_clock_skew_minutes`` — is left out and
    listed in ``rejected``: a phone with a wrong clock still empties its queue. Positions
    already stored (same client time) count as ``duplicates``. A stopped patrol still takes the
    positions taken before its stop (a phone that went offline sends them late).
    """
    if crs not in CRS_VALUES:
        raise ValidationError(f"crs must be one of {', '.join(CRS_VALUES)}", field="crs")
    _check_positions(positions, settings)
    patrol = _user_patrol(session, user, patrol_id, lock=True)
    skew = timedelta(minutes=settings.patrol_clock_skew_minutes)
    earliest = patrol.started_at - skew
    latest = min(now, patrol.stopped_at or now) + skew
    lons, lats = _to_wgs84(positions, crs)

    rejected: list[dict[str, Any]] = []
    fresh: dict[datetime, int] = {}  # client time (UTC) → index of its first position
    repeated = 0
    for i, p in enumerate(positions):
        try:
            at = p.at.astimezone(UTC)
        except (OverflowError, ValueError):  # e.g. year 9999 with a western offset
            rejected.append({"index": i, "field": f"positions.{i}.at", "reason": "out of range"})
            continue
        if at < earliest or at > latest:
            if at < earliest:
                reason = "earlier than the start of the patrol"
            elif at > now + skew:
                reason = "later than the server's clock (check the phone's clock)"
            else:
                reason = "later than the end of the patrol"
            rejected.append({"index": i, "field": f"positions.{i}.at", "reason": reason})
        elif at in fresh:
            repeated += 1
        else:
            fresh[at] = i
    stored_before = set()
    if fresh:
        stored_before = set(
            session.scalars(
                select(PatrolPosition.at).where(
                    PatrolPosition.patrol_id == patrol.id, PatrolPosition.at.in_(list(fresh))
                )
            )
        )
    new = {at: i for at, i in fresh.items() if at not in stored_before}
    order = sorted(new, key=lambda at: new[at])
    idx = [new[at] for at in order]
    grids = grid_codes_many(session, lons[idx], lats[idx]) if idx else []
    rows = [
        {
            "patrol_id": patrol.id,
            "at": at,
            "lon": round(float(lons[i]), 7),
            "lat": round(float(lats[i]), 7),
            "accuracy_m": None if positions[i].accuracy_m is None else positions[i].accuracy_m,
            "grid_code": grid,
            "received_at": now,
        }
        for at, i, grid in zip(order, idx, grids, strict=True)
    ]
    stored = _insert_ignoring_duplicates(session, rows)
    if rows:
        newest = max(rows, key=lambda r: r["at"])
        if patrol.last_at is None or newest["at"] > patrol.last_at:
            patrol.last_at = newest["at"]
            patrol.last_lon, patrol.last_lat = newest["lon"], newest["lat"]
            patrol.last_accuracy_m = newest["accuracy_m"]
            patrol.last_grid_code = newest["grid_code"]
    patrol.point_count = (patrol.point_count or 0) + stored
    session.flush()
    duplicates = repeated + len(stored_before) + (len(rows) - stored)
    return BatchResult(patrol, len(positions), stored, duplicates, rejected)


# ---- reading ------------------------------------------------------------------------------


def get_patrol(session: Session, patrol_id: int) -> Patrol:
    patrol = session.get(Patrol, patrol_id)
    if patrol is None:
        raise NotFound(f"no patrol {patrol_id}", code="patrol_not_found", patrol_id=patrol_id)
    return patrol


def check_can_read(session: Session, user: User, patrol: Patrol) -> None:
    """A supervisor reads their own patrols; observers read patrols with at least one position
    in a grid of their jurisdiction (the one scope helper decides); 403 otherwise."""
    if user.role is Role.SUPERVISOR:
        if patrol.user_id != user.id:
            raise Forbidden(
                "supervisors may only see their own patrols", code="not_owner", patrol_id=patrol.id
            )
        return
    authorize(user, OBSERVERS, action="see patrols")
    scope = scope_of(session, user)
    if scope.all:
        return
    inside = session.scalar(
        filter_by_scope(
            select(PatrolPosition.grid_code).where(PatrolPosition.patrol_id == patrol.id),
            scope,
            PatrolPosition.grid_code,
        ).limit(1)
    )
    grid = inside or patrol.last_grid_code or "(none)"
    authorize(user, OBSERVERS, scope, grid_code=grid, action="see this patrol")


def read_patrol(session: Session, user: User, patrol_id: int) -> Patrol:
    """The patrol, if ``user`` may read it (404 unknown, 403 not theirs to see)."""
    patrol = get_patrol(session, patrol_id)
    check_can_read(session, user, patrol)
    return patrol


def positions_of(session: Session, patrol: Patrol) -> list[PatrolPosition]:
    """The patrol's positions in client-time order."""
    stmt = (
        select(PatrolPosition)
        .where(PatrolPosition.patrol_id == patrol.id)
        .order_by(PatrolPosition.at, PatrolPosition.id)
    )
    return list(session.scalars(stmt))


def list_patrols(
    session: Session,
    user: User,
    *,
    running: bool | None = None,
    supervisor_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Patrol, User]]:
    """Patrols newest first: a supervisor's own, or (observers) those whose newest position is
    in their jurisdiction."""
    authorize(user, READERS, action="see patrols")
    if not 1 <= limit <= 500:
        raise ValidationError("limit must be 1–500", field="limit")
    stmt = select(Patrol, User).join(User, User.id == Patrol.user_id)
    if user.role is Role.SUPERVISOR:
        stmt = stmt.where(Patrol.user_id == user.id)
    else:
        stmt = filter_by_scope(stmt, scope_of(session, user), Patrol.last_grid_code)
    if running is not None:
        stmt = stmt.where(
            Patrol.stopped_at.is_(None) if running else Patrol.stopped_at.is_not(None)
        )
    if supervisor_id is not None:
        stmt = stmt.where(Patrol.user_id == supervisor_id)
    stmt = stmt.order_by(Patrol.id.desc()).limit(limit).offset(max(offset, 0))
    return [(p, u) for p, u in session.execute(stmt).all()]


@dataclass(frozen=True)
class LivePosition:
    """The newest position of a supervisor on patrol now (实时位置)."""

    patrol: Patrol
    user: User
    age: timedelta


def live_positions(
    session: Session, user: User, *, now: datetime, settings: Settings
) -> list[LivePosition]:
    """Supervisors on patrol now in ``user``'s jurisdiction: running patrols whose newest
    position is at most ``patrol_live_minutes`` old and lies in a grid of the jurisdiction."""
    authorize(user, OBSERVERS, action="see supervisors on patrol")
    since = now - timedelta(minutes=settings.patrol_live_minutes)
    stmt = (
        select(Patrol, User)
        .join(User, User.id == Patrol.user_id)
        .where(Patrol.stopped_at.is_(None), Patrol.last_at.is_not(None), Patrol.last_at >= since)
    )
    stmt = filter_by_scope(stmt, scope_of(session, user), Patrol.last_grid_code)
    rows = session.execute(stmt.order_by(Patrol.last_at.desc())).all()
    return [
        LivePosition(p, u, max(now - p.last_at, timedelta(0)))
        for p, u in rows
        if p.last_at is not None
    ]
