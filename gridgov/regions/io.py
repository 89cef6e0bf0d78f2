"""Import and export regions (行政区划) and unit grids (单元网格) as GIS files.

Importers read a file, map its columns (configurable, with common Chinese aliases), collect every
field problem with its feature number, then hand the records to the service, which validates
codes and topology. Nothing is written unless the whole file passed; the caller commits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.codes.admin import Level
from gridgov.config import Settings
from gridgov.errors import ImportRejected
from gridgov.geo.files import FeatureTable, ProgressFn, read_features, write_features
from gridgov.geo.importing import (
    FieldSpec,
    ImportSummary,
    Problems,
    Tick,
    map_fields,
    read_rows,
    rejection,
)
from gridgov.regions.models import Region
from gridgov.regions.schemas import GridIn, RegionIn
from gridgov.regions.service import (
    BBox,
    ancestors,
    import_regions,
    list_grids,
    list_regions,
    regions_by_id,
    save_grids,
)

REGION_FIELDS = (
    FieldSpec(
        "code", ("编码", "代码", "区划代码", "行政区划代码", "adcode", "dm", "qhdm"), "code", True
    ),
    FieldSpec("name", ("名称", "名字", "区划名称", "行政区划名称", "mc", "qhmc"), "str", True, 100),
    FieldSpec("level", ("级别", "层级", "类型", "jb")),
    FieldSpec("parent_code", ("上级编码", "上级代码", "parent", "sjdm"), "code"),
    FieldSpec("population", ("人口", "pop"), "int"),
)
GRID_FIELDS = (
    FieldSpec("code", ("编码", "网格编码", "grid_code", "wgbm", "wgdm"), "code"),
    FieldSpec(
        "community_code",
        ("社区编码", "社区代码", "community", "comm_code", "sqbm", "sqdm"),
        "code",
    ),
    FieldSpec("name", ("名称", "网格名称", "mc"), "str", False, 100),
)
LEVEL_WORDS = {
    "市": Level.CITY,
    "城市": Level.CITY,
    "区": Level.DISTRICT,
    "县": Level.DISTRICT,
    "区县": Level.DISTRICT,
    "街道": Level.STREET,
    "乡": Level.STREET,
    "镇": Level.STREET,
    "乡镇": Level.STREET,
    "社区": Level.COMMUNITY,
    "村": Level.COMMUNITY,
    "居委会": Level.COMMUNITY,
    "村委会": Level.COMMUNITY,
}


def parse_level(value: str | None) -> tuple[Level | None, str | None]:
    """A level from English (``street``) or Chinese (``街道``); (level, reason if unknown)."""
    if value is None:
        return None, None
    word = value.strip().lower()
    if word in Level.__members__.values():
        return Level(word), None
    if word in LEVEL_WORDS:
        return LEVEL_WORDS[word], None
    return None, f"unknown level {value!r}: use city/district/street/community or 市/区/街道/社区"


# --------------------------------------------------------------------------- regions


def import_regions_file(
    session: Session,
    path: str | Path,
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    **field_options: str,
) -> ImportSummary:
    """Create or update regions from a file. All-or-nothing.

    ``field_options`` name the columns: ``code_field``, ``name_field``, ``level_field``,
    ``parent_code_field``, ``population_field``. ``progress(done, total)`` counts features
    checked, then stored (total = 2 × features).
    """
    table = read_features(path, layer=layer, encoding=encoding)
    columns = map_fields(table, REGION_FIELDS, field_options)
    tick = Tick(progress, 2 * table.count)
    problems = Problems(table.file)
    rows = read_rows(table, REGION_FIELDS, columns, problems, tick)
    items = []
    for i, row in enumerate(rows):
        level, why = parse_level(row["level"])
        if why:
            problems.add("bad_value", why, feature=i + 1, field=columns["level"])
        items.append(
            RegionIn(
                code=row["code"] or "",
                name=row["name"] or "",
                geom=table.geoms[i],
                level=level,
                parent_code=row["parent_code"],
                population=row["population"],
                feature=i + 1,
            )
        )
    problems.raise_if_any()
    before = _region_snapshot(session, [it.code for it in items])
    with session.begin_nested():
        stored = _call_service(
            table,
            columns,
            lambda: import_regions(session, items, tolerance_m2=settings.topology_tolerance_m2),
        )
    tick.finish()
    summary = _summary("regions", table)
    for region in stored:
        old = before.get(region.code)
        if old is None:
            summary.created += 1
        elif old == _region_state(region):
            summary.unchanged += 1
        else:
            summary.updated += 1
    return summary


def _summary(layer: str, table: FeatureTable) -> ImportSummary:
    return ImportSummary(
        layer, table.file, table.count, crs_note=table.crs_note, encoding=table.encoding_used
    )


def _call_service(table: FeatureTable, columns: dict[str, str | None], call: Any) -> Any:
    """Run the service; its refusal names the file and, where known, the column at fault."""
    try:
        return call()
    except ImportRejected as e:
        for p in e.problems:
            if p.get("kind") in ("bad_code", "duplicate_code") and columns.get("code"):
                p.setdefault("field", columns["code"])
            elif p.get("kind") in ("empty", "not_polygon", "bad_coordinates", "invalid_geometry"):
                p.setdefault("field", "geometry")
            elif p.get("kind") == "missing_name" and columns.get("name"):
                p.setdefault("field", columns["name"])
        raise rejection(table.file, e.problems) from None


def _region_state(region: Region) -> tuple[Any, ...]:
    return (
        region.name,
        region.level,
        region.parent_id,
        region.population,
        shapely.normalize(region.geom).wkb,
    )


def _region_snapshot(session: Session, codes: list[str]) -> dict[str, tuple[Any, ...]]:
    rows = session.scalars(select(Region).where(Region.code.in_(codes)))
    return {r.code: _region_state(r) for r in rows}


def export_regions_file(
    session: Session, path: str | Path, *, region_code: str | None = None, bbox: BBox | None = None
) -> int:
    """Write regions (``region_code`` and everything inside it, or all) with code, name, level,
    parent_code and area_m2; return the number written."""
    regions = list_regions(session, bbox=bbox)
    by_id = regions_by_id(session)
    if region_code:
        regions = [
            r for r in regions if region_code in {a.code for a in ancestors(r, by_id).values()}
        ]
    parent = {r.id: by_id[r.parent_id].code if r.parent_id else None for r in regions}
    return write_features(
        path,
        [r.geom for r in regions],
        {
            "code": [r.code for r in regions],
            "name": [r.name for r in regions],
            "level": [r.level.value for r in regions],
            "parent_code": [parent[r.id] for r in regions],
            "area_m2": [round(r.area_m2, 1) for r in regions],
        },
        geometry_type="MultiPolygon" if Path(path).suffix.lower() == ".shp" else None,
    )


# --------------------------------------------------------------------------- grids


def import_grids_file(
    session: Session,
    path: str | Path,
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    replace: bool = True,
    **field_options: str,
) -> ImportSummary:
    """Store unit grids from a file as one new grid revision. All-or-nothing.

    ``replace=True``: the file is the complete layout of every community it touches. Grids
    without a code are numbered; without a community they go to the one they lie in. Field
    options: ``code_field``, ``community_code_field``, ``name_field``.
    """
    table = read_features(path, layer=layer, encoding=encoding)
    columns = map_fields(table, GRID_FIELDS, field_options)
    tick = Tick(progress, 2 * table.count)
    problems = Problems(table.file)
    rows = read_rows(table, GRID_FIELDS, columns, problems, tick)
    problems.raise_if_any()
    grids = [
        GridIn(
            geom=table.geoms[i],
            code=row["code"],
            community_code=row["community_code"],
            name=row["name"] or "",
            feature=i + 1,
        )
        for i, row in enumerate(rows)
    ]
    with session.begin_nested():
        change = _call_service(
            table,
            columns,
            lambda: save_grids(
                session,
                grids,
                digits=settings.grid_seq_digits,
                source="import",
                note=Path(table.file).name,
                replace=replace,
                tolerance_m2=settings.topology_tolerance_m2,
            ),
        )
    tick.finish()
    summary = _summary("grids", table)
    retired, added = set(change.retired), set(change.added)
    summary.created = len(added - retired)
    summary.updated = len(added & retired)
    summary.retired = len(retired - added)
    summary.unchanged = len(change.unchanged)
    return summary


def export_grids_file(
    session: Session, path: str | Path, *, region_code: str | None = None, bbox: BBox | None = None
) -> int:
    """Write the current unit grids (of ``region_code``, or all) with code, name, community_code,
    area_m2 and valid_from; return the number written."""
    grids = list_grids(session, bbox=bbox, region_code=region_code)
    community = {r.id: r.code for r in list_regions(session, level=Level.COMMUNITY)}
    return write_features(
        path,
        [g.geom for g in grids],
        {
            "code": [g.code for g in grids],
            "name": [g.name for g in grids],
            "community_code": [community[g.community_id] for g in grids],
            "area_m2": [round(g.area_m2, 1) for g in grids],
            "valid_from": [g.valid_from.isoformat() for g in grids],
        },
        geometry_type=None if grids else "Polygon",
    )
