"""The unit grid layer of the maps (单元网格图层) by view: ``GET /api/grids.geojson``.

A city holds tens of thousands of unit grids (Beijing: 31,681, about 27 MB as GeoJSON), too many
to send a map at once. The map asks for what it shows, a bounding box and a zoom, and gets:

* ``grid`` (zoom ≥ :data:`GRID_ZOOM`, or no zoom): the unit grids in the box (at most
  :data:`MAX_GRIDS`; a box wider than :data:`MAX_GRID_SPAN` degrees is refused);
* ``community`` (zoom ≥ :data:`COMMUNITY_ZOOM`) or ``street`` (below): one feature per community
  or street in the box — its outline simplified for that zoom, its name and ``grids``, the
  number of current unit grids in it (counted by grid-code prefix, :mod:`map_levels`).

The levels and their thresholds work like the components layer's
(:mod:`gridgov.components.mapping`) and share its helpers (:mod:`gridgov.regions.map_levels`).
The simplified outlines with their counts are built once per data version (the grid revision and
the regions) and kept per process; a request only filters them by box. Every answer carries the
version in its ETag, so a map panning back over a box it saw gets a 304.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import orjson
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.codes.admin import Level
from gridgov.errors import ValidationError
from gridgov.geo.geojson import feature_collection
from gridgov.regions import service
from gridgov.regions.map_levels import (
    LRU,
    PREFIX_LENGTH,
    REGION_LEVEL,
    engine_key,
    level_for_zoom,
    regions_version,
)
from gridgov.regions.models import Region, UnitGrid

GridLevel = Literal["street", "community", "grid"]
LEVELS: tuple[GridLevel, ...] = ("street", "community", "grid")

#: Zoom at which each level starts (below COMMUNITY_ZOOM: streets). The map pages draw unit
#: grids from GRID_ZOOM (static/map.js, static/pages/leader_map.js mirror these).
COMMUNITY_ZOOM = 11.0
GRID_ZOOM = 13.0
ZOOM_BANDS = ((GRID_ZOOM, "grid"), (COMMUNITY_ZOOM, "community"), (0.0, "street"))
#: Most unit grids in one answer.
MAX_GRIDS = 20_000
#: Widest box (degrees of longitude or latitude) for unit grids, and for any level.
MAX_GRID_SPAN = 1.0
MAX_SPAN = 20.0
#: Outline simplification (degrees; ≈ half a screen pixel at the top of the level's zooms)
#: and the precision outlines are written with.
TOLERANCE = {"street": 1e-4, "community": 2.5e-5}
PRECISION = 1e-6

BBox = tuple[float, float, float, float]

_outlines = LRU(8)  # (engine, level, version) → [_Outline]


def invalidate() -> None:
    """Drop the cached outlines (tests)."""
    _outlines.clear()


def level_for(zoom: float | None, level: str = "auto") -> GridLevel:
    """The level to answer: ``level`` when given, else by ``zoom`` (unit grids without one)."""
    if level != "auto":
        return level  # type: ignore[return-value]
    return level_for_zoom(zoom, ZOOM_BANDS, "grid")  # type: ignore[return-value]


def check_bbox(box: BBox | None, level: GridLevel) -> None:
    """Refuse a box too wide for the level (the parameter named in the 422)."""
    if box is None:
        return
    span = max(box[2] - box[0], box[3] - box[1])
    limit = MAX_GRID_SPAN if level == "grid" else MAX_SPAN
    if span > limit:
        raise ValidationError(
            f"bbox spans {span:.3g}°, more than {limit:g}° allowed for the {level} level; "
            "zoom in, or ask for a coarser level (zoom=…, level=community|street)",
            field="bbox",
        )


def version(session: Session) -> str:
    """What the layer depends on: the grid revision and the regions (the ETag's base)."""
    return repr((service.latest_revision_id(session), regions_version(session)))


@dataclass(frozen=True)
class Layer:
    """One answer: its level, the unit grids it covers and the GeoJSON document."""

    level: GridLevel
    total: int
    features: int
    body: bytes


def _document(level: GridLevel, total: int, box: BBox | None, parts: list[bytes]) -> bytes:
    head = orjson.dumps(
        {
            "type": "FeatureCollection",
            "level": level,
            "total": total,
            "bbox": [round(v, 7) for v in box] if box else None,
        }
    )
    return head[:-1] + b',"features":[' + b",".join(parts) + b"]}"


def grid_features(
    session: Session,
    box: BBox | None,
    region: str | None,
    at: datetime | None,
) -> Layer:
    """The unit grids in ``box`` and/or ``region`` (valid at ``at``, else current)."""
    rows = service.list_grids(session, bbox=box, region_code=region, at=at, limit=MAX_GRIDS + 1)
    if len(rows) > MAX_GRIDS:
        raise ValidationError(
            f"more than {MAX_GRIDS} grids match; narrow the bbox, choose a region, "
            "or send zoom=… for counts per community or street",
            field="bbox",
        )
    comm = dict(
        session.execute(select(Region.id, Region.code).where(Region.level == Level.COMMUNITY)).all()
    )
    props = [
        {
            "code": g.code,
            "name": g.name,
            "community_code": comm.get(g.community_id),
            "area_m2": round(g.area_m2, 1),
        }
        for g in rows
    ]
    fc = feature_collection([g.geom for g in rows], props)
    start = fc.index(b"[") + 1
    body = fc[start:-2]
    parts = [body] if body else []
    return Layer("grid", len(rows), len(rows), _document("grid", len(rows), box, parts))


@dataclass(frozen=True)
class _Outline:
    code: str
    grids: int
    bbox: BBox
    feature: bytes
    geom: Any  # the full outline (shapely), for the box test after the bbox prefilter


def _grid_counts(session: Session, level: GridLevel) -> dict[str, int]:
    prefix = func.substr(UnitGrid.code, 1, PREFIX_LENGTH[level])
    stmt = service.current_grid_filter(select(prefix, func.count())).group_by(prefix)
    return {str(code): int(n) for code, n in session.execute(stmt)}


def outlines(session: Session, level: GridLevel, token: str) -> list[_Outline]:
    """Every street or community: simplified outline, name and unit grid count, as GeoJSON
    features (cached per data version; shared: do not change it)."""
    key = (engine_key(session), level, token)
    cached = _outlines.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    rows = session.execute(
        select(
            Region.code,
            Region.name,
            Region.area_m2,
            Region.geom,
            Region.minx,
            Region.miny,
            Region.maxx,
            Region.maxy,
        )
        .where(Region.level == REGION_LEVEL[level])
        .order_by(Region.code)
    ).all()
    counts = _grid_counts(session, level)
    out: list[_Outline] = []
    if rows:
        geoms = shapely.simplify(
            np.asarray([r.geom for r in rows], dtype=object),
            TOLERANCE[level],
            preserve_topology=True,
        )
        geoms = shapely.set_precision(geoms, PRECISION, mode="pointwise")
        for r, text in zip(rows, shapely.to_geojson(geoms), strict=True):
            grids = counts.get(r.code, 0)
            props = {
                "level": level,
                "code": r.code,
                "name": r.name,
                "grids": grids,
                "area_m2": round(r.area_m2, 1),
            }
            feature = (
                b'{"type":"Feature","geometry":'
                + text.encode()
                + b',"properties":'
                + orjson.dumps(props)
                + b"}"
            )
            out.append(_Outline(r.code, grids, (r.minx, r.miny, r.maxx, r.maxy), feature, r.geom))
    _outlines.put(key, out)
    return out


def _prefixes(session: Session, region: str) -> tuple[str, ...]:
    """Code prefixes of the streets or communities inside ``region`` (a city: its districts)."""
    r = service.get_region(session, region)
    if r.level is Level.CITY:
        return tuple(c.code for c in service.list_regions(session, parent_code=r.code)) or ("-",)
    return (r.code,)


def _meets(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and a[2] >= b[0] and a[1] <= b[3] and a[3] >= b[1]


def _touching(candidates: list[_Outline], box: BBox) -> list[_Outline]:
    """The outlines among ``candidates`` (their bboxes meet ``box``) whose area touches
    ``box``: an irregular street or community can hold a box in its bbox but not in itself."""
    if not candidates:
        return candidates
    hits = shapely.intersects(
        np.asarray([o.geom for o in candidates], dtype=object), shapely.box(*box)
    )
    return [o for o, hit in zip(candidates, hits, strict=True) if hit]


def outline_features(
    session: Session, level: GridLevel, box: BBox | None, region: str | None, token: str
) -> Layer:
    """The streets or communities (inside ``region``) that touch ``box``: a map view or tile
    gets only what it shows, at any scale."""
    prefixes = _prefixes(session, region) if region else ("",)
    chosen = [
        o
        for o in outlines(session, level, token)
        if o.code.startswith(prefixes) and (box is None or _meets(o.bbox, box))
    ]
    if box is not None:
        chosen = _touching(chosen, box)
    total = sum(o.grids for o in chosen)
    body = _document(level, total, box, [o.feature for o in chosen])
    return Layer(level, total, len(chosen), body)
