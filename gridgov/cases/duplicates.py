"""合并候选: open cases that may report the same problem as a given case.

A candidate has the case's subclass (same kind and code), is open (a master can absorb in any
open state), lies within ``case_duplicate_radius_m`` metres (default 50) and was reported within
the last ``case_duplicate_days`` days (default 7), and is in the user's jurisdiction (the one
scope helper). Nearest first. The desk then merges with ``merging.merge_case``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.accounts.permissions import ANY_STAFF, authorize
from gridgov.accounts.scope import filter_by_scope, scope_of
from gridgov.cases.actions import load_case
from gridgov.cases.models import Case
from gridgov.cases.queries import check_can_read
from gridgov.cases.workflow import OPEN
from gridgov.config import get_settings
from gridgov.errors import ValidationError

MAX_RADIUS_M = 5000.0
MAX_DAYS = 365
MAX_CANDIDATES = 100
_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Candidate:
    """A possible duplicate and its distance from the case, in metres."""

    case: Case
    distance_m: float


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; plenty for tens of metres)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def _limits(radius_m: float | None, days: int | None) -> tuple[float, int]:
    settings = get_settings()
    radius = settings.case_duplicate_radius_m if radius_m is None else radius_m
    window = settings.case_duplicate_days if days is None else days
    if not 0 < radius <= MAX_RADIUS_M:
        raise ValidationError(
            f"radius_m must be more than 0 and at most {MAX_RADIUS_M:g}", field="radius_m"
        )
    if not 1 <= window <= MAX_DAYS:
        raise ValidationError(f"days must be 1–{MAX_DAYS}", field="days")
    return float(radius), int(window)


def duplicate_candidates(
    session: Session,
    user: User,
    case_no: str,
    *,
    now: datetime,
    radius_m: float | None = None,
    days: int | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """Open cases of the same subclass near case ``case_no``, nearest first (see the module).

    Staff only (403 for residents); the case itself must be readable by ``user``.
    """
    authorize(user, ANY_STAFF, action="look for duplicate cases")
    radius, window = _limits(radius_m, days)
    if not 1 <= limit <= MAX_CANDIDATES:
        raise ValidationError(f"limit must be 1–{MAX_CANDIDATES}", field="limit")
    case = load_case(session, case_no)
    check_can_read(session, user, case)
    dlat = radius / _M_PER_DEG_LAT * 1.05
    dlon = dlat / max(math.cos(math.radians(min(abs(case.lat), 89.0))), 1e-6)
    stmt = select(Case).where(
        Case.id != case.id,
        Case.subclass_kind == case.subclass_kind,
        Case.subclass_code == case.subclass_code,
        Case.state.in_(OPEN),
        Case.reported_at >= now - timedelta(days=window),
        Case.lon.between(case.lon - dlon, case.lon + dlon),
        Case.lat.between(case.lat - dlat, case.lat + dlat),
    )
    stmt = filter_by_scope(stmt, scope_of(session, user), Case.grid_code, Case.department_code)
    found = [
        Candidate(c, round(metres_between(case.lon, case.lat, c.lon, c.lat), 1))
        for c in session.scalars(stmt)
    ]
    near = [c for c in found if c.distance_m <= radius]
    near.sort(key=lambda c: (c.distance_m, c.case.id))
    return near[:limit]
