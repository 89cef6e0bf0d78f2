"""A patrol's track as GeoJSON and its coverage in unit grids (巡查覆盖).

Coverage says which grids a patrol passed and how long it spent in each. Fixes come every few
seconds to a minute, so a walk can cross a small grid between two fixes: each leg between two
consecutive fixes is sampled every ``STEP_M`` metres and every sample is looked up in the
in-memory grid index (:func:`gridgov.regions.geocode.grid_codes_many`). A leg longer than
``MAX_LEG_M`` or ``MAX_LEG_SECONDS`` (a lost signal, a bus ride) is not sampled and its time is
not counted: the patrol is not assumed to have walked it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from shapely.geometry import LineString
from sqlalchemy.orm import Session

from gridgov.geo.projection import length_m
from gridgov.patrol.models import Patrol, PatrolPosition
from gridgov.regions.geocode import grid_codes_many

STEP_M = 15.0
MAX_LEG_M = 1_000.0
MAX_LEG_SECONDS = 600.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def track_feature(
    patrol: Patrol, positions: Sequence[PatrolPosition], username: str, name: str
) -> dict[str, Any]:
    """The track as a GeoJSON Feature: a LineString of the positions in time order (WGS84),
    ``geometry`` null with fewer than two positions; ``properties.times`` holds each point's
    time (ISO 8601, the same order as the coordinates)."""
    coords = [[p.lon, p.lat] for p in positions]
    geometry = {"type": "LineString", "coordinates": coords} if len(coords) >= 2 else None
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "patrol_id": patrol.id,
            "user_id": patrol.user_id,
            "username": username,
            "name": name,
            "started_at": _iso(patrol.started_at),
            "stopped_at": _iso(patrol.stopped_at),
            "point_count": len(positions),
            "length_m": round(track_length_m(positions), 1),
            "times": [p.at.isoformat() for p in positions],
            "accuracy_m": [p.accuracy_m for p in positions],
        },
    }


def track_length_m(positions: Sequence[PatrolPosition]) -> float:
    """Length of the track in metres (local projected CRS)."""
    if len(positions) < 2:
        return 0.0
    return float(length_m(LineString([(p.lon, p.lat) for p in positions])))


def _leg_m(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    """Approximate leg length in metres (equirectangular; legs are short)."""
    mean_lat = math.radians((lat0 + lat1) / 2)
    dx = (lon1 - lon0) * _M_PER_DEG_LON * math.cos(mean_lat)
    dy = (lat1 - lat0) * _M_PER_DEG_LAT
    return math.hypot(dx, dy)


@dataclass
class GridVisit:
    """One grid the patrol passed: fixes in it, first and last time, seconds spent."""

    grid_code: str
    points: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    seconds: float = 0.0

    def see(self, at: datetime) -> None:
        if self.first_at is None or at < self.first_at:
            self.first_at = at
        if self.last_at is None or at > self.last_at:
            self.last_at = at


def _samples(
    positions: Sequence[PatrolPosition],
) -> tuple[list[float], list[float], list[datetime], list[bool], list[bool]]:
    """Fixes and the samples between them, in time order: lon, lat, time, is-a-fix, and
    whether the leg that starts at the sample counts (short enough in space and time)."""
    lons: list[float] = []
    lats: list[float] = []
    times: list[datetime] = []
    fixes: list[bool] = []
    counts: list[bool] = []
    for a, b in pairwise(positions):
        seconds = (b.at - a.at).total_seconds()
        metres = _leg_m(a.lon, a.lat, b.lon, b.lat)
        ok = seconds <= MAX_LEG_SECONDS and metres <= MAX_LEG_M
        steps = max(1, math.ceil(metres / STEP_M)) if ok else 1
        for k in range(steps):
            f = k / steps
            lons.append(a.lon + (b.lon - a.lon) * f)
            lats.append(a.lat + (b.lat - a.lat) * f)
            times.append(a.at + timedelta(seconds=seconds * f))
            fixes.append(k == 0)
            counts.append(ok)
    if positions:
        last = positions[-1]
        lons.append(last.lon)
        lats.append(last.lat)
        times.append(last.at)
        fixes.append(True)
        counts.append(False)
    return lons, lats, times, fixes, counts


def grid_coverage(session: Session, positions: Sequence[PatrolPosition]) -> dict[str, Any]:
    """Grids passed, in the order first entered, each with its fixes, first/last time and
    seconds spent; the fixes outside every grid; the track length."""
    lons, lats, times, fixes, counts = _samples(positions)
    codes: list[str | None] = []
    if lons:
        codes = grid_codes_many(session, np.array(lons, dtype=float), np.array(lats, dtype=float))
    visits: dict[str, GridVisit] = {}
    outside = 0
    for i, code in enumerate(codes):
        if code is None:
            outside += int(fixes[i])
            continue
        visit = visits.setdefault(code, GridVisit(code))
        visit.see(times[i])
        visit.points += int(fixes[i])
        if counts[i] and i + 1 < len(times):
            visit.seconds += (times[i + 1] - times[i]).total_seconds()
    grids = [
        {
            "grid_code": v.grid_code,
            "points": v.points,
            "first_at": _iso(v.first_at),
            "last_at": _iso(v.last_at),
            "seconds": round(v.seconds, 1),
        }
        for v in visits.values()
    ]
    return {
        "grid_count": len(grids),
        "grids": grids,
        "outside_points": outside,
        "point_count": len(positions),
        "length_m": round(track_length_m(positions), 1),
    }
