"""Gazetteer HTTP API: address search (地址匹配) and its reverse (point → nearest addresses)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from gridgov.accounts.models import Role
from gridgov.deps import OptionalUser, SessionDep
from gridgov.errors import NotFound
from gridgov.gazetteer import service
from gridgov.gazetteer.schemas import (
    AddressMatchRead,
    AddressSearchRead,
    NearbyAddressRead,
    PlaceRef,
    ReverseRead,
)
from gridgov.geo.chinacrs import Crs, to_wgs84
from gridgov.ratelimit import RateLimitRoute, enforce_public
from gridgov.regions import geocode as geocoding

router = APIRouter(tags=["gazetteer"], route_class=RateLimitRoute)

#: The public lookup limiter (shared with the public tracking endpoints) and its setting.
LOOKUP_LIMITER = "public-lookup"
LOOKUP_LIMIT_SETTING = "public_lookups_per_minute"

QueryText = Annotated[
    str,
    Query(description="An address, part of one, or pinyin initials (dsbdj12); 1–100 characters"),
]
Limit = Annotated[int, Query(description="Results wanted, 1–100")]


@router.get("/address/search", response_model=AddressSearchRead)
def search_address(session: SessionDep, q: QueryText = "", limit: Limit = 10) -> AddressSearchRead:
    """Resolve an address to points: exact, prefix, pinyin-initials and fuzzy matches.

    ``q`` may be a full address (北京市东华区东四北大街12号), a partial one, one with typos, or
    pinyin initials (dsbdj12). An empty ``q`` or one longer than 100 characters is refused (422).
    """
    matches = service.search(session, q, limit)
    return AddressSearchRead(
        query=q, results=[AddressMatchRead.model_validate(asdict(m)) for m in matches]
    )


def _limit_public(request: Request, user: OptionalUser) -> None:
    """Anonymous callers and residents count on the shared public lookup limiter (per login
    session or IP address, ``public_lookups_per_minute``); staff are not limited. An app built
    without settings and engine (a bare router in a test) counts nothing."""
    if user is not None and user.role is not Role.RESIDENT:
        return
    settings = getattr(request.app.state, "settings", None)
    if settings is None or getattr(request.app.state, "engine", None) is None:
        return
    enforce_public(request, LOOKUP_LIMITER, int(getattr(settings, LOOKUP_LIMIT_SETTING)))


def _ref(value: dict[str, Any] | None) -> PlaceRef | None:
    return PlaceRef(code=value["code"], name=value["name"]) if value else None


@router.get(
    "/gazetteer/reverse",
    response_model=ReverseRead,
    dependencies=[Depends(_limit_public)],
)
def reverse(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    radius_m: Annotated[
        float, Query(gt=0, le=service.MAX_RADIUS_M, description="Search radius in metres")
    ] = 100.0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_NEARBY)] = 5,
    crs: Crs = "wgs84",
) -> ReverseRead:
    """What is at a point (反向地址匹配): the known addresses (door plates, buildings, places)
    within ``radius_m`` metres, nearest first with their distance, and the unit grid,
    community and street holding the point (null outside every grid). Nothing near is an
    empty ``results`` list, not an error; bad coordinates are 422. Public (the resident's
    report page uses it): anonymous callers and residents are rate limited (429)."""
    found = service.nearby(session, lon, lat, radius_m, limit, crs)
    try:
        where: dict[str, Any] = geocoding.geocode(session, lon, lat, crs)
    except NotFound:
        where = {}
    if "point" in where:
        point = where["point"]
    else:
        x, y = (float(v) for v in to_wgs84(lon, lat, crs)) if crs != "wgs84" else (lon, lat)
        point = {"lon": round(x, 7), "lat": round(y, 7)}
    return ReverseRead(
        point=point,
        radius_m=radius_m,
        grid=_ref(where.get("grid")),
        community=_ref(where.get("community")),
        street=_ref(where.get("street")),
        results=[NearbyAddressRead.model_validate(asdict(n)) for n in found],
    )
