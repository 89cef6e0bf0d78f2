"""Point → unit grid → community → street → district → city (地理编码).

The grid index is an in-memory cache of the current grid layer, rebuilt when the latest grid
revision changes (one cheap ``max(id)`` query per call tells). The database stays the source of
truth. Input coordinates may be WGS84, GCJ-02 or BD-09; they are converted to WGS84 first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.codes.admin import Level
from gridgov.errors import NotFound, ValidationError
from gridgov.geo.chinacrs import to_wgs84
from gridgov.geo.index import GridIndex
from gridgov.regions.models import Region, UnitGrid
from gridgov.regions.service import current_grid_filter, latest_revision_id

InputCRS = Literal["wgs84", "gcj02", "bd09"]
MAX_BATCH = 100_000


@dataclass
class _Layer:
    revision: int
    index: GridIndex
    grids: dict[int, tuple[str, str, float, int]]  # id → code, name, area, community_id
    regions: dict[int, tuple[str, str, Level, int | None]]  # id → code, name, level, parent_id


_cache: dict[str, _Layer] = {}
_lock = threading.Lock()


def _layer(session: Session) -> _Layer:
    key = str(session.get_bind().engine.url)
    revision = latest_revision_id(session)
    layer = _cache.get(key)
    if layer is not None and layer.revision == revision:
        return layer
    with _lock:
        layer = _cache.get(key)
        if layer is None or layer.revision != revision:
            layer = _build(session, revision)
            _cache[key] = layer
    return layer


def _build(session: Session, revision: int) -> _Layer:
    rows = session.execute(
        current_grid_filter(
            select(
                UnitGrid.id,
                UnitGrid.code,
                UnitGrid.name,
                UnitGrid.area_m2,
                UnitGrid.community_id,
                UnitGrid.geom,
            )
        )
    ).all()
    index = GridIndex([r.geom for r in rows], [r.id for r in rows])
    grids = {r.id: (r.code, r.name, r.area_m2, r.community_id) for r in rows}
    regions = {
        r.id: (r.code, r.name, r.level, r.parent_id)
        for r in session.execute(
            select(Region.id, Region.code, Region.name, Region.level, Region.parent_id)
        )
    }
    return _Layer(revision, index, grids, regions)


def invalidate() -> None:
    """Drop every cached index (tests; an admin's explicit rebuild)."""
    _cache.clear()


def _check_coords(lon: np.ndarray, lat: np.ndarray) -> None:
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        raise ValidationError(
            f"point {int(np.argmax(bad))}: coordinates must be numbers", field="lon/lat"
        )
    out = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if out.any():
        i = int(np.argmax(out))
        hint = (
            " — lat/lon order? coordinates are lon, lat"
            if abs(lat[i]) > 90 and abs(lon[i]) <= 90
            else ""
        )
        raise ValidationError(
            f"point {i}: lon {lon[i]}, lat {lat[i]} out of range{hint}", field="lon/lat"
        )


def _describe(layer: _Layer, grid_id: int, lon: float, lat: float) -> dict[str, Any]:
    code, name, area, community_id = layer.grids[grid_id]
    out: dict[str, Any] = {
        "point": {"lon": round(lon, 7), "lat": round(lat, 7)},
        "grid": {"code": code, "name": name, "area_m2": round(area, 1)},
        "community": None,
        "street": None,
        "district": None,
        "city": None,
    }
    rid: int | None = community_id
    while rid is not None and rid in layer.regions:
        rcode, rname, level, parent = layer.regions[rid]
        out[level.value] = {"code": rcode, "name": rname}
        rid = parent
    return out


def geocode(session: Session, lon: float, lat: float, crs: InputCRS = "wgs84") -> dict[str, Any]:
    """The grid and region hierarchy at a point; NotFound if no grid holds it."""
    xs, ys = np.array([lon], dtype=float), np.array([lat], dtype=float)
    _check_coords(xs, ys)
    if crs != "wgs84":
        xs, ys = (np.asarray(v, dtype=float) for v in to_wgs84(xs, ys, crs))
    layer = _layer(session)
    gid = layer.index.lookup(float(xs[0]), float(ys[0]))
    if gid is None:
        raise NotFound(f"no unit grid at lon {lon}, lat {lat}", code="outside")
    return _describe(layer, gid, float(xs[0]), float(ys[0]))


def geocode_many(
    session: Session, lons: Any, lats: Any, crs: InputCRS = "wgs84"
) -> list[dict[str, Any] | None]:
    """Batch form: one result per point, ``None`` where the point is outside every grid."""
    xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValidationError("lons and lats must be two lists of the same length", field="points")
    if len(xs) > MAX_BATCH:
        raise ValidationError(f"at most {MAX_BATCH} points per request", field="points")
    _check_coords(xs, ys)
    if crs != "wgs84":
        xs, ys = (np.asarray(v, dtype=float) for v in to_wgs84(xs, ys, crs))
    layer = _layer(session)
    ids = layer.index.lookup_many(xs, ys)
    return [
        None if gid < 0 else _describe(layer, int(gid), float(x), float(y))
        for gid, x, y in zip(ids.tolist(), xs.tolist(), ys.tolist(), strict=True)
    ]


def grid_codes_many(session: Session, lons: Any, lats: Any) -> list[str | None]:
    """WGS84 points → grid codes (None outside): the fast path for importers."""
    xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
    layer = _layer(session)
    return [None if g < 0 else layer.grids[int(g)][0] for g in layer.index.lookup_many(xs, ys)]
