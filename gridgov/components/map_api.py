"""HTTP API of the components map layer (部件图层): ``GET /api/map/components.geojson``.

Thin: any logged-in staff member (components are public infrastructure, but like the component
list they stay behind the login) over their jurisdiction; the work is in
:mod:`gridgov.components.mapping`. The answer is revalidated by ETag (the data version, the
caller's jurisdiction and the query): a map panning back and forth, or reloading, gets 304s.
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from gridgov.accounts.permissions import ANY_STAFF, authorize
from gridgov.accounts.scope import scope_of
from gridgov.components import mapping
from gridgov.deps import CurrentUser, SessionDep
from gridgov.errors import ValidationError
from gridgov.regions.api import GEOJSON, parse_bbox
from gridgov.regions.map_levels import etag_matches, weak_etag

router = APIRouter(tags=["components"])

CACHE_CONTROL = "private, no-cache"
VARY = "Authorization, Cookie"


@router.get(
    "/map/components.geojson",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "a GeoJSON FeatureCollection of points"},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
    },
)
def components_layer(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    bbox: Annotated[
        str | None,
        Query(
            description="the view: minx,miny,maxx,maxy in WGS84 lon/lat (required)",
            examples=["116.38,39.90,116.44,39.95"],
        ),
    ] = None,
    zoom: Annotated[
        float | None, Query(ge=0, le=24, description="the map's zoom; chooses the level")
    ] = None,
    level: Annotated[
        Literal["auto", "street", "community", "grid", "points"],
        Query(description="auto (by zoom and count), or one level"),
    ] = "auto",
    limit: Annotated[
        int, Query(ge=1, le=mapping.MAX_POINTS, description="most points (points level)")
    ] = mapping.DEFAULT_POINTS,
) -> Response:
    """Components in a view: at low zoom one point per street (zoom < 12), community (< 14) or
    unit grid (< 17) with ``count``, ``not_intact``, counts per major class (``classes``) and
    per state (``states``); at zoom ≥ 17, or when the view holds at most 1,500 components, the
    components themselves (``id``, ``subclass``, ``subclass_name``, ``major``, ``state``), at
    most ``limit``, with ``truncated`` when more exist. Foreign members of the collection:
    ``level``, ``total``, ``truncated``, ``limit``, ``max``, ``classes`` (major class names),
    ``version``."""
    authorize(user, ANY_STAFF, action="see the components map layer")
    box = parse_bbox(bbox)
    if box is None:
        raise ValidationError("bbox is required: minx,miny,maxx,maxy (lon/lat)", field="bbox")
    scope = scope_of(session, user)
    version = mapping.data_version(session)
    # Sorted: a frozenset's order differs between worker processes (string hashing).
    who = (scope.all, *(sorted(x) for x in (scope.prefixes, scope.grids, scope.departments)))
    etag = weak_etag(version.token, who, box, zoom, level, limit)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": VARY}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = mapping.component_layer(
        session, scope, box, zoom=zoom, level=level, limit=limit, version=version
    )
    return Response(orjson.dumps(body), media_type=GEOJSON, headers=headers)
