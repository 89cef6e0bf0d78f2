"""Gazetteer service (地名地址库): import, export and address search.

Imports are all or nothing: every row is checked first and a batch with any bad row is refused
with :class:`~gridgov.errors.ImportRejected` listing every problem (row, field, message);
otherwise all rows are written inside one savepoint. Rows identical to an existing entry (same
address, kind and point) are skipped, so importing the same file twice is harmless.

Coordinates are stored in WGS84. Files in GCJ-02 (火星坐标, used by AMap/Tencent) or BD-09
(Baidu) are converted on import with :func:`gridgov.geo.chinacrs.to_wgs84`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gridgov.errors import ImportRejected, ValidationError
from gridgov.gazetteer import search as search_index
from gridgov.gazetteer.csvfile import read_rows, write_rows
from gridgov.gazetteer.models import EntryKind, GazetteerEntry
from gridgov.gazetteer.normalize import normalize_address, pinyin_initials
from gridgov.gazetteer.search import Match, Nearby
from gridgov.geo.chinacrs import Crs, to_wgs84

__all__ = ["MAX_QUERY_LENGTH", "add_entries", "export_csv", "import_csv", "nearby", "search"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as ``progress(rows_written, rows_total)`` while an import writes."""

MAX_QUERY_LENGTH = 100
MAX_LIMIT = 100
#: Reverse lookup (point → nearest addresses): the largest radius and result count asked for.
MAX_RADIUS_M = 1000.0
MAX_NEARBY = 20
_MAX_ADDRESS = 200  # column sizes of gazetteer_entry
_MAX_NORMALIZED = 200
_MAX_INITIALS = 100
_CHUNK = 2000
_COORD_DIGITS = 7  # ~1 cm: points closer than this are the same point

_KINDS: dict[str, EntryKind] = {k.value: k for k in EntryKind} | {
    "": EntryKind.DOOR_PLATE,
    "门牌": EntryKind.DOOR_PLATE,
    "楼栋": EntryKind.BUILDING,
    "楼": EntryKind.BUILDING,
    "地名": EntryKind.PLACE,
    "兴趣点": EntryKind.PLACE,
    "poi": EntryKind.PLACE,
}
_EXTRA_FIELDS = "_extra_fields"  # set by import_csv on rows longer than the header
_CRS = {"wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09", "火星坐标": "gcj02", "百度坐标": "bd09"}


@dataclass(frozen=True, slots=True)
class _CleanRow:
    address: str
    lon: float
    lat: float
    kind: EntryKind
    crs: str
    building_id: int | None


# ------------------------------------------------------------------------------- validation


def _crs_name(value: str) -> str | None:
    return _CRS.get(value.strip().lower().replace("-", "").replace("_", "").replace(" ", ""))


def _coordinate(value: Any, low: float, high: float) -> tuple[float | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "is empty"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{value!r} is not a number"
    if not math.isfinite(number) or not low <= number <= high:
        return None, f"{value!r} is outside {low:g}..{high:g}"
    return number, None


def _address_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "is empty"
    if len(value.strip()) > _MAX_ADDRESS:
        return f"is {len(value.strip())} characters long; at most {_MAX_ADDRESS} are allowed"
    if not normalize_address(value.strip()):
        return "has no letters, digits or Chinese characters"
    return None


def _building_id(value: Any) -> tuple[int | None, str | None]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    try:
        return int(value), None
    except (TypeError, ValueError):
        return None, f"{value!r} is not a whole number"


def _check_row(
    row: Mapping[str, Any], number: int, default_crs: str
) -> tuple[_CleanRow | None, list[dict[str, Any]]]:
    """One row's value or its problems (each: row, field, message)."""
    problems: list[dict[str, Any]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"row": number, "field": field, "message": f"{field} {message}"})

    if (address_problem := _address_problem(row.get("address"))) is not None:
        bad("address", address_problem)
    lon, lon_problem = _coordinate(row.get("lon"), -180.0, 180.0)
    if lon_problem:
        bad("lon", lon_problem)
    lat, lat_problem = _coordinate(row.get("lat"), -90.0, 90.0)
    if lat_problem:
        bad("lat", lat_problem)
    kind = _KINDS.get(str(row.get("kind") or "").strip().lower())
    if kind is None:
        bad("kind", f"{row.get('kind')!r} is not one of {', '.join(k.value for k in EntryKind)}")
    crs_value = str(row.get("crs") or "").strip()
    crs = _crs_name(crs_value) if crs_value else default_crs
    if crs is None:
        bad("crs", f"{crs_value!r} is not one of wgs84, gcj02, bd09")
    building_id, building_problem = _building_id(row.get("building_id"))
    if building_problem:
        bad("building_id", building_problem)
    if extra := row.get(_EXTRA_FIELDS):
        bad("address", f"row has {extra} field(s) more than the header; quote values with commas")
    if problems:
        return None, problems
    assert lon is not None and lat is not None and kind is not None and crs is not None
    return _CleanRow(str(row["address"]).strip(), lon, lat, kind, crs, building_id), []


def _missing_buildings(
    session: Session, rows: Sequence[tuple[int, _CleanRow]]
) -> list[dict[str, Any]]:
    from gridgov.registry.models import Building

    wanted = {r.building_id for _, r in rows if r.building_id is not None}
    known: set[int] = set()
    ids = sorted(wanted)
    for i in range(0, len(ids), 500):
        known.update(session.scalars(select(Building.id).where(Building.id.in_(ids[i : i + 500]))))
    return [
        {"row": n, "field": "building_id", "message": f"building_id {r.building_id} does not exist"}
        for n, r in rows
        if r.building_id is not None and r.building_id not in known
    ]


def _validate(
    session: Session,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    default_crs: str,
    *,
    file: str | None = None,
) -> list[_CleanRow]:
    """Clean rows, or ImportRejected listing every problem of every row."""
    clean: list[tuple[int, _CleanRow]] = []
    problems: list[dict[str, Any]] = []
    for number, row in rows:
        value, row_problems = _check_row(row, number, default_crs)
        problems.extend(row_problems)
        if value is not None:
            clean.append((number, value))
    problems.extend(_missing_buildings(session, clean))
    if problems:
        problems.sort(key=lambda p: p["row"])
        bad_rows = len({p["row"] for p in problems})
        prefix = f"{file}: " if file else ""
        raise ImportRejected(
            f"{prefix}{bad_rows} row(s) have problems; nothing was imported",
            problems=problems,
            file=file,
        )
    return [r for _, r in clean]


# ---------------------------------------------------------------------------------- writing


def _to_wgs84(rows: list[_CleanRow]) -> list[tuple[float, float]]:
    """Each row's point in WGS84, converting GCJ-02 / BD-09 rows one batch per system."""
    points = [(r.lon, r.lat) for r in rows]
    for crs in {r.crs for r in rows} - {"wgs84"}:
        positions = [i for i, r in enumerate(rows) if r.crs == crs]
        lons, lats = to_wgs84(
            np.array([rows[i].lon for i in positions]),
            np.array([rows[i].lat for i in positions]),
            cast(Crs, crs),
        )
        for i, lon, lat in zip(positions, lons.tolist(), lats.tolist(), strict=True):
            points[i] = (lon, lat)
    return points


def _key(address: str, kind: EntryKind | str, lon: float, lat: float) -> tuple[Any, ...]:
    return (address, str(kind), round(lon, _COORD_DIGITS), round(lat, _COORD_DIGITS))


def _existing_keys(session: Session, addresses: set[str]) -> set[tuple[Any, ...]]:
    keys: set[tuple[Any, ...]] = set()
    ordered = sorted(addresses)
    e = GazetteerEntry
    for i in range(0, len(ordered), 500):
        stmt = select(e.address, e.kind, e.lon, e.lat).where(e.address.in_(ordered[i : i + 500]))
        keys.update(_key(*r) for r in session.execute(stmt))
    return keys


def _records(session: Session, rows: list[_CleanRow]) -> list[dict[str, Any]]:
    """Insert parameters for the rows not already stored (nor repeated in the batch)."""
    seen = _existing_keys(session, {r.address for r in rows})
    records = []
    for row, (lon, lat) in zip(rows, _to_wgs84(rows), strict=True):
        key = _key(row.address, row.kind, lon, lat)
        if key in seen:
            continue
        seen.add(key)
        normalized = normalize_address(row.address)[:_MAX_NORMALIZED]
        records.append(
            {
                "address": row.address,
                "kind": row.kind,
                "normalized": normalized,
                "initials": pinyin_initials(normalized)[:_MAX_INITIALS],
                "lon": lon,
                "lat": lat,
                "building_id": row.building_id,
            }
        )
    return records


def _write(
    session: Session, rows: list[_CleanRow], *, source: str, progress: Progress | None
) -> int:
    records = _records(session, rows)
    with session.begin_nested():
        for i in range(0, len(records), _CHUNK):
            session.execute(insert(GazetteerEntry), records[i : i + _CHUNK])
            if progress:
                progress(min(i + _CHUNK, len(records)), len(records))
    search_index.invalidate()
    log.info(
        "gazetteer %s: %d entries added, %d skipped", source, len(records), len(rows) - len(records)
    )
    return len(records)


# ------------------------------------------------------------------------------- public API


def add_entries(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    source: str = "import",
    progress: Progress | None = None,
) -> int:
    """Add gazetteer entries; return how many were written.

    Each row has ``address``, ``lon``, ``lat`` (WGS84 unless the row's ``crs`` says gcj02 or
    bd09), optionally ``kind`` (door_plate, building, place; default door_plate) and
    ``building_id``. Rows are numbered from 1 in problems. ``source`` names the batch in the log.
    """
    clean = _validate(session, enumerate(rows, start=1), "wgs84")
    return _write(session, clean, source=source, progress=progress)


def import_csv(
    session: Session,
    path: str | Path,
    *,
    encoding: str | None = None,
    crs: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Import a CSV file of entries; return how many were written.

    Columns: address, lon, lat (or 地址, 经度, 纬度), optional kind, crs, building_id. The
    encoding is detected (UTF-8 with or without BOM, else GBK/GB18030) unless given. ``crs``
    (wgs84, gcj02, bd09) applies to rows without a crs value. Problems name the file's line
    number (the header is line 1).
    """
    path = Path(path)
    default_crs = _crs_name(crs) if crs else "wgs84"
    if default_crs is None:
        raise ValidationError(f"unknown crs {crs!r}; use wgs84, gcj02 or bd09", field="crs")
    rows = read_rows(path, encoding=encoding)
    numbered = ((r.line, {**r.values, _EXTRA_FIELDS: r.extra_fields}) for r in rows)
    clean = _validate(session, numbered, default_crs, file=path.name)
    return _write(session, clean, source=path.name, progress=progress)


def search(session: Session, q: str, limit: int = 10) -> list[Match]:
    """Entries matching the address ``q``, best first (see :mod:`gridgov.gazetteer.search`)."""
    text = (q or "").strip()
    if not text:
        raise ValidationError("q: the search text is empty", field="q")
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"q: the search text is {len(text)} characters long; "
            f"at most {MAX_QUERY_LENGTH} are allowed",
            field="q",
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit: must be 1..{MAX_LIMIT}, got {limit}", field="limit")
    if not normalize_address(text):
        raise ValidationError(
            "q: the search text has no letters, digits or Chinese characters", field="q"
        )
    return search_index.gazetteer_for(session).search(text, limit)


def nearby(
    session: Session,
    lon: float,
    lat: float,
    radius_m: float = 100.0,
    limit: int = 5,
    crs: Crs = "wgs84",
) -> list[Nearby]:
    """The entries (door plates, buildings, places) within ``radius_m`` metres of the point,
    nearest first: the reverse of :func:`search` (反向地址匹配). ``lon``/``lat`` are in ``crs``;
    the answer is in WGS84, like every stored point. Bad coordinates, a radius outside
    (0, 1000] m or a limit outside 1..20 are refused (ValidationError)."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError("lon/lat: coordinates must be finite numbers", field="lon/lat")
    if abs(lon) > 180 or abs(lat) > 90:
        raise ValidationError(f"lon {lon}, lat {lat} out of range", field="lon/lat")
    if not (math.isfinite(radius_m) and 0 < radius_m <= MAX_RADIUS_M):
        raise ValidationError(
            f"radius_m: must be more than 0 and at most {MAX_RADIUS_M:g}, got {radius_m:g}",
            field="radius_m",
        )
    if not 1 <= limit <= MAX_NEARBY:
        raise ValidationError(f"limit: must be 1..{MAX_NEARBY}, got {limit}", field="limit")
    if crs != "wgs84":
        lon, lat = (float(v) for v in to_wgs84(lon, lat, crs))
    return search_index.gazetteer_for(session).nearest(lon, lat, radius_m, limit)


def export_csv(session: Session, path: str | Path) -> int:
    """Write every entry as UTF-8 CSV (address, lon, lat, kind) that import_csv reads back."""
    e = GazetteerEntry
    rows = session.execute(select(e.address, e.lon, e.lat, e.kind).order_by(e.id))
    return write_rows(
        Path(path),
        ("address", "lon", "lat", "kind"),
        ((r.address, repr(r.lon), repr(r.lat), str(r.kind)) for r in rows),
    )
