"""Components on the map (部件图层): counts per street, community or unit grid at low zoom, the
components themselves as points at high zoom.

A district holds ~160,000 components; sending them one by one to a map showing the whole district
costs megabytes and freezes the browser. So the map asks for a bounding box and a zoom, and gets:

* **aggregates** (``street``, ``community``, ``grid``): one point per region or unit grid whose
  representative point (inside its polygon) lies in the bbox, with the count of its components,
  the count per major class (大类) and per state, and ``not_intact`` (破损/丢失/占用/废弃);
* **points** (``points``): the components in the bbox, each with its id, subclass, major class
  and state, at most ``limit`` of them (``truncated`` says when more exist; non-intact ones and an
  even spread over subclasses come first).

The level follows the zoom (:func:`level_for_zoom`); a view holding few components gets points at
any zoom, and a view holding too many groups for its level gets the next coarser one.

The per-grid counts of the whole table are one ``GROUP BY`` (grid, major class, state), kept in
memory per jurisdiction: panning and zooming only filter them. Every component created, imported
or changed in state adds a ``component_state_event`` row; the rows added since are applied to the
kept counts (a state change moves one count) instead of counting again, when the table counts
prove nothing else changed. The data version (:func:`data_version`: those counts, the grid
revision, the regions, the taxonomy's names) is also the HTTP ETag. Components are points: their
``minx``/``miny`` bbox columns (both indexed) are their lon/lat, so a bbox filter is two indexed
ranges (no migration needed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import shapely
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gridgov.accounts.scope import Scope, filter_by_scope
from gridgov.components.models import Component, ComponentState, ComponentStateEvent
from gridgov.geo.files import BBox
from gridgov.regions.map_levels import (
    LRU,
    PREFIX_LENGTH,
    REGION_LEVEL,
    engine_key,
    regions_version,
)
from gridgov.regions.map_levels import (
    level_for_zoom as _level_for_zoom,
)
from gridgov.regions.models import Region, UnitGrid
from gridgov.regions.service import current_grid_filter, latest_revision_id
from gridgov.taxonomy.models import Kind, Subclass, TaxonomyClass

MapLevel = Literal["street", "community", "grid", "points"]
AGGREGATE_LEVELS: tuple[MapLevel, ...] = ("street", "community", "grid")

#: Zoom at which each level starts (below COMMUNITY_ZOOM: streets).
COMMUNITY_ZOOM = 12.0
GRID_ZOOM = 14.0
POINT_ZOOM = 17.0
#: A view with at most this many components gets points at any zoom.
AUTO_POINTS = 1500
#: A view with more groups than this at its level gets the next coarser level (auto only).
MAX_GROUPS = 5000
DEFAULT_POINTS = 5000
MAX_POINTS = 20_000
#: Entries of each per-process cache (counts per jurisdiction, features, representative points).
CACHE_SIZE = 32

STATE_ORDER = tuple(s.value for s in ComponentState)
NOT_INTACT = tuple(s.value for s in ComponentState if s is not ComponentState.INTACT)


# --------------------------------------------------------------------------- version


@dataclass(frozen=True)
class Names:
    """Component major classes (code → name) and subclasses (code → name)."""

    classes: dict[str, str]
    subclasses: dict[str, str]


def _names(session: Session) -> Names:
    classes = dict(
        session.execute(
            select(TaxonomyClass.code, TaxonomyClass.name)
            .where(TaxonomyClass.kind == Kind.COMPONENT)
            .order_by(TaxonomyClass.sort_order, TaxonomyClass.code)
        ).all()
    )
    subclasses = dict(
        session.execute(
            select(Subclass.code, Subclass.name).where(Subclass.kind == Kind.COMPONENT)
        ).all()
    )
    return Names(classes, subclasses)


@dataclass(frozen=True)
class Version:
    """What the layer's answer depends on, read with a few cheap queries.

    ``components``: the number of components, of state-history rows and the newest row's id
    (creation, import and every state change add a row; a deletion changes the counts).
    ``grids``: the grid revision. ``regions``: the streets' and communities' count, newest id and
    total area (an in-place region re-import changes the area). ``names``: a digest of the
    component taxonomy's names.
    """

    components: tuple[int, int, int]
    grids: int
    regions: tuple[Any, ...]
    names: str

    @property
    def token(self) -> str:
        """A short token that changes whenever any part changes (the HTTP ETag's base)."""
        text = repr((self.components, self.grids, self.regions, self.names))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def _component_counts(session: Session) -> tuple[int, int, int]:
    row = session.execute(
        select(
            select(func.count()).select_from(Component).scalar_subquery(),
            select(func.count()).select_from(ComponentStateEvent).scalar_subquery(),
            select(func.max(ComponentStateEvent.id)).scalar_subquery(),
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def data_version(session: Session, names: Names | None = None) -> Version:
    """The current :class:`Version` of the layer's data."""
    regions = regions_version(session)
    names = names or _names(session)
    digest = hashlib.sha1(
        repr((sorted(names.classes.items()), sorted(names.subclasses.items()))).encode(),
        usedforsecurity=False,
    ).hexdigest()[:16]
    return Version(
        components=_component_counts(session),
        grids=latest_revision_id(session),
        regions=regions,
        names=digest,
    )


# --------------------------------------------------------------------------- caches


_groups = LRU(CACHE_SIZE)  # (engine, scope) → the latest _Counts
_features = LRU(CACHE_SIZE)  # (engine, scope, versions, level) → features with their points
_places = LRU(CACHE_SIZE)  # (engine, level, grid revision or region version) → places


def invalidate() -> None:
    """Drop every cached aggregate and representative point (tests)."""
    _groups.clear()
    _features.clear()
    _places.clear()


# --------------------------------------------------------------------------- aggregates


@dataclass
class Group:
    """The components of one grid (or region): counts, and the sum of their positions."""

    count: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    sum_lon: float = 0.0
    sum_lat: float = 0.0

    def add(self, major: str, state: str, n: int, sum_lon: float, sum_lat: float) -> None:
        self.count += n
        self.classes[major] = self.classes.get(major, 0) + n
        self.states[state] = self.states.get(state, 0) + n
        self.sum_lon += sum_lon
        self.sum_lat += sum_lat

    def merge(self, other: Group) -> None:
        self.count += other.count
        for k, n in other.classes.items():
            self.classes[k] = self.classes.get(k, 0) + n
        for k, n in other.states.items():
            self.states[k] = self.states.get(k, 0) + n
        self.sum_lon += other.sum_lon
        self.sum_lat += other.sum_lat

    def move(self, from_state: str, to_state: str) -> None:
        """One component changed state."""
        left = self.states.get(from_state, 0) - 1
        if left > 0:
            self.states[from_state] = left
        else:
            self.states.pop(from_state, None)
        self.states[to_state] = self.states.get(to_state, 0) + 1

    def copy(self) -> Group:
        return Group(self.count, dict(self.classes), dict(self.states), self.sum_lon, self.sum_lat)

    @property
    def not_intact(self) -> int:
        return sum(self.states.get(s, 0) for s in NOT_INTACT)

    @property
    def mean_point(self) -> tuple[float, float]:
        return self.sum_lon / self.count, self.sum_lat / self.count


@dataclass(frozen=True)
class _Counts:
    """The grid groups of one scope as of ``components`` (see :class:`Version`); the dict and
    its groups are never changed once stored (a delta copies what it touches)."""

    components: tuple[int, int, int]
    groups: dict[str, Group]


def grid_groups(session: Session, scope: Scope, version: Version) -> dict[str, Group]:
    """Every unit grid code holding components in ``scope`` → its :class:`Group`.

    One GROUP BY (grid, major class, state) over the whole table, kept per scope. When the
    components changed since, the new state-history rows are applied to a copy instead (a
    state change moves one count), provided the counts prove those rows are all that changed
    (no deletion, no row committed late under an older id); otherwise the GROUP BY runs again.
    The result is shared: do not change it.
    """
    key = (engine_key(session), scope)
    cached: _Counts | None = _groups.get(key)
    if cached is not None and cached.components == version.components:
        return cached.groups
    if cached is not None:
        updated = _apply_new_events(session, scope, cached, version)
        if updated is not None:
            _groups.put(key, updated)
            return updated.groups
    groups = _group_all(session, scope)
    # Cache only when nothing changed while the GROUP BY ran (its snapshot lies in between).
    if _component_counts(session) == version.components:
        _groups.put(key, _Counts(version.components, groups))
    return groups


def _group_all(session: Session, scope: Scope) -> dict[str, Group]:
    major = func.substr(Component.subclass_code, 1, 2)
    stmt = select(
        Component.grid_code,
        major,
        Component.state,
        func.count(),
        func.sum(Component.minx),
        func.sum(Component.miny),
    ).group_by(Component.grid_code, major, Component.state)
    if not scope.all:
        stmt = filter_by_scope(stmt, scope, Component.grid_code, Component.owner_dept_code)
    groups: dict[str, Group] = {}
    for code, major_code, state, n, sx, sy in session.execute(stmt):
        groups.setdefault(code, Group()).add(
            str(major_code), _state(state), int(n), float(sx), float(sy)
        )
    return groups


#: More new state-history rows than this: run the GROUP BY again instead.
MAX_DELTA = 5000


def _apply_new_events(
    session: Session, scope: Scope, cached: _Counts, version: Version
) -> _Counts | None:
    """``cached`` moved forward to ``version`` by its new state-history rows, or None when the
    counts do not add up (then only a new GROUP BY is right)."""
    old_components, old_events, old_last = cached.components
    new_components, new_events, new_last = version.components
    added = new_events - old_events
    if new_last < old_last or not 0 <= added <= MAX_DELTA:
        return None
    rows = session.execute(
        select(
            ComponentStateEvent.from_state,
            ComponentStateEvent.to_state,
            Component.grid_code,
            Component.subclass_code,
            Component.owner_dept_code,
            Component.minx,
            Component.miny,
        )
        .join(Component, Component.id == ComponentStateEvent.component_id)
        .where(ComponentStateEvent.id > old_last, ComponentStateEvent.id <= new_last)
        .order_by(ComponentStateEvent.id)
    ).all()
    created = sum(1 for r in rows if r.from_state is None)
    if len(rows) != added or old_components + created != new_components:
        return None
    groups = dict(cached.groups)
    copied: set[str] = set()
    for r in rows:
        if not (scope.covers_grid(r.grid_code) or scope.covers_department(r.owner_dept_code)):
            continue
        if r.grid_code not in copied:
            groups[r.grid_code] = groups[r.grid_code].copy() if r.grid_code in groups else Group()
            copied.add(r.grid_code)
        g = groups[r.grid_code]
        if r.from_state is None:
            g.add(r.subclass_code[:2], _state(r.to_state), 1, float(r.minx), float(r.miny))
        else:
            g.move(_state(r.from_state), _state(r.to_state))
    return _Counts(version.components, groups)


def _state(value: Any) -> str:
    return value.value if isinstance(value, ComponentState) else str(value)


@dataclass(frozen=True)
class Place:
    """Where a group is drawn (a point inside its polygon) and its name."""

    lon: float
    lat: float
    name: str


def places(session: Session, level: MapLevel, version: Version) -> dict[str, Place]:
    """Code → representative point and name of every current unit grid, community or street
    (``shapely.point_on_surface``: always inside the polygon; cached per grid revision or
    region version)."""
    key = (engine_key(session), level, version.grids if level == "grid" else version.regions)
    cached = _places.get(key)
    if cached is not None:
        return dict(cached)
    if level == "grid":
        rows = session.execute(
            current_grid_filter(select(UnitGrid.code, UnitGrid.name, UnitGrid.geom))
        ).all()
    else:
        region_level = REGION_LEVEL[level]
        rows = session.execute(
            select(Region.code, Region.name, Region.geom).where(Region.level == region_level)
        ).all()
    out: dict[str, Place] = {}
    if rows:
        points = shapely.point_on_surface(np.asarray([r[2] for r in rows], dtype=object))
        xs, ys = shapely.get_x(points), shapely.get_y(points)
        for (code, name, _), x, y in zip(rows, xs.tolist(), ys.tolist(), strict=True):
            if np.isfinite(x) and np.isfinite(y):
                out[code] = Place(x, y, name or "")
    _places.put(key, out)
    return dict(out)


def roll_up(groups: Mapping[str, Group], level: MapLevel) -> dict[str, Group]:
    """Grid groups summed per street or community (by grid-code prefix); grids unchanged."""
    if level == "grid":
        return dict(groups)
    n = PREFIX_LENGTH[level]
    out: dict[str, Group] = {}
    for code, g in groups.items():
        out.setdefault(code[:n], Group()).merge(g)
    return out


def _inside(lon: float, lat: float, bbox: BBox) -> bool:
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def level_features(
    session: Session, scope: Scope, version: Version, level: MapLevel
) -> list[dict[str, Any]]:
    """One GeoJSON point feature per group of ``level`` (street, community or grid) in
    ``scope``, biggest first (cached per version; shared: do not change it). A group whose code
    has no current place (a retired grid) is drawn at its components' mean point."""
    key = (engine_key(session), scope, version.components, version.grids, version.regions, level)
    cached = _features.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    where = places(session, level, version)
    features = []
    for code, g in roll_up(grid_groups(session, scope, version), level).items():
        place = where.get(code)
        lon, lat = (place.lon, place.lat) if place else g.mean_point
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {
                    "level": level,
                    "code": code,
                    "name": place.name if place else "",
                    "count": g.count,
                    "not_intact": g.not_intact,
                    "classes": dict(sorted(g.classes.items())),
                    "states": {s: g.states[s] for s in STATE_ORDER if s in g.states},
                },
            }
        )
    features.sort(key=lambda f: (-f["properties"]["count"], f["properties"]["code"]))
    _features.put(key, features)
    return features


def aggregate_features(
    session: Session, scope: Scope, version: Version, level: MapLevel, bbox: BBox
) -> list[dict[str, Any]]:
    """The features of :func:`level_features` whose point lies in ``bbox``."""
    return [
        f
        for f in level_features(session, scope, version, level)
        if _inside(*f["geometry"]["coordinates"], bbox)
    ]


# --------------------------------------------------------------------------- points


def _in_bbox(stmt: Any, bbox: BBox) -> Any:
    # Components are points: minx/miny are lon/lat (two indexed ranges).
    minx, miny, maxx, maxy = bbox
    return stmt.where(
        Component.minx >= minx,
        Component.minx <= maxx,
        Component.miny >= miny,
        Component.miny <= maxy,
    )


def point_features(
    session: Session, scope: Scope, bbox: BBox, limit: int, names: Names
) -> tuple[list[dict[str, Any]], int]:
    """The components in ``bbox`` as GeoJSON points (at most ``limit``) and how many there are.

    When there are more, the non-intact ones come first, then the lowest serials of every
    subclass (so every kind of component is represented, spread over the area)."""
    count_stmt = _in_bbox(select(func.count()).select_from(Component), bbox)
    rows_stmt = _in_bbox(
        select(
            Component.id,
            Component.subclass_code,
            Component.state,
            Component.minx,
            Component.miny,
        ),
        bbox,
    )
    if not scope.all:
        columns = (Component.grid_code, Component.owner_dept_code)
        count_stmt = filter_by_scope(count_stmt, scope, *columns)
        rows_stmt = filter_by_scope(rows_stmt, scope, *columns)
    total = int(session.scalar(count_stmt) or 0)
    if total > limit:
        rows_stmt = rows_stmt.order_by(
            case((Component.state == ComponentState.INTACT, 1), else_=0),
            func.substr(Component.id, 11, 6),
            Component.id,
        )
    else:
        rows_stmt = rows_stmt.order_by(Component.id)
    features = []
    for cid, sub, state, lon, lat in session.execute(rows_stmt.limit(limit)):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {
                    "id": cid,
                    "subclass": sub,
                    "subclass_name": names.subclasses.get(sub, ""),
                    "major": sub[:2],
                    "state": _state(state),
                },
            }
        )
    return features, total


# --------------------------------------------------------------------------- the layer


#: Where each level starts, finest first (below COMMUNITY_ZOOM: streets).
ZOOM_BANDS = (
    (POINT_ZOOM, "points"),
    (GRID_ZOOM, "grid"),
    (COMMUNITY_ZOOM, "community"),
    (0.0, "street"),
)


def level_for_zoom(zoom: float | None) -> MapLevel:
    """The level drawn at a zoom: streets, communities, unit grids, then points."""
    return _level_for_zoom(zoom, ZOOM_BANDS, "grid")  # type: ignore[return-value]


def component_layer(
    session: Session,
    scope: Scope,
    bbox: BBox,
    *,
    zoom: float | None = None,
    level: MapLevel | Literal["auto"] = "auto",
    limit: int = DEFAULT_POINTS,
    version: Version | None = None,
) -> dict[str, Any]:
    """The components layer for a view, as a GeoJSON FeatureCollection (a dict).

    ``level="auto"`` follows ``zoom`` (:func:`level_for_zoom`), takes points when the view holds
    at most :data:`AUTO_POINTS` components and a coarser level when it holds more than
    :data:`MAX_GROUPS` groups. Foreign members: ``level``, ``total`` (components in the view),
    ``truncated`` and ``limit`` (points), ``max`` (the biggest group, for circle sizes),
    ``classes`` (major class names) and ``version``.
    """
    names = _names(session)
    version = version or data_version(session, names)
    limit = max(1, min(int(limit), MAX_POINTS))
    chosen: MapLevel = level_for_zoom(zoom) if level == "auto" else level
    features: list[dict[str, Any]] = []
    total = 0
    if chosen != "points":
        finest_first = AGGREGATE_LEVELS[: AGGREGATE_LEVELS.index(chosen) + 1][::-1]
        for candidate in finest_first:  # coarser while there are too many groups (auto)
            chosen = candidate
            features = aggregate_features(session, scope, version, candidate, bbox)
            if level != "auto" or len(features) <= MAX_GROUPS:
                break
        total = sum(f["properties"]["count"] for f in features)
        if level == "auto" and total <= AUTO_POINTS:
            chosen = "points"
    truncated = False
    if chosen == "points":
        features, total = point_features(session, scope, bbox, limit, names)
        truncated = total > len(features)
    return {
        "type": "FeatureCollection",
        "level": chosen,
        "total": total,
        "truncated": truncated,
        "limit": limit if chosen == "points" else None,
        "max": max((f["properties"].get("count", 1) for f in features), default=0),
        "bbox": [round(v, 7) for v in bbox],
        "classes": names.classes,
        "version": version.token,
        "features": features,
    }
