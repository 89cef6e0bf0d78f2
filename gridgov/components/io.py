"""Import components (部件普查数据) from GeoJSON/Shapefile/GeoPackage points or CSV (lon, lat).

Every point is geocoded to its unit grid. Nothing is written unless every row passed: a point
outside every grid, an unknown subclass, a bad or duplicate id, a bad state or date is a problem
naming its row (the feature number; for CSV the data row, the header being line 1), and the
whole file is refused with all of them. Ids are generated when absent and validated when given.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gridgov.codes.component import MAX_SERIAL, format_component_id
from gridgov.components import service
from gridgov.components.models import Component, ComponentState, ComponentStateEvent
from gridgov.db import utcnow
from gridgov.errors import ValidationError
from gridgov.geo.files import FeatureTable, ProgressFn, read_features
from gridgov.geo.importing import (
    FieldSpec,
    ImportSummary,
    Problems,
    Tick,
    insert_with_geometry,
    map_fields,
    read_rows,
)
from gridgov.regions.geocode import grid_codes_many

COMPONENT_FIELDS = (
    FieldSpec("id", ("编码", "部件编码", "部件标识码", "bjbm", "bsm", "code"), "code", False, 16),
    FieldSpec(
        "subclass", ("subclass_code", "小类", "小类编码", "部件小类", "xlbm"), "str", True, 4
    ),
    FieldSpec("name", ("名称", "部件名称", "mc", "bjmc"), "str", False, 100),
    FieldSpec("state", ("状态", "部件状态", "zt", "bjzt"), "str", False, 20),
    FieldSpec("competent", ("competent_dept_code", "主管部门", "zgbm"), "str", False, 40),
    FieldSpec("owner", ("owner_dept_code", "权属单位", "权属部门", "qsdw"), "str", False, 40),
    FieldSpec("maintainer", ("maintainer_dept_code", "养护单位", "yhdw"), "str", False, 40),
    FieldSpec("installed_on", ("初始日期", "启用日期", "csrq"), "str", False, 30),
    FieldSpec("surveyed_on", ("变更日期", "普查日期", "bgrq"), "str", False, 30),
    FieldSpec("data_source", ("数据来源", "sjly", "source"), "str", False, 40),
)
LON_ALIASES = ("lon", "lng", "longitude", "x", "经度")
LAT_ALIASES = ("lat", "latitude", "y", "纬度")


def import_components_file(
    session: Session,
    path: str | Path,
    *,
    progress: ProgressFn | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    source: str = "import",
    **field_options: str,
) -> ImportSummary:
    """Append components from a points file or a CSV with lon/lat columns (WGS84).

    Field options: ``<key>_field`` for each of :data:`COMPONENT_FIELDS` (``id_field``,
    ``subclass_field`` ...). ``source`` is the data source (数据来源) of rows that name none.
    """
    p = Path(path)
    if p.suffix.lower() == ".csv":
        table, problems = read_csv_points(p, encoding=encoding)
    else:
        table = read_features(p, layer=layer, encoding=encoding)
        problems = Problems(table.file)
        _check_points(table, problems)
    columns = map_fields(table, COMPONENT_FIELDS, field_options)
    tick = Tick(progress, 2 * table.count)
    rows = read_rows(table, COMPONENT_FIELDS, columns, problems, tick)
    grids = _geocode(session, table)
    records = _check_rows(session, rows, grids, table.geoms, columns, problems, source)
    problems.raise_if_any()
    _assign_ids(session, records)
    summary = ImportSummary(
        "components", table.file, table.count, crs_note=table.crs_note, encoding=table.encoding_used
    )
    now = utcnow()
    with session.begin_nested():
        summary.created = insert_with_geometry(
            session, Component, [r | {"created_at": now} for r in records], table.geoms, tick
        )
        if records:
            session.execute(
                insert(ComponentStateEvent),
                [
                    {
                        "component_id": r["id"],
                        "at": now,
                        "from_state": None,
                        "to_state": r["state"],
                        "note": f"imported from {p.name}",
                    }
                    for r in records
                ],
            )
    tick.finish()
    return summary


# --------------------------------------------------------------------------- reading


def read_csv_points(path: Path, *, encoding: str | None = None) -> tuple[FeatureTable, Problems]:
    """A CSV as a FeatureTable of points; bad or missing coordinates become row problems."""
    text = _decode(path, encoding)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationError(f"{path.name}: the file is empty", code="empty_file", file=str(path))
    names = [h.strip() for h in header]
    lower = {n.lower(): i for i, n in enumerate(names)}
    lon_i = next((lower[a] for a in LON_ALIASES if a in lower), None)
    lat_i = next((lower[a] for a in LAT_ALIASES if a in lower), None)
    if lon_i is None or lat_i is None:
        raise ValidationError(
            f"{path.name}: needs lon and lat columns (经度/纬度); columns: {', '.join(names)}",
            code="missing_field",
            file=str(path),
        )
    problems = Problems(str(path))
    data = [r for r in reader if any(c.strip() for c in r)]
    geoms: list[Any] = []
    columns: dict[str, list[Any]] = {n: [] for i, n in enumerate(names) if i not in (lon_i, lat_i)}
    for n, row in enumerate(data, 1):
        cells = row + [""] * (len(names) - len(row))
        for i, name in enumerate(names):
            if name in columns:
                columns[name].append(cells[i])
        geoms.append(_csv_point(cells[lon_i], cells[lat_i], n, names[lon_i], problems))
    table = FeatureTable(
        np.asarray(geoms, dtype=object).reshape(-1),
        columns,
        "CSV lon/lat taken as WGS84",
        encoding or "detected",
        len(data),
        str(path),
        "CSV",
    )
    return table, problems


def _decode(path: Path, encoding: str | None) -> str:
    raw = path.read_bytes()
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"{path.name}: not readable as {encoding}: {exc}", code="bad_encoding"
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _csv_point(lon: str, lat: str, row: int, field: str, problems: Problems) -> Any:
    try:
        x, y = float(lon), float(lat)
    except ValueError:
        problems.add(
            "bad_value", f"lon/lat {lon!r}, {lat!r} are not numbers", feature=row, field=field
        )
        return None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        problems.add("bad_value", f"({x}, {y}) is not a lon/lat position", feature=row, field=field)
        return None
    return shapely.Point(x, y)


def _check_points(table: FeatureTable, problems: Problems) -> None:
    for i, geom in enumerate(table.geoms):
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            kind = "no geometry" if geom is None or geom.is_empty else geom.geom_type
            problems.add(
                "bad_geometry", f"expected a point, got {kind}", feature=i + 1, field="geometry"
            )
            table.geoms[i] = None


def _geocode(session: Session, table: FeatureTable) -> list[str | None]:
    """Grid code per feature; None outside every grid or without a usable point."""
    ok = [i for i, g in enumerate(table.geoms) if g is not None]
    out: list[str | None] = [None] * table.count
    if ok:
        xs = [table.geoms[i].x for i in ok]
        ys = [table.geoms[i].y for i in ok]
        for i, code in zip(ok, grid_codes_many(session, xs, ys), strict=True):
            out[i] = code
    return out


# --------------------------------------------------------------------------- checking


def _check_rows(
    session: Session,
    rows: list[dict[str, Any]],
    grids: list[str | None],
    table_geoms: Any,
    columns: dict[str, str | None],
    problems: Problems,
    source: str,
) -> list[dict[str, Any]]:
    """Validate each row and build its record (``id`` None where one is to be generated)."""
    known = service.component_subclass_codes(session)
    given = [str(r["id"]) for r in rows if r["id"]]
    taken = set(session.scalars(select(Component.id).where(Component.id.in_(given))))
    seen: set[str] = set()
    records: list[dict[str, Any]] = []
    for i, (row, grid) in enumerate(zip(rows, grids, strict=True)):
        n = i + 1

        def bad(kind: str, reason: str, key: str, n: int = n) -> None:
            problems.add(kind, reason, feature=n, field=columns.get(key) or key)

        sub = row["subclass"]
        if sub and sub.isdigit() and len(sub) < 4:
            sub = sub.zfill(4)  # a number column lost the leading zero: 101 → 0101
        if sub and sub not in known:
            bad("unknown_subclass", f"unknown component subclass {sub!r}", "subclass")
        if grid is None and table_geoms[i] is not None:
            bad("outside_grids", "outside every grid", "geometry")
        state = ComponentState.INTACT
        if row["state"]:
            try:
                state = service.parse_state(row["state"])
            except ValidationError as exc:
                bad("bad_value", exc.message, "state")
        cid = row["id"]
        if cid and sub in known and grid:
            try:
                cid = service.check_given_id(str(cid), sub, grid)
            except ValidationError as exc:
                bad("bad_id", exc.message, "id")
            if cid in taken:
                bad("duplicate_id", f"component id {cid} already exists", "id")
            elif cid in seen:
                bad("duplicate_id", f"component id {cid} appears twice", "id")
            seen.add(str(cid))
        dates: dict[str, date | None] = {}
        for key in ("installed_on", "surveyed_on"):
            try:
                dates[key] = _date(row[key])
            except ValueError:
                bad("bad_value", f"expected a date like 2024-05-31, got {row[key]!r}", key)
        records.append(
            {
                "id": cid or None,
                "subclass_code": sub,
                "name": row["name"] or "",
                "grid_code": grid,
                "state": state,
                "competent_dept_code": row["competent"],
                "owner_dept_code": row["owner"],
                "maintainer_dept_code": row["maintainer"],
                "installed_on": dates.get("installed_on"),
                "surveyed_on": dates.get("surveyed_on"),
                "data_source": row["data_source"] or source,
            }
        )
    return records


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    return date.fromisoformat(text[:10]) if len(text) >= 8 else date.fromisoformat(text)


def _assign_ids(session: Session, records: list[dict[str, Any]]) -> None:
    """Give every record without an id the next serial of its district and subclass."""
    used: dict[str, int] = defaultdict(int)
    for r in records:
        if r["id"]:
            prefix = r["id"][:10]
            used[prefix] = max(used[prefix], int(r["id"][10:]))
    stored: dict[str, int] = {}
    for r in records:
        if r["id"]:
            continue
        prefix = service.admin_code_of_grid(r["grid_code"]) + r["subclass_code"]
        if prefix not in stored:
            stored[prefix] = service.max_serial(session, prefix)
            used[prefix] = max(used[prefix], stored[prefix])
        used[prefix] += 1
        if used[prefix] > MAX_SERIAL:
            raise ValidationError(
                f"no serial left for subclass {r['subclass_code']} in {prefix[:6]}",
                code="serials_exhausted",
            )
        r["id"] = format_component_id(prefix[:6], r["subclass_code"], used[prefix])
