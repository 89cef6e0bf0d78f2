"""Hotline bulk import (热线工单导入). Machine alarms (物联感知 / 视频巡查) are in ``alarms.py``.

Both end in :func:`gridgov.cases.intake.create_case`, so a case from any channel is validated,
geocoded, numbered and started in the workflow the same way.

Hotline files are all or nothing: every row is checked first (subclass, urgency, description,
location, jurisdiction) and a file with any bad row is refused with
:class:`~gridgov.errors.ImportRejected` listing every problem by row number; nothing is created.
The ticket number (工单号) is the idempotency key, so importing a file again creates nothing new.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import audit
from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope, scope_of
from gridgov.cases.intake import MAX_DESCRIPTION, create_case
from gridgov.cases.models import Case
from gridgov.cases.workflow import Channel
from gridgov.config import Settings
from gridgov.errors import GridgovError, ImportRejected, NotFound, ValidationError
from gridgov.gazetteer import service as gazetteer
from gridgov.regions.geocode import geocode
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import get_subclass

TZ = ZoneInfo("Asia/Shanghai")
MAX_ROWS = 5000
MAX_TICKET = 60
MIN_ADDRESS_SCORE = 90.0
#: Canonical column → the headers it may have (compared lower-case, spaces removed).
COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": ("工单号", "工单编号", "ticket", "ticket_no"),
    "called_at": ("来电时间", "call_time", "called_at"),
    "address": ("地址", "事发地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "crs": ("坐标系", "crs"),
    "kind": ("类型", "kind", "subclass_kind"),
    "subclass": ("小类编码", "小类代码", "subclass", "subclass_code"),
    "urgency": ("紧急程度", "urgency"),
    "description": ("描述", "问题描述", "description"),
    "name": ("联系人", "contact", "name"),
    "phone": ("电话", "联系电话", "phone"),
}
_HEADER = {a.lower().replace(" ", ""): c for c, aliases in COLUMNS.items() for a in aliases}
_REQUIRED = ("ticket", "subclass", "description")
_KINDS = {"": Kind.EVENT, "事件": Kind.EVENT, "event": Kind.EVENT}
_KINDS |= {"部件": Kind.COMPONENT, "component": Kind.COMPONENT}
_URGENCY = {"一般": "normal", "普通": "normal", "紧急": "urgent", "特急": "critical"}
_URGENCY |= {"特别紧急": "critical", "normal": "normal", "urgent": "urgent"}
_URGENCY |= {"critical": "critical"}
_CRS = {"": "wgs84", "wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


# ------------------------------------------------------------------------------ reading


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores 12345 as 12345.0
    return str(value).strip()


def _canonical_header(header: list[Any], name: str) -> dict[int, str]:
    positions: dict[int, str] = {}
    for i, raw in enumerate(header):
        column = _HEADER.get(_text(raw).lstrip("\ufeff").lower().replace(" ", ""))
        if column and column not in positions.values():
            positions[i] = column
    have = set(positions.values())
    missing = [c for c in _REQUIRED if c not in have]
    if "address" not in have and not {"lon", "lat"} <= have:
        missing.append("地址 or 经度/纬度")
    if missing:
        found = ", ".join(_text(h) for h in header if _text(h)) or "nothing"
        wanted = ", ".join(f"{COLUMNS[c][0]}/{COLUMNS[c][2]}" for c in _REQUIRED)
        raise ValidationError(
            f"{name}: missing column(s) {', '.join(missing)}; the first line has: {found}. "
            f"Expected {wanted} and 地址 or 经度/纬度",
            code="missing_columns",
            file=name,
        )
    return positions


def _decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without Excel's BOM) or GBK/GB18030, as in the gazetteer's CSV reader."""
    if b"\x00" in data[:8192]:
        raise ValidationError(
            f"{name}: a binary file (or UTF-16 text), not CSV; save it as CSV (UTF-8)", file=name
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(f"{name}: the text is neither UTF-8 nor GBK/GB18030", file=name)


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(data, name)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(keepends=True), dialect)
    try:
        for fields in reader:
            yield reader.line_num, list(fields)
    except csv.Error as exc:
        raise ValidationError(
            f"{name}: not a valid CSV file (line {reader.line_num}: {exc})", file=name
        ) from None


def _excel_rows(path: Path, name: str) -> Iterator[tuple[int, list[Any]]]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(
            f"{name}: not a readable Excel workbook (.xlsx): {exc.__class__.__name__}", file=name
        ) from None
    try:
        ws = wb.worksheets[0]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        wb.close()


def read_hotline_file(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a hotline CSV (UTF-8/GBK) or Excel file as (row number, canonical values).

    The file type is told by content (an .xlsx is a zip archive), not by its name. The header
    is row 1; blank rows are skipped.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{name}: cannot read the file ({exc.strerror})", file=name) from None
    if not data.strip():
        raise ValidationError(f"{name}: the file is empty", file=name)
    lines = _excel_rows(path, name) if data.startswith(b"PK\x03\x04") else _csv_rows(data, name)
    header = next(lines, None)
    if header is None:
        raise ValidationError(f"{name}: the file is empty", file=name)
    positions = _canonical_header(header[1], name)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in lines:
        if all(_text(v) == "" for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError(
                f"{name}: more than {MAX_ROWS} rows; split the file", file=name, row=number
            )
        rows.append(
            (number, {c: values[i] if i < len(values) else None for i, c in positions.items()})
        )
    if not rows:
        raise ValidationError(f"{name}: the file has a header but no rows", file=name)
    return rows


# ---------------------------------------------------------------------------- validation


@dataclass
class HotlineRow:
    """One checked hotline record, ready for create_case."""

    row: int
    ticket: str
    subclass: Subclass
    urgency: str
    lon: float
    lat: float
    crs: str
    description: str
    name: str | None
    phone: str | None


@dataclass
class HotlineImport:
    """What an import did: the case numbers created and the tickets already imported before."""

    file: str
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, column: str, reason: str) -> None:
        message = f"row {row}: {column}: {reason}"
        self.items.append({"row": row, "field": column, "reason": reason, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            n = len(self.items)
            raise ImportRejected(
                f"{self.file}: import refused, {n} problem{'s' if n > 1 else ''}; "
                f"first: {self.items[0]['message']}",
                self.items,
                file=self.file,
            )


def _called_at(value: Any, now: datetime) -> tuple[datetime | None, str | None]:
    if value is None or _text(value) == "":
        return None, None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(_text(value), fmt)
                break
            except ValueError:
                continue
        else:
            return None, f"{_text(value)!r} is not a time like 2026-06-01 08:30"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TZ)
    if parsed > now:
        return None, "the call time is in the future"
    return parsed, None


def _number(value: Any) -> float | None:
    try:
        return float(_text(value))
    except ValueError:
        return None


def _find_ticket(session: Session, ticket: str) -> Case | None:
    """A case already imported from this ticket, by any acceptor."""
    suffix = f":hotline:{ticket}"
    stmt = select(Case).where(Case.idempotency_key.endswith(suffix, autoescape=True))
    return session.scalars(stmt.limit(1)).first()


def _check_row(
    session: Session,
    number: int,
    raw: Mapping[str, Any],
    scope: Scope,
    now: datetime,
    problems: _Problems,
) -> HotlineRow | None:
    before = len(problems.items)
    ticket = _text(raw.get("ticket"))
    if not ticket:
        problems.add(number, "工单号", "is empty")
    elif len(ticket) > MAX_TICKET or not ticket.isprintable():
        problems.add(number, "工单号", f"must be 1–{MAX_TICKET} printable characters")
    kind = _KINDS.get(_text(raw.get("kind")).lower())
    if kind is None:
        problems.add(
            number, "类型", f"{_text(raw.get('kind'))!r} is not 事件/event or 部件/component"
        )
    code = _text(raw.get("subclass"))
    sub: Subclass | None = None
    if kind is not None:
        try:
            sub = get_subclass(session, code, kind) if code else None
        except NotFound:
            sub = None
        if sub is None or not sub.is_active:
            what = "is empty" if not code else f"unknown {kind.value} subclass {code!r}"
            problems.add(number, "小类编码", what)
            sub = None
    urgency = ""
    if sub is not None:
        given = _text(raw.get("urgency"))
        urgency = _URGENCY.get(given.lower(), given) if given else sub.urgency_levels[0]
        if urgency not in sub.urgency_levels:
            allowed = ", ".join(sub.urgency_levels)
            problems.add(number, "紧急程度", f"{given!r} is not allowed for {sub.name} ({allowed})")
    description = _text(raw.get("description"))
    if not description:
        problems.add(number, "描述", "is empty")
    elif len(description) > MAX_DESCRIPTION - 40:
        problems.add(number, "描述", f"is longer than {MAX_DESCRIPTION - 40} characters")
    elif "\x00" in description:
        problems.add(number, "描述", "contains a NUL character")
    called_at, why = _called_at(raw.get("called_at"), now)
    if why:
        problems.add(number, "来电时间", why)
    name, phone = _text(raw.get("name")) or None, _text(raw.get("phone")) or None
    if name and len(name) > 60:
        problems.add(number, "联系人", "is longer than 60 characters")
    if phone and len(phone) > 30:
        problems.add(number, "电话", "is longer than 30 characters")
    point = _locate(session, number, raw, scope, problems)
    if len(problems.items) > before or sub is None or point is None:
        return None
    if called_at is not None:
        description += f"（来电时间 {called_at.astimezone(TZ):%Y-%m-%d %H:%M}）"
    return HotlineRow(number, ticket, sub, urgency, *point, description, name, phone)


def _locate(
    session: Session, number: int, raw: Mapping[str, Any], scope: Scope, problems: _Problems
) -> tuple[float, float, str] | None:
    """(lon, lat, crs) from the row's coordinates or, failing those, its address."""
    lon, lat = _text(raw.get("lon")), _text(raw.get("lat"))
    crs = _CRS.get(_text(raw.get("crs")).lower().replace("-", ""))
    if lon or lat:
        x, y = _number(lon), _number(lat)
        if x is None or y is None:
            problems.add(number, "经度/纬度", f"{lon!r}, {lat!r} are not two numbers")
            return None
        if crs is None:
            problems.add(number, "坐标系", "must be wgs84, gcj02 or bd09")
            return None
        where = f"the point {x}, {y}"
    else:
        address = _text(raw.get("address"))
        if not address:
            problems.add(number, "地址", "is empty and there are no coordinates")
            return None
        try:
            matches = gazetteer.search(session, address, limit=1)
        except ValidationError as exc:
            problems.add(number, "地址", exc.message.removeprefix("q: "))
            return None
        if not matches or matches[0].score < MIN_ADDRESS_SCORE:
            best = f"; best match {matches[0].address} ({matches[0].score:.0f})" if matches else ""
            problems.add(number, "地址", f"{address!r} is not in the gazetteer{best}")
            return None
        x, y, crs = matches[0].lon, matches[0].lat, "wgs84"
        where = f"the address {address!r}"
    try:
        place = geocode(session, x, y, crs)  # type: ignore[arg-type]
    except NotFound:
        problems.add(number, "位置", f"{where} is outside every grid")
        return None
    except ValidationError as exc:
        problems.add(number, "经度/纬度", exc.message)
        return None
    if not scope.covers_grid(place["grid"]["code"]):
        problems.add(number, "位置", f"grid {place['grid']['code']} is outside your jurisdiction")
        return None
    return x, y, crs


# --------------------------------------------------------------------------------- filing


def intake_account(session: Session, settings: Settings) -> User | None:
    """The active acceptor account named by ``settings.intake_account``, or None."""
    user = session.scalar(select(User).where(User.username == settings.intake_account))
    if user is None or not user.active or user.role is not Role.ACCEPTOR:
        return None
    return user


def _filer(session: Session, actor: User, settings: Settings) -> User:
    """Who the cases are filed under: an acceptor themselves; for an admin the intake account
    (admins do not 上报 in the workflow table)."""
    if actor.role is Role.ACCEPTOR:
        return actor
    if actor.role is Role.ADMIN:
        account = intake_account(session, settings)
        if account is None:
            raise ValidationError(
                f"an admin's hotline import is filed under the acceptor account "
                f"{settings.intake_account!r}, which does not exist or is not an active acceptor",
                code="intake_account_missing",
            )
        return account
    raise ValidationError(f"role {actor.role.value} may not import hotline records")


def import_hotline(
    session: Session, path: str | Path, *, actor: User, settings: Settings, now: datetime
) -> HotlineImport:
    """热线工单导入: create one case per hotline record of a CSV or Excel file.

    Every row is validated first; any bad row refuses the whole file (ImportRejected listing
    every problem with its row number) and nothing is created. Tickets imported before are
    skipped, so importing the same file again creates nothing.
    """
    path = Path(path)
    rows = read_hotline_file(path)
    filer = _filer(session, actor, settings)
    scope = scope_of(session, filer)
    problems = _Problems(path.name)
    seen: dict[str, int] = {}
    clean: list[HotlineRow] = []
    result = HotlineImport(path.name)
    for number, raw in rows:
        row = _check_row(session, number, raw, scope, now, problems)
        if row is None:
            continue
        if row.ticket in seen:
            problems.add(number, "工单号", f"{row.ticket} is also on row {seen[row.ticket]}")
            continue
        seen[row.ticket] = number
        clean.append(row)
    problems.raise_if_any()
    try:
        with session.begin_nested():
            for row in clean:
                if _find_ticket(session, row.ticket) is not None:
                    result.skipped.append(row.ticket)
                    continue
                try:
                    case = _file(session, filer, row, now)
                except GridgovError as exc:
                    problems.add(row.row, "工单号", exc.message)
                    raise
                result.created.append(case.case_no)
    except GridgovError:
        problems.raise_if_any()
        raise
    audit.record(
        session,
        actor,
        "case.import_hotline",
        ("file", path.name),
        {"created": len(result.created), "skipped": len(result.skipped)},
    )
    session.flush()
    return result


def _file(session: Session, filer: User, row: HotlineRow, now: datetime) -> Case:
    contact = {"name": row.name, "phone": row.phone}
    return create_case(
        session,
        actor=filer,
        channel=Channel.HOTLINE,
        subclass=row.subclass.code,
        subclass_kind=row.subclass.kind.value,
        urgency=row.urgency,
        lon=row.lon,
        lat=row.lat,
        crs=row.crs,
        description=row.description,
        contact=contact,
        idempotency_key=f"hotline:{row.ticket}",
        now=now,
    )


# -------------------------------------------------------------------------------- alarms
