"""The working calendar's database side: notice import, local overrides, the cached calendar.

* :func:`import_notice` validates an official holiday notice (rows or a CSV file) with
  :func:`~gridgov.workcalendar.parse_notice` and replaces that year's notice rows — all or
  nothing, audited.
* :func:`set_override` / :func:`delete_override` maintain local overrides (本地调整), audited.
* :func:`calendar_for` builds the deployment's :class:`WorkingCalendar` (holiday package +
  imported notices + overrides + ``settings.office_hours`` / ``settings.timezone``). It is cached
  per engine; the cache is dropped on every write made here and re-checked against a cheap
  fingerprint of the table, so writes by another process or a rolled-back transaction are seen too.
* :func:`status` says whether a year is covered and where its holidays come from.

All writes happen in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, TypedDict

from sqlalchemy import CursorResult, Engine, delete, func, select
from sqlalchemy.orm import Session

from gridgov import revisions
from gridgov.accounts.audit import record
from gridgov.accounts.models import User
from gridgov.calendar_admin.models import CalendarRule
from gridgov.config import Settings
from gridgov.db import utcnow
from gridgov.errors import NotFound, ValidationError
from gridgov.workcalendar import (
    PACKAGE_YEARS,
    DayKind,
    DayRule,
    RuleSource,
    WorkingCalendar,
    parse_notice,
    read_notice_csv,
    uncovered_warning,
)

__all__ = [
    "CalendarStatus",
    "calendar_for",
    "delete_override",
    "import_notice",
    "invalidate",
    "list_rules",
    "set_override",
    "status",
]

YearSource = Literal["package", "notice", "fallback"]
NoticeInput = str | Path | Iterable[Sequence[Any] | Mapping[str, Any]]


class CalendarStatus(TypedDict):
    """What :func:`status` returns for one year."""

    year: int
    covered: bool
    source: YearSource
    warning: str | None
    warning_zh: str | None
    warning_en: str | None


# -- the cache ---------------------------------------------------------------------------------

_Fingerprint = tuple[int, int, datetime | None]
_CacheKey = tuple[Engine, tuple[tuple[time, time], ...], str]
_cache: dict[_CacheKey, tuple[_Fingerprint, WorkingCalendar]] = {}
_lock = threading.Lock()
_SESSION_KEY = "gridgov.calendar_admin.calendar"
_generation = [0]  # bumped by every invalidation: session memos older than it are re-checked


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def invalidate(session: Session | None = None) -> None:
    """Drop the cached calendars (of ``session``'s engine, or all of them)."""
    with _lock:
        _generation[0] += 1
        if session is None:
            _cache.clear()
        else:
            engine = _engine_of(session)
            for key in [k for k in _cache if k[0] is engine]:
                del _cache[key]
    if session is not None:
        session.info.pop(_SESSION_KEY, None)


# Checked on every request that computes a deadline: read with the other caches' versions.
revisions.register(
    "calendar",
    *(
        select(agg).scalar_subquery().label(None)
        for agg in (
            func.count(CalendarRule.id),
            func.coalesce(func.sum(CalendarRule.id), 0),
            func.max(CalendarRule.imported_at),
        )
    ),
)


def _fingerprint(session: Session) -> _Fingerprint:
    count, id_sum, last = revisions.current(session, "calendar")
    if isinstance(last, datetime) and last.tzinfo is not None:
        last = last.replace(tzinfo=None)  # SQLite gives naive text, PostgreSQL aware: compare alike
    return int(count), int(id_sum), last


def _build(session: Session, settings: Settings) -> WorkingCalendar:
    rows = session.scalars(select(CalendarRule).order_by(CalendarRule.day, CalendarRule.source))
    return WorkingCalendar.from_rules(
        [r.to_rule() for r in rows], settings.office_periods, settings.timezone
    )


def calendar_for(session: Session, settings: Settings) -> WorkingCalendar:
    """The deployment's working calendar: holiday package, imported notices, local overrides,
    ``settings.office_hours`` and ``settings.timezone``.

    Cached per engine and settings; one fingerprint query per session checks that the stored
    rules have not changed since (memoised in ``session.info`` for the session's lifetime).
    """
    key: _CacheKey = (_engine_of(session), settings.office_periods, settings.timezone)
    memo = session.info.get(_SESSION_KEY)
    if memo is not None and memo[0] == (*key[1:], _generation[0]):
        return memo[1]  # type: ignore[no-any-return]
    generation = _generation[0]
    fingerprint = _fingerprint(session)
    with _lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == fingerprint:
        cal = hit[1]
    else:
        cal = _build(session, settings)
        with _lock:
            _cache[key] = (fingerprint, cal)
    session.info[_SESSION_KEY] = ((*key[1:], generation), cal)
    return cal


# -- writes ------------------------------------------------------------------------------------


def _parse(source: NoticeInput) -> list[DayRule]:
    try:
        if isinstance(source, str | Path):
            return read_notice_csv(source)
        return parse_notice(source)
    except (ValueError, OSError, csv.Error) as exc:
        raise ValidationError(f"notice refused: {exc}", code="bad_notice") from None


def import_notice(session: Session, source: NoticeInput, actor: User | None) -> dict[str, Any]:
    """Import one year's official holiday notice (节假日安排通知).

    ``source`` is a CSV file path or rows as :func:`parse_notice` takes them. Every row is
    validated before anything is written (bad date, unknown kind, duplicate date, dates of two
    years: :class:`ValidationError`, nothing written); then the year's previous notice rows are
    replaced by these. Audited as ``calendar.notice_import``. Returns a summary.
    """
    rules = _parse(source)
    year = rules[0].date.year
    actor_id = actor.id if actor is not None else None
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(CalendarRule).where(
            CalendarRule.source == RuleSource.NOTICE,
            CalendarRule.day >= date(year, 1, 1),
            CalendarRule.day <= date(year, 12, 31),
        )
    )
    session.add_all(
        CalendarRule(
            day=r.date,
            kind=r.kind,
            note=r.note[:200],
            source=RuleSource.NOTICE,
            imported_by=actor_id,
        )
        for r in rules
    )
    session.flush()
    summary = {
        "year": year,
        "rows": len(rules),
        "holidays": sum(1 for r in rules if r.kind is DayKind.HOLIDAY),
        "workdays": sum(1 for r in rules if r.kind is DayKind.WORKDAY),
        "replaced": int(result.rowcount or 0),
    }
    record(session, actor, "calendar.notice_import", ("calendar_notice", year), summary)
    invalidate(session)
    return summary


def _day(value: date | str) -> date:
    if isinstance(value, datetime):
        raise ValidationError(
            f"bad date {value!r}: a date without time is expected", code="bad_date"
        )
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            f"bad date {value!r} (expected YYYY-MM-DD)", code="bad_date"
        ) from None


def set_override(
    session: Session, day: date | str, kind: DayKind | str, note: str, actor: User | None
) -> CalendarRule:
    """Declare ``day`` a holiday or a working day locally (本地调整); replaces an earlier override
    of that date. Beats the notice and the package. Audited as ``calendar.override_set``."""
    the_day = _day(day)
    try:
        the_kind = DayKind(kind)
    except ValueError:
        raise ValidationError(
            f"unknown kind {kind!r} (expected 'holiday' or 'workday')", code="bad_kind"
        ) from None
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError("note is longer than 200 characters", code="bad_note")
    row = session.scalars(
        select(CalendarRule).where(
            CalendarRule.day == the_day, CalendarRule.source == RuleSource.OVERRIDE
        )
    ).one_or_none()
    before = None if row is None else row.kind.value
    if row is None:
        row = CalendarRule(day=the_day, source=RuleSource.OVERRIDE)
        session.add(row)
    row.kind = the_kind
    row.note = note
    row.imported_at = utcnow()
    row.imported_by = actor.id if actor is not None else None
    session.flush()
    record(
        session,
        actor,
        "calendar.override_set",
        row,
        {"date": the_day.isoformat(), "kind": the_kind.value, "note": note, "before": before},
    )
    invalidate(session)
    return row


def delete_override(session: Session, day: date | str, actor: User | None) -> None:
    """Remove the local override of ``day`` (404 when there is none). Audited."""
    the_day = _day(day)
    row = session.scalars(
        select(CalendarRule).where(
            CalendarRule.day == the_day, CalendarRule.source == RuleSource.OVERRIDE
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no local override for {the_day.isoformat()}", date=the_day.isoformat())
    record(
        session,
        actor,
        "calendar.override_delete",
        row,
        {"date": the_day.isoformat(), "kind": row.kind.value},
    )
    session.delete(row)
    session.flush()
    invalidate(session)


# -- reads -------------------------------------------------------------------------------------


def _year(year: int) -> int:
    if not isinstance(year, int) or not 1900 <= year <= 2200:
        raise ValidationError(f"year {year!r} is out of range (1900–2200)", code="bad_year")
    return year


def status(session: Session, settings: Settings, year: int) -> CalendarStatus:
    """Whether ``year``'s holidays are known and from where: ``notice`` (an imported notice wins),
    ``package`` (the holiday package), or ``fallback`` (Monday–Friday, with a warning)."""
    _year(year)
    cal = calendar_for(session, settings)
    source: YearSource
    if year in cal.notice_years:
        source = "notice"
    elif year in PACKAGE_YEARS:
        source = "package"
    else:
        source = "fallback"
    warning = None if cal.covered(year) else uncovered_warning(year)
    zh, _, en = (warning or "").partition(" / ")
    return CalendarStatus(
        year=year,
        covered=cal.covered(year),
        source=source,
        warning=warning,
        warning_zh=zh or None,
        warning_en=en or None,
    )


def list_rules(session: Session, settings: Settings, year: int) -> list[dict[str, Any]]:
    """Every rule that concerns ``year``: stored notice and override rows plus the holiday
    package's days, by date; ``effective`` marks the rule that decides its date."""
    _year(year)
    cal = calendar_for(session, settings)
    out: list[dict[str, Any]] = []
    rows = session.scalars(
        select(CalendarRule)
        .where(CalendarRule.day >= date(year, 1, 1), CalendarRule.day <= date(year, 12, 31))
        .order_by(CalendarRule.day, CalendarRule.source)
    )
    for r in rows:
        decides = cal.rule_for(r.day)
        out.append(
            {
                "date": r.day,
                "kind": r.kind.value,
                "note": r.note,
                "source": r.source.value,
                "imported_at": r.imported_at,
                "imported_by": r.imported_by,
                "effective": decides is not None and decides.source is r.source,
            }
        )
    if year in PACKAGE_YEARS and year not in cal.notice_years:
        package_only = WorkingCalendar()
        day = date(year, 1, 1)
        while day.year == year:
            rule = package_only.rule_for(day)
            if rule is not None and rule.source is RuleSource.PACKAGE:
                decides = cal.rule_for(day)
                out.append(
                    {
                        "date": day,
                        "kind": rule.kind.value,
                        "note": rule.note,
                        "source": rule.source.value,
                        "imported_at": None,
                        "imported_by": None,
                        "effective": decides is not None and decides.source is RuleSource.PACKAGE,
                    }
                )
            day = date.fromordinal(day.toordinal() + 1)
    out.sort(key=lambda d: (d["date"], d["source"]))
    return out
