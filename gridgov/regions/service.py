"""Regions (行政区划) and versioned unit grids (单元网格): validation, storage, queries.

Every write validates the whole batch first and writes nothing when anything is wrong; the
error lists every problem with where it is (feature number, codes, area, a point).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from gridgov import revisions
from gridgov.codes.admin import PARENT_LEVEL, Level, parse_region_code
from gridgov.codes.grid import format_grid_code, parse_grid_code
from gridgov.db import utcnow
from gridgov.errors import ImportRejected, NotFound, ValidationError
from gridgov.geo.division import reading_order
from gridgov.geo.projection import area_m2
from gridgov.geo.topology import Problem, check_tiling, geometry_problem
from gridgov.regions.models import GridRevision, Region, UnitGrid
from gridgov.regions.schemas import GridIn, RegionIn

BBox = tuple[float, float, float, float]


def _reject(what: str, problems: list[Problem]) -> ImportRejected:
    n = len(problems)
    first = problems[0].message
    return ImportRejected(
        f"{what} refused: {n} problem{'s' if n > 1 else ''}; first: {first}",
        [p.to_dict() for p in problems],
    )


def _as_polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Single-part multipolygons (common in shapefiles) become plain polygons."""
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


# --------------------------------------------------------------------------- regions


def import_regions(
    session: Session, items: Sequence[RegionIn], *, tolerance_m2: float = 1.0
) -> list[Region]:
    """Create or update regions; parents before children. All-or-nothing."""
    problems: list[Problem] = []
    parsed: list[tuple[RegionIn, Level]] = []
    seen: set[str] = set()
    for item in items:
        where = {"codes": [str(item.code)], "feature": item.feature}
        try:
            rc = parse_region_code(item.code, item.level)
        except ValidationError as e:
            problems.append(Problem("bad_code", e.message, **where))
            continue
        if rc.code in seen:
            problems.append(Problem("duplicate_code", f"region {rc.code} appears twice", **where))
            continue
        seen.add(rc.code)
        if not (item.name or "").strip():
            problems.append(Problem("missing_name", f"region {rc.code} has no name", **where))
        item.geom = _as_polygonal(item.geom) if item.geom is not None else None
        gp = geometry_problem(item.geom, code=rc.code, feature=item.feature)
        if gp:
            problems.append(gp)
        item.code = rc.code
        parsed.append((item, rc.level))
    if problems:
        raise _reject("region import", problems)

    existing = {
        r.code: r
        for r in session.scalars(select(Region).where(Region.code.in_([i.code for i, _ in parsed])))
    }
    batch = {i.code: (i, lvl) for i, lvl in parsed}
    parent_of: dict[str, str | None] = {}
    for item, lvl in parsed:
        pc = item.parent_code or parse_region_code(item.code, lvl).parent_code
        if lvl is Level.CITY:
            pc = None
        if pc is None and lvl is not Level.CITY and lvl is not Level.DISTRICT:
            pc = item.code[:6]
        if pc is not None:
            plevel = batch[pc][1] if pc in batch else _level_in_db(session, pc)
            if plevel is None:
                problems.append(
                    Problem(
                        "unknown_parent",
                        f"region {item.code}: parent {pc} does not exist",
                        [item.code, pc],
                        item.feature,
                    )
                )
            elif plevel is not PARENT_LEVEL[lvl]:
                problems.append(
                    Problem(
                        "bad_parent",
                        f"region {item.code} ({lvl}) cannot be inside {pc} ({plevel})",
                        [item.code, pc],
                        item.feature,
                    )
                )
        parent_of[item.code] = pc
    if problems:
        raise _reject("region import", problems)

    problems = _check_region_tiling(session, parsed, parent_of, tolerance_m2)
    if problems:
        raise _reject("region import", problems)

    order = sorted(
        parsed,
        key=lambda p: [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY].index(p[1]),
    )
    ids: dict[str, int] = {}
    out: list[Region] = []
    for item, lvl in order:
        region = existing.get(item.code) or Region(code=item.code)
        region.level = lvl
        region.name = item.name.strip()
        region.set_geometry(item.geom)  # type: ignore[arg-type]
        region.area_m2 = float(area_m2(item.geom))
        region.population = item.population
        pc = parent_of[item.code]
        region.parent_id = ids.get(pc) if pc in ids else (_id_of(session, pc) if pc else None)
        session.add(region)
        session.flush()
        ids[item.code] = region.id
        out.append(region)
    return out


def _level_in_db(session: Session, code: str) -> Level | None:
    return session.scalar(select(Region.level).where(Region.code == code))


def _id_of(session: Session, code: str) -> int | None:
    return session.scalar(select(Region.id).where(Region.code == code))


def _check_region_tiling(
    session: Session,
    parsed: list[tuple[RegionIn, Level]],
    parent_of: dict[str, str | None],
    tolerance_m2: float,
) -> list[Problem]:
    """Children inside their parent and not overlapping their siblings (gaps are allowed:
    a city may load its communities street by street)."""
    incoming = {i.code: i for i, _ in parsed}
    parents = {pc for pc in parent_of.values() if pc}
    if not parents:
        return []
    parent_geoms: list[tuple[str, BaseGeometry]] = []
    for pc in parents:
        geom = incoming[pc].geom if pc in incoming else _geom_of(session, pc)
        if geom is not None:
            parent_geoms.append((pc, geom))
    # One check per level: a street and the district holding it are not an overlap.
    by_level: dict[Level, tuple[list[tuple[str, str, BaseGeometry]], list[int | None]]] = {}
    parent_ids = {
        r.id: r.code for r in session.scalars(select(Region).where(Region.code.in_(parents)))
    }
    if parent_ids:
        for r in session.scalars(select(Region).where(Region.parent_id.in_(parent_ids))):
            if r.code not in incoming:
                kids, feats = by_level.setdefault(r.level, ([], []))
                kids.append((r.code, parent_ids[r.parent_id], r.geom))  # type: ignore[index]
                feats.append(None)
    levels = {i.code: lvl for i, lvl in parsed}
    for code, pc in parent_of.items():
        if pc:
            kids, feats = by_level.setdefault(levels[code], ([], []))
            kids.append((code, pc, incoming[code].geom))  # type: ignore[arg-type]
            feats.append(incoming[code].feature)
    problems: list[Problem] = []
    for kids, feats in by_level.values():
        problems += check_tiling(
            parent_geoms,
            kids,
            tolerance_m2=tolerance_m2,
            child_label="region",
            feature_numbers=feats,
            check_gaps=False,
        )
    return problems


def _geom_of(session: Session, code: str) -> BaseGeometry | None:
    return session.scalar(select(Region.geom).where(Region.code == code))


def get_region(session: Session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise NotFound(f"region {code} does not exist", code="unknown_region", field="code")
    return region


def list_regions(
    session: Session,
    *,
    level: Level | None = None,
    parent_code: str | None = None,
    bbox: BBox | None = None,
    limit: int | None = None,
) -> list[Region]:
    q = select(Region).order_by(Region.code)
    if level:
        q = q.where(Region.level == level)
    if parent_code:
        q = q.where(Region.parent_id == get_region(session, parent_code).id)
    if bbox:
        q = _bbox_filter(q, Region, bbox)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def regions_by_id(session: Session) -> dict[int, Region]:
    return {r.id: r for r in session.scalars(select(Region))}


def ancestors(region: Region, by_id: dict[int, Region]) -> dict[Level, Region]:
    """The region and every level above it, keyed by level."""
    out: dict[Level, Region] = {}
    cur: Region | None = region
    while cur is not None:
        out[cur.level] = cur
        cur = by_id.get(cur.parent_id) if cur.parent_id else None
    return out


def _bbox_filter(q: Any, model: Any, bbox: BBox) -> Any:
    minx, miny, maxx, maxy = bbox
    return q.where(model.minx <= maxx, model.maxx >= minx, model.miny <= maxy, model.maxy >= miny)


# --------------------------------------------------------------------------- grids


@dataclass
class GridChange:
    revision: GridRevision
    added: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def current_grid_filter(q: Any, at: datetime | None = None) -> Any:
    if at is None:
        return q.where(UnitGrid.valid_to.is_(None))
    return q.where(
        UnitGrid.valid_from <= at, or_(UnitGrid.valid_to.is_(None), UnitGrid.valid_to > at)
    )


def save_grids(
    session: Session,
    grids: Sequence[GridIn],
    *,
    digits: int,
    source: str,
    note: str = "",
    author: str | None = None,
    replace: bool = True,
    tolerance_m2: float = 1.0,
) -> GridChange:
    """Validate and store unit grids as a new grid revision.

    ``replace=True``: the grids given are the complete new layout of every community they touch;
    current grids of those communities that are not given are retired. ``replace=False``: only
    the given grids change (an edit); the rest of each community stays. Either way the resulting
    layout of each touched community must tile it exactly, or nothing is written.
    """
    if not grids:
        raise ValidationError("no grids given", field="grids")
    problems: list[Problem] = []
    communities = {
        r.code: r for r in session.scalars(select(Region).where(Region.level == Level.COMMUNITY))
    }
    for g in grids:
        g.geom = _as_polygonal(g.geom) if g.geom is not None else None
        gp = geometry_problem(g.geom, code=g.code or "", feature=g.feature)
        if gp:
            problems.append(gp)
        elif not isinstance(g.geom, Polygon):
            problems.append(
                Problem(
                    "not_polygon",
                    "a unit grid must be one polygon, not several",
                    [g.code] if g.code else [],
                    g.feature,
                )
            )
    if problems:
        raise _reject("grid change", problems)

    _resolve_codes(session, grids, communities, digits, problems)
    if problems:
        raise _reject("grid change", problems)

    touched = sorted({g.community_code for g in grids})  # type: ignore[type-var]
    current = list(
        session.scalars(
            current_grid_filter(select(UnitGrid)).where(
                UnitGrid.community_id.in_([communities[c].id for c in touched])
            )
        )
    )
    given = {g.code: g for g in grids}
    layout: list[tuple[str, str, BaseGeometry]] = [
        (g.code, g.community_code, g.geom)
        for g in grids  # type: ignore[misc]
    ]
    feats: list[int | None] = [g.feature for g in grids]
    if not replace:
        comm_code = {c.id: c.code for c in communities.values()}
        for row in current:
            if row.code not in given:
                layout.append((row.code, comm_code[row.community_id], row.geom))
                feats.append(None)
    problems = check_tiling(
        [(c, communities[c].geom) for c in touched],
        layout,
        tolerance_m2=tolerance_m2,
        feature_numbers=feats,
    )
    if problems:
        raise _reject("grid change", problems)
    return _write_grids(session, grids, current, communities, replace, source, note, author)


def _resolve_codes(
    session: Session,
    grids: Sequence[GridIn],
    communities: dict[str, Region],
    digits: int,
    problems: list[Problem],
) -> None:
    """Fill community and grid codes; number uncoded grids in reading order after the max."""
    seen: dict[str, int | None] = {}
    for g in grids:
        where = {"feature": g.feature}
        if g.code:
            try:
                gc = parse_grid_code(g.code, digits)
            except ValidationError as e:
                problems.append(Problem("bad_code", e.message, [str(g.code)], **where))
                continue
            if g.community_code and g.community_code != gc.community_code:
                problems.append(
                    Problem(
                        "bad_code",
                        f"grid {gc.code} is coded in community {gc.community_code} but declared in "
                        f"{g.community_code}",
                        [gc.code],
                        **where,
                    )
                )
                continue
            g.code, g.community_code = gc.code, gc.community_code
            if gc.code in seen:
                problems.append(
                    Problem(
                        "duplicate_code", f"grid code {gc.code} appears twice", [gc.code], **where
                    )
                )
            seen[gc.code] = g.feature
        elif not g.community_code:
            g.community_code = _community_at(g.geom, communities)  # type: ignore[arg-type]
            if g.community_code is None:
                problems.append(
                    Problem("outside_parent", "grid lies in no known community", [], **where)
                )
                continue
        if g.community_code not in communities:
            problems.append(
                Problem(
                    "unknown_parent",
                    f"community {g.community_code} does not exist",
                    [str(g.community_code)],
                    **where,
                )
            )
    if problems:
        return
    by_comm: dict[str, list[GridIn]] = {}
    for g in grids:
        if not g.code:
            by_comm.setdefault(g.community_code, []).append(g)  # type: ignore[arg-type]
    for comm, uncoded in by_comm.items():
        used = set(
            session.scalars(
                select(UnitGrid.seq).where(UnitGrid.community_id == communities[comm].id)
            )
        ) | {int(c[12:]) for c in seen if c.startswith(comm)}
        nxt = max(used, default=0)
        for i in reading_order([g.geom for g in uncoded]):  # type: ignore[misc]
            nxt += 1
            try:
                uncoded[i].code = format_grid_code(comm, nxt, digits)
            except ValidationError as e:
                problems.append(Problem("bad_code", e.message, [comm], uncoded[i].feature))
                return


def _community_at(geom: BaseGeometry, communities: dict[str, Region]) -> str | None:
    pt = geom.representative_point()
    for code, c in communities.items():
        if c.minx <= pt.x <= c.maxx and c.miny <= pt.y <= c.maxy and c.geom.contains(pt):
            return code
    return None


def same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Equal polygons whatever their vertex order or ring orientation (a shapefile round trip
    rewrites both), so re-importing an unchanged grid does not create a new version."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-9))


def _write_grids(
    session: Session,
    grids: Sequence[GridIn],
    current: list[UnitGrid],
    communities: dict[str, Region],
    replace: bool,
    source: str,
    note: str,
    author: str | None,
) -> GridChange:
    now = utcnow()
    revision = GridRevision(source=source, note=note, author=author, created_at=now)
    session.add(revision)
    session.flush()
    change = GridChange(revision)
    by_code = {row.code: row for row in current}
    given = {g.code for g in grids}
    keep: set[str] = set()
    for g in grids:
        row = by_code.get(g.code)  # type: ignore[arg-type]
        if row is not None and same_shape(row.geom, g.geom) and row.name == g.name:
            keep.add(row.code)
    for row in current:
        if row.code in keep:
            change.unchanged.append(row.code)
        elif row.code in given or replace:
            row.valid_to = now
            row.retired_revision_id = revision.id
            change.retired.append(row.code)
    session.flush()  # retire before insert: one current row per code
    for g in grids:
        if g.code in keep:
            continue
        row = UnitGrid(
            code=g.code,
            seq=int(g.code[12:]),  # type: ignore[index]
            community_id=communities[g.community_code].id,  # type: ignore[index]
            name=g.name or "",
            area_m2=float(area_m2(g.geom)),
            valid_from=now,
            revision_id=revision.id,
        )
        row.set_geometry(g.geom)  # type: ignore[arg-type]
        session.add(row)
        change.added.append(g.code)  # type: ignore[arg-type]
    session.flush()
    return change


def list_grids(
    session: Session,
    *,
    bbox: BBox | None = None,
    region_code: str | None = None,
    at: datetime | None = None,
    limit: int | None = None,
) -> list[UnitGrid]:
    q = current_grid_filter(select(UnitGrid), at).order_by(UnitGrid.code)
    if bbox:
        q = _bbox_filter(q, UnitGrid, bbox)
    if region_code:
        region = get_region(session, region_code)
        if region.level is Level.CITY:
            district_codes = [r.code for r in list_regions(session, parent_code=region.code)]
            q = q.where(or_(*[UnitGrid.code.startswith(c) for c in district_codes] or [False]))
        else:
            q = q.where(UnitGrid.code.startswith(region.code))
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def get_grid(session: Session, code: str, at: datetime | None = None) -> UnitGrid:
    row = session.scalar(current_grid_filter(select(UnitGrid), at).where(UnitGrid.code == code))
    if row is None:
        if session.scalar(select(func.count()).where(UnitGrid.code == code)):
            raise NotFound(f"grid {code} was not valid at that time", code="grid_not_current")
        raise NotFound(f"grid {code} does not exist", code="unknown_grid", field="code")
    return row


def grid_versions(session: Session, code: str) -> list[UnitGrid]:
    rows = list(
        session.scalars(select(UnitGrid).where(UnitGrid.code == code).order_by(UnitGrid.valid_from))
    )
    if not rows:
        raise NotFound(f"grid {code} does not exist", code="unknown_grid", field="code")
    return rows


# The geocoder checks its cache with it on every report: read with the other caches' versions.
revisions.register(
    "grids", select(func.coalesce(func.max(GridRevision.id), 0)).scalar_subquery().label(None)
)


def latest_revision_id(session: Session) -> int:
    """The newest grid layer revision (0 before the first)."""
    return int(revisions.current(session, "grids")[0] or 0)


def validate_current_grids(session: Session, *, tolerance_m2: float = 1.0) -> list[Problem]:
    """Re-check the stored layer: every grid in its community, no overlaps, no gaps."""
    communities = {
        r.id: r for r in session.scalars(select(Region).where(Region.level == Level.COMMUNITY))
    }
    grids = list(session.scalars(current_grid_filter(select(UnitGrid))))
    if not grids:
        return []
    with_grids = {g.community_id for g in grids}
    return check_tiling(
        [(c.code, c.geom) for cid, c in communities.items() if cid in with_grids],
        [(g.code, communities[g.community_id].code, g.geom) for g in grids],
        tolerance_m2=tolerance_m2,
    )
