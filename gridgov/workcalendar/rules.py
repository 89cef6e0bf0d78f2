"""Day rules (节假日 / 调休上班) and the import of the State Council's yearly holiday notice.

A :class:`DayRule` says that one calendar date is a holiday or a working day, and where that
statement comes from. It maps 1:1 to a table row ``(date, kind, note, source)``.

The State Council (国务院办公厅) publishes the next year's holiday arrangement (节假日安排通知)
every November. Until the holiday package knows that year, an admin imports the notice as a small
table, one row per listed date::

    date,kind,note
    2027-01-01,holiday,元旦
    2027-02-07,workday,春节调休上班

:func:`parse_notice` validates such rows; :func:`read_notice_csv` reads them from a CSV file
(UTF-8, with or without BOM, or GBK as saved by Excel on Chinese Windows).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

_Date = date  # the field named ``date`` shadows the type inside DayRule

__all__ = [
    "DayKind",
    "DayRule",
    "KindValue",
    "RuleSource",
    "SourceValue",
    "parse_notice",
    "read_notice_csv",
]


class DayKind(StrEnum):
    """What a rule makes of a date: a day off (节假日/休) or a working day (工作日/班)."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"


class RuleSource(StrEnum):
    """Where a rule comes from, in increasing priority order of the calendar: the holiday
    package, an imported official notice (国务院通知), or a local override (本地调整)."""

    PACKAGE = "package"
    NOTICE = "notice"
    OVERRIDE = "override"


KindValue = DayKind | Literal["holiday", "workday"]
SourceValue = RuleSource | Literal["package", "notice", "override"]


@dataclass(frozen=True, slots=True, init=False)
class DayRule:
    """One date declared a holiday or a working day; one row of a calendar table.

    ``kind`` and ``source`` also accept their string values (``"holiday"``, ``"override"`` ...)
    and are stored as the enums.
    """

    date: date
    kind: DayKind
    note: str
    source: RuleSource

    def __init__(
        self,
        date: _Date,
        kind: KindValue,
        note: str | None = "",
        source: SourceValue = RuleSource.NOTICE,
    ) -> None:
        if isinstance(date, datetime) or not isinstance(date, _Date):
            raise ValueError(f"DayRule.date must be a date, got {date!r}")
        try:
            kind = DayKind(kind)
        except ValueError:
            raise ValueError(f"DayRule.kind must be 'holiday' or 'workday', got {kind!r}") from None
        try:
            source = RuleSource(source)
        except ValueError:
            raise ValueError(
                f"DayRule.source must be 'package', 'notice' or 'override', got {source!r}"
            ) from None
        object.__setattr__(self, "date", date)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "note", "" if note is None else str(note))
        object.__setattr__(self, "source", source)

    @property
    def is_working(self) -> bool:
        """True when the rule makes its date a working day."""
        return self.kind is DayKind.WORKDAY


# Spellings accepted in the kind column of a notice table (compared after strip + lower-case).
_KIND_WORDS: dict[str, DayKind] = {
    **{
        w: DayKind.HOLIDAY
        for w in ("holiday", "off", "rest", "day off", "休", "假", "放假", "休息", "节假日", "假日")
    },
    **{
        w: DayKind.WORKDAY
        for w in (
            "workday",
            "working day",
            "working_day",
            "work",
            "班",
            "上班",
            "补班",
            "工作日",
            "调休上班",
        )
    },
}

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"bad date {value!r}: a date without time is expected")
    if isinstance(value, date):
        return value
    text = str(value).strip() if value is not None else ""
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                break
    raise ValueError(f"bad date {text!r} (expected YYYY-MM-DD)")


def _parse_kind(value: Any) -> DayKind:
    if isinstance(value, DayKind):
        return value
    text = str(value).strip().lower() if value is not None else ""
    try:
        return _KIND_WORDS[text]
    except KeyError:
        raise ValueError(
            f"unknown kind {text!r} (expected 'holiday'/'休' or 'workday'/'班')"
        ) from None


def _cells(row: Sequence[Any] | Mapping[str, Any]) -> tuple[Any, Any, Any]:
    if isinstance(row, Mapping):
        lowered = {str(k).strip().lower(): v for k, v in row.items()}

        def pick(*names: str) -> Any:
            for n in names:
                if n in lowered:
                    return lowered[n]
            return None

        return (
            pick("date", "日期"),
            pick("kind", "type", "类型", "安排"),
            pick("note", "备注", "说明", "name", "名称"),
        )
    if isinstance(row, str | bytes) or len(row) < 2:
        raise ValueError("expected at least two cells: date, kind[, note]")
    return row[0], row[1], row[2] if len(row) > 2 else ""


def _parse_numbered(
    numbered: Iterable[tuple[str, Sequence[Any] | Mapping[str, Any]]],
) -> list[DayRule]:
    rules: list[DayRule] = []
    seen: dict[date, str] = {}
    year: int | None = None
    year_label = ""
    for label, row in numbered:
        try:
            raw_date, raw_kind, raw_note = _cells(row)
            day = _parse_date(raw_date)
            kind = _parse_kind(raw_kind)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None
        if day in seen:
            raise ValueError(f"{label}: duplicate date {day.isoformat()} (first in {seen[day]})")
        if year is None:
            year, year_label = day.year, label
        elif day.year != year:
            raise ValueError(
                f"{label}: date {day.isoformat()} is not in {year} ({year_label}); "
                "a notice covers exactly one year — put other years' dates in their own notice "
                "or in a local override"
            )
        seen[day] = label
        note = "" if raw_note is None else str(raw_note).strip()
        rules.append(DayRule(day, kind, note, RuleSource.NOTICE))
    if not rules:
        raise ValueError("the notice has no rows")
    rules.sort(key=lambda r: r.date)
    return rules


def parse_notice(rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> list[DayRule]:
    """Validate an official holiday notice given as rows and return its rules (source ``notice``).

    Each row is ``(date, kind[, note])`` or a mapping with keys ``date``, ``kind``, ``note`` (also
    日期 / 类型 / 备注). Dates may be ``date`` objects or text such as ``2027-01-01``,
    ``2027/1/1`` or ``2027年1月1日``; kinds are ``holiday`` / ``workday`` or 休 / 班 (放假, 上班,
    补班, 工作日 ...). Dates not listed follow the Monday–Friday rule for that year.

    Raises ``ValueError`` naming the first bad row (1-based): a bad date, an unknown kind, a
    duplicate date, a date in another year than the first row's, or no rows at all.
    The result is sorted by date.
    """
    return _parse_numbered((f"row {i}", row) for i, row in enumerate(rows, start=1))


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        return data.decode(encoding)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # superset of GBK / GB2312
    except UnicodeDecodeError:
        raise ValueError("the file is neither UTF-8 nor GBK text") from None


def read_notice_csv(path: str | Path, *, encoding: str | None = None) -> list[DayRule]:
    """Read a holiday notice from a CSV file and validate it with the rules of :func:`parse_notice`.

    The file is UTF-8 (a BOM is allowed) or GBK/GB18030; pass ``encoding`` to force one. An
    optional header row (``date,kind,note`` or ``日期,类型,备注``) is skipped; blank lines are
    ignored. Errors name the line of the file (``line 4: bad date ...``).
    """
    text = _decode(Path(path).read_bytes(), encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    numbered: list[tuple[str, list[str]]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if not numbered and row and row[0].strip().lower() in ("date", "日期"):
            continue  # header
        numbered.append((f"line {reader.line_num}", row))
    return _parse_numbered(numbered)
