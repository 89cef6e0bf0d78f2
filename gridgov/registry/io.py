"""Import and export building footprints (楼栋) as GIS files.

Buildings are appended or replace the whole layer; nothing is written unless every feature
passed (valid polygon, numbers where numbers belong, codes unique).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.geo.files import FeatureTable, Mode, ProgressFn, read_features, write_features
from gridgov.geo.importing import (
    FieldSpec,
    ImportSummary,
    Problems,
    Tick,
    check_mode,
    layer_rows,
    map_fields,
    read_rows,
    store_layer,
)
from gridgov.geo.topology import geometry_problem
from gridgov.regions.service import BBox, get_region
from gridgov.registry.models import Building

BUILDING_FIELDS = (
    FieldSpec("code", ("编码", "建筑编码", "楼栋编码", "bldg_code", "ldbm"), "code", False, 40),
    FieldSpec("name", ("名称", "建筑名称", "楼栋名称", "mc"), "str", False, 100),
    FieldSpec("address", ("地址", "门牌地址", "addr", "addr_full", "dz"), "str", False, 200),
    FieldSpec("floors", ("层数", "楼层", "地上层数", "levels", "building:levels", "cs"), "int"),
    FieldSpec("use", ("用途", "建筑用途", "usage", "yt"), "str", False, 40),
)


def import_buildings_file(
    session: Session,
    path: str | Path,
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    mode: Mode = "append",
    layer: str | None = None,
    encoding: str | None = None,
    source: str = "import",
    **field_options: str,
) -> ImportSummary:
    """Append building footprints from a file, or replace every stored building.

    Field options: ``code_field``, ``name_field``, ``address_field``, ``floors_field``,
    ``use_field``. ``progress(done, total)`` counts features checked, then stored.
    """
    check_mode(mode)
    table = read_features(path, layer=layer, encoding=encoding)
    columns = map_fields(table, BUILDING_FIELDS, field_options)
    tick = Tick(progress, 2 * table.count)
    problems = Problems(table.file)
    rows = read_rows(table, BUILDING_FIELDS, columns, problems, tick)
    _check_geometry(table, problems)
    _check_values(session, rows, columns, mode, problems)
    problems.raise_if_any()
    records = [
        {
            "code": row["code"],
            "name": row["name"] or "",
            "address": row["address"] or "",
            "floors": row["floors"],
            "use": row["use"],
            "source": source,
        }
        for row in rows
    ]
    return store_layer(session, Building, "buildings", table, records, mode, tick)


def _check_geometry(table: FeatureTable, problems: Problems) -> None:
    for i, geom in enumerate(table.geoms):
        gp = geometry_problem(geom, feature=i + 1)
        if gp:
            problems.add(gp.kind, gp.message, feature=i + 1, field="geometry")


def _check_values(
    session: Session,
    rows: list[dict[str, object]],
    columns: dict[str, str | None],
    mode: Mode,
    problems: Problems,
) -> None:
    """Floors within reason; building codes unique in the file and, when appending, in storage."""
    seen: set[str] = set()
    codes = [str(r["code"]) for r in rows if r["code"]]
    taken: set[str] = set()
    if mode == "append" and codes:
        taken = set(session.scalars(select(Building.code).where(Building.code.in_(codes))))
    for i, row in enumerate(rows):
        floors = row["floors"]
        if isinstance(floors, int) and not 0 <= floors <= 200:
            problems.add(
                "bad_value",
                f"{floors} floors is not between 0 and 200",
                feature=i + 1,
                field=columns["floors"],
            )
        code = row["code"]
        if not code:
            continue
        if code in seen:
            problems.add(
                "duplicate_code",
                f"building code {code} appears twice",
                feature=i + 1,
                field=columns["code"],
            )
        elif code in taken:
            problems.add(
                "duplicate_code",
                f"building code {code} already exists (use mode='replace' to reload the layer)",
                feature=i + 1,
                field=columns["code"],
            )
        seen.add(str(code))


def export_buildings_file(
    session: Session, path: str | Path, *, region_code: str | None = None, bbox: BBox | None = None
) -> int:
    """Write building footprints with code, name, address, floors and use."""
    within = get_region(session, region_code).geom if region_code else None
    rows = layer_rows(session, Building, bbox=bbox, within=within)
    return write_features(
        path,
        [b.geom for b in rows],
        {
            "code": [b.code for b in rows],
            "name": [b.name for b in rows],
            "address": [b.address for b in rows],
            "floors": [b.floors for b in rows],
            "use": [b.use for b in rows],
        },
        geometry_type=None if rows else "Polygon",
    )
