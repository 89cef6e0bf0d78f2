"""HTTP API: the region hierarchy, unit grids, geocoding, and the map's reference layers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from gridgov.codes.admin import Level
from gridgov.deps import SessionDep
from gridgov.errors import ValidationError
from gridgov.geo.geojson import feature_collection
from gridgov.regions import geocode as geocoding
from gridgov.regions import grid_layer, service
from gridgov.regions.map_levels import etag_matches, weak_etag
from gridgov.regions.models import GridSet, GridSetKind, GridSetMember, Region, UnitGrid
from gridgov.registry.models import Building
from gridgov.roads.models import Road

router = APIRouter(tags=["regions"])

GEOJSON = "application/geo+json"
MAX_FEATURES = 20_000

BBoxQuery = Annotated[
    str | None,
    Query(
        description="minx,miny,maxx,maxy in WGS84 lon/lat", examples=["116.38,39.90,116.44,39.95"]
    ),
]


def parse_bbox(text: str | None) -> service.BBox | None:
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise ValidationError(
            "bbox must be four numbers: minx,miny,maxx,maxy", field="bbox"
        ) from None
    if len(parts) != 4:
        raise ValidationError("bbox must be four numbers: minx,miny,maxx,maxy", field="bbox")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(
            "bbox must satisfy -180 ≤ minx ≤ maxx ≤ 180 and -90 ≤ miny ≤ maxy ≤ 90 (lon/lat order)",
            field="bbox",
        )
    return minx, miny, maxx, maxy


def _geojson(body: bytes) -> Response:
    return Response(content=body, media_type=GEOJSON)


def _ref(r: Region | None) -> dict[str, str] | None:
    return None if r is None else {"code": r.code, "name": r.name}


class RegionOut(BaseModel):
    code: str
    name: str
    level: Level
    parent_code: str | None
    area_m2: float
    population: int | None = None
    bbox: list[float]
    children_count: int


@router.get("/regions", response_model=list[RegionOut])
def list_regions(
    session: SessionDep,
    level: Level | None = None,
    parent: Annotated[str | None, Query(description="parent region code")] = None,
    bbox: BBoxQuery = None,
) -> list[dict[str, Any]]:
    """Regions of one level or the children of one region (no geometry)."""
    rows = service.list_regions(session, level=level, parent_code=parent, bbox=parse_bbox(bbox))
    return _region_dicts(session, rows)


def _region_dicts(session: SessionDep, rows: list[Region]) -> list[dict[str, Any]]:
    codes = {r.id: r.code for r in session.execute(select(Region.id, Region.code))}
    counts = dict(
        session.execute(
            select(Region.parent_id, func.count())
            .where(Region.parent_id.in_([r.id for r in rows]))
            .group_by(Region.parent_id)
        ).all()
    )
    return [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level,
            "parent_code": codes.get(r.parent_id) if r.parent_id else None,
            "area_m2": round(r.area_m2, 1),
            "population": r.population,
            "bbox": [r.minx, r.miny, r.maxx, r.maxy],
            "children_count": counts.get(r.id, 0),
        }
        for r in rows
    ]


@router.get(
    "/regions.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}}
)
def regions_geojson(
    session: SessionDep,
    level: Level = Level.DISTRICT,
    parent: str | None = None,
    bbox: BBoxQuery = None,
) -> Response:
    """Region boundaries of one level as GeoJSON."""
    rows = service.list_regions(session, level=level, parent_code=parent, bbox=parse_bbox(bbox))
    codes = {r.id: r.code for r in session.execute(select(Region.id, Region.code))}
    props = [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level.value,
            "parent_code": codes.get(r.parent_id) if r.parent_id else None,
            "area_m2": round(r.area_m2, 1),
        }
        for r in rows
    ]
    return _geojson(feature_collection([r.geom for r in rows], props))


@router.get("/regions/{code}", response_model=RegionOut)
def get_region(session: SessionDep, code: str) -> dict[str, Any]:
    return _region_dicts(session, [service.get_region(session, code)])[0]


@router.get(
    "/grids.geojson",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
    },
)
def grids_geojson(
    request: Request,
    session: SessionDep,
    bbox: BBoxQuery = None,
    region: Annotated[str | None, Query(description="district/street/community code")] = None,
    at: Annotated[
        datetime | None, Query(description="the layout valid at this time (ISO 8601)")
    ] = None,
    zoom: Annotated[
        float | None, Query(ge=0, le=24, description="the map's zoom; chooses the level")
    ] = None,
    level: Annotated[
        Literal["auto", "street", "community", "grid"],
        Query(description="auto (by zoom; unit grids without one), or one level"),
    ] = "auto",
) -> Response:
    """Unit grids by bounding box and/or region, for a map view.

    At ``level=grid`` (zoom ≥ 13, or no zoom): the current unit grids (or those valid at
    ``at``), at most 20,000, from a box at most 1° wide. At ``community`` (zoom 11–13) or
    ``street`` (below 11): one feature per community or street meeting the box, its outline
    simplified for the zoom, with ``grids`` (its current unit grids), ``name`` and
    ``area_m2``. Foreign members: ``level``, ``total`` (unit grids covered), ``bbox``.
    Revalidated by ETag."""
    if at is not None and at.tzinfo is None:
        raise ValidationError(
            "at must carry a time zone, e.g. 2026-11-22T08:00:00+08:00", field="at"
        )
    chosen = grid_layer.level_for(zoom, level)
    if at is not None and chosen != "grid":
        raise ValidationError("at applies to unit grids only (level=grid)", field="at")
    box = parse_bbox(bbox)
    grid_layer.check_bbox(box, chosen)
    token = grid_layer.version(session)
    etag = weak_etag(token, chosen, box, region, at and at.isoformat())
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if chosen == "grid":
        layer = grid_layer.grid_features(session, box, region, at)
    else:
        layer = grid_layer.outline_features(session, chosen, box, region, token)
    return Response(content=layer.body, media_type=GEOJSON, headers=headers)


class GridOut(BaseModel):
    code: str
    name: str
    area_m2: float
    valid_from: datetime
    valid_to: datetime | None
    revision_id: int
    bbox: list[float]
    community: dict[str, str] | None
    street: dict[str, str] | None
    district: dict[str, str] | None
    city: dict[str, str] | None
    supervisor: dict[str, str] | None
    grid_sets: list[dict[str, str | None]]


@router.get("/grids/{code}", response_model=GridOut)
def get_grid(session: SessionDep, code: str, at: datetime | None = None) -> dict[str, Any]:
    """One unit grid with its hierarchy, responsible supervisor and grid sets."""
    g = service.get_grid(session, code, at)
    return _grid_detail(session, g)


def _grid_detail(session: SessionDep, g: UnitGrid) -> dict[str, Any]:
    from gridgov.accounts.models import User

    by_id = service.regions_by_id(session)
    levels = service.ancestors(by_id[g.community_id], by_id)
    sets = session.execute(
        select(GridSet, User)
        .join(GridSetMember, GridSetMember.grid_set_id == GridSet.id)
        .outerjoin(User, User.id == GridSet.assignee_id)
        .where(GridSetMember.grid_code == g.code)
        .order_by(GridSet.kind, GridSet.code)
    ).all()
    supervisor = next(
        (
            {"name": u.name, "username": u.username}
            for s, u in sets
            if s.kind is GridSetKind.RESPONSIBILITY and u is not None
        ),
        None,
    )
    return {
        "code": g.code,
        "name": g.name,
        "area_m2": round(g.area_m2, 1),
        "valid_from": g.valid_from,
        "valid_to": g.valid_to,
        "revision_id": g.revision_id,
        "bbox": [g.minx, g.miny, g.maxx, g.maxy],
        **{lvl.value: _ref(levels.get(lvl)) for lvl in Level},
        "supervisor": supervisor,
        "grid_sets": [
            {"code": s.code, "kind": s.kind.value, "name": s.name, "line_of_work": s.line_of_work}
            for s, _ in sets
        ],
    }


@router.get("/grids/{code}/versions", response_model=list[GridOut])
def grid_versions(session: SessionDep, code: str) -> list[dict[str, Any]]:
    """Every version of a grid code, oldest first."""
    return [_grid_detail(session, g) for g in service.grid_versions(session, code)]


@router.get("/geocode")
def geocode(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    crs: geocoding.InputCRS = "wgs84",
) -> dict[str, Any]:
    """Point → unit grid → community → street → district → city."""
    return geocoding.geocode(session, lon, lat, crs)


class BatchIn(BaseModel):
    points: list[tuple[float, float]] = Field(
        description="[[lon, lat], …]", max_length=geocoding.MAX_BATCH
    )
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"


@router.post("/geocode/batch")
def geocode_batch(session: SessionDep, body: BatchIn) -> dict[str, Any]:
    """Many points at once; ``null`` where a point is outside every grid."""
    lons = [p[0] for p in body.points]
    lats = [p[1] for p in body.points]
    results = geocoding.geocode_many(session, lons, lats, body.crs)
    return {"count": len(results), "outside": sum(r is None for r in results), "results": results}


@router.get("/map/extent")
def map_extent(session: SessionDep) -> dict[str, Any]:
    """Where the map should open: the extent of all districts (or of all grids)."""
    row = session.execute(
        select(
            func.min(Region.minx),
            func.min(Region.miny),
            func.max(Region.maxx),
            func.max(Region.maxy),
        ).where(Region.level == Level.DISTRICT)
    ).one()
    if row[0] is None:
        row = session.execute(
            select(
                func.min(UnitGrid.minx),
                func.min(UnitGrid.miny),
                func.max(UnitGrid.maxx),
                func.max(UnitGrid.maxy),
            )
        ).one()
    if row[0] is None:
        return {"bbox": None, "center": None, "empty": True}
    minx, miny, maxx, maxy = row
    return {
        "bbox": [minx, miny, maxx, maxy],
        "center": [(minx + maxx) / 2, (miny + maxy) / 2],
        "empty": False,
    }


def _layer_geojson(session: SessionDep, model: Any, bbox: str | None, props: Any) -> Response:
    box = parse_bbox(bbox)
    if box is None:
        raise ValidationError("bbox is required for this layer", field="bbox")
    q = select(model)
    q = q.where(
        model.minx <= box[2], model.maxx >= box[0], model.miny <= box[3], model.maxy >= box[1]
    )
    rows = list(session.scalars(q.limit(MAX_FEATURES + 1)))
    if len(rows) > MAX_FEATURES:
        raise ValidationError(
            f"more than {MAX_FEATURES} features in this bbox; zoom in", field="bbox"
        )
    return _geojson(feature_collection([r.geom for r in rows], [props(r) for r in rows]))


@router.get("/roads.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def roads_geojson(session: SessionDep, bbox: BBoxQuery = None) -> Response:
    return _layer_geojson(
        session, Road, bbox, lambda r: {"name": r.name, "road_class": r.road_class.value}
    )


@router.get(
    "/buildings.geojson", response_class=Response, responses={200: {"content": {GEOJSON: {}}}}
)
def buildings_geojson(session: SessionDep, bbox: BBoxQuery = None) -> Response:
    return _layer_geojson(
        session,
        Building,
        bbox,
        lambda b: {"name": b.name, "address": b.address, "floors": b.floors, "use": b.use},
    )


class GridSetOut(BaseModel):
    code: str
    kind: GridSetKind
    name: str
    line_of_work: str | None
    assignee: dict[str, str] | None
    grid_codes: list[str]


@router.get("/grid-sets/{code}", response_model=GridSetOut)
def get_grid_set(session: SessionDep, code: str) -> dict[str, Any]:
    """A professional or responsibility grid with its unit grids and assignee."""
    from gridgov.regions.grid_sets import get_grid_set as load

    gs, members, user = load(session, code)
    return {
        "code": gs.code,
        "kind": gs.kind,
        "name": gs.name,
        "line_of_work": gs.line_of_work,
        "assignee": {"name": user.name, "username": user.username} if user else None,
        "grid_codes": members,
    }
