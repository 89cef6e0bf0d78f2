"""The working calendar (工作日历): which dates are working days, and the office hours.

Precedence for one date, highest first:

1. a local override (本地调整, entered by an admin);
2. the imported official notice (国务院节假日安排通知) for that date's year, if one was imported:
   the notice is authoritative for its whole year, so a date it does not list follows the
   Monday–Friday rule;
3. the holiday package ``chinese_calendar`` (public holidays and 调休 working days), for the
   years it knows;
4. otherwise Monday–Friday, and the year is reported as *uncovered*: :meth:`covered` is false
   and :meth:`warnings_for` returns a visible warning. Overrides alone do not cover a year.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from gridgov.workcalendar.rules import DayKind, DayRule, RuleSource

__all__ = ["DEFAULT_OFFICE_HOURS", "PACKAGE_YEARS", "WorkingCalendar"]

DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)

# Years the installed holiday package knows (it raises NotImplementedError outside them).
PACKAGE_YEARS: range = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)

_PACKAGE_NOTES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class WorkingCalendar:
    """Working days and office hours of one deployment.

    ``office_hours`` are local wall-clock periods ``(open, close)``, sorted and not overlapping;
    ``tz`` is the deployment's zone (all arithmetic happens in it, all results are UTC).
    ``notices`` are rules of imported official notices (any number of years); ``overrides`` are
    local rules. Two rules for one date in the same group are refused unless they agree.
    The calendar is immutable; build a new one when the rules change.
    """

    def __init__(
        self,
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: str | ZoneInfo = "Asia/Shanghai",
        notices: Iterable[DayRule] = (),
        overrides: Iterable[DayRule] = (),
    ) -> None:
        periods = tuple((o, c) for o, c in office_hours)
        if not periods:
            raise ValueError("office_hours must contain at least one period")
        previous_close = -1
        for o, c in periods:
            if not (isinstance(o, time) and isinstance(c, time)):
                raise ValueError(f"office period {(o, c)!r} must be two datetime.time values")
            if o.tzinfo is not None or c.tzinfo is not None or o.microsecond or c.microsecond:
                raise ValueError(
                    f"office period {o}–{c} must be naive local times in whole seconds"
                )
            if _seconds(o) >= _seconds(c):
                raise ValueError(f"office period {o}–{c} must open before it closes")
            if _seconds(o) < previous_close:
                raise ValueError(f"office period {o}–{c} overlaps or precedes the previous one")
            previous_close = _seconds(c)
        self.office_hours: tuple[tuple[time, time], ...] = periods
        # Periods as (open, close) seconds after local midnight, for the arithmetic.
        self.periods: tuple[tuple[int, int], ...] = tuple(
            (_seconds(o), _seconds(c)) for o, c in periods
        )
        self.day_seconds: int = sum(c - o for o, c in self.periods)
        self.tz: ZoneInfo = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.notices: dict[date, DayRule] = self._index(notices, "notice")
        self.overrides: dict[date, DayRule] = self._index(overrides, "override")
        self.notice_years: frozenset[int] = frozenset(d.year for d in self.notices)
        self._cache: dict[date, bool] = {}

    @staticmethod
    def _index(rules: Iterable[DayRule], what: str) -> dict[date, DayRule]:
        index: dict[date, DayRule] = {}
        for rule in rules:
            if not isinstance(rule, DayRule):
                raise ValueError(f"{what} rules must be DayRule values, got {rule!r}")
            known = index.get(rule.date)
            if known is not None and known.kind != rule.kind:
                raise ValueError(
                    f"conflicting {what} rules for {rule.date.isoformat()}: "
                    f"{known.kind} and {rule.kind}"
                )
            index.setdefault(rule.date, rule)
        return index

    @classmethod
    def from_rules(
        cls,
        rules: Iterable[DayRule],
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: str | ZoneInfo = "Asia/Shanghai",
    ) -> WorkingCalendar:
        """Build a calendar from stored rows, split by their ``source`` (``notice`` or
        ``override``; ``package`` rows are ignored: the package itself is consulted)."""
        rules = list(rules)
        return cls(
            office_hours,
            tz,
            notices=[r for r in rules if r.source is RuleSource.NOTICE],
            overrides=[r for r in rules if r.source is RuleSource.OVERRIDE],
        )

    # -- days --------------------------------------------------------------------------------

    def covered(self, year: int) -> bool:
        """True when ``year``'s holidays are known (imported notice or holiday package)."""
        return year in self.notice_years or year in PACKAGE_YEARS

    def rule_for(self, day: date) -> DayRule | None:
        """The rule that decides ``day``, or None when the plain Monday–Friday rule does
        (an ordinary weekday or weekend, or any day of an uncovered year)."""
        if isinstance(day, datetime):
            day = day.date()
        rule = self.overrides.get(day)
        if rule is not None:
            return rule
        if day.year in self.notice_years:
            return self.notices.get(day)
        if day.year in PACKAGE_YEARS:
            if day in chinese_calendar.workdays:
                name = chinese_calendar.workdays[day]
                note = _PACKAGE_NOTES.get(name, name)
                return DayRule(day, DayKind.WORKDAY, f"{note}调休上班", RuleSource.PACKAGE)
            if day in chinese_calendar.holidays:
                name = chinese_calendar.holidays[day]
                note = _PACKAGE_NOTES.get(name, name) if name else "调休"
                return DayRule(day, DayKind.HOLIDAY, note, RuleSource.PACKAGE)
        return None

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` (a local date) is a working day (工作日)."""
        if isinstance(day, datetime):
            day = day.date()
        cached = self._cache.get(day)
        if cached is None:
            rule = self.rule_for(day)
            cached = rule.is_working if rule is not None else day.weekday() < 5
            self._cache[day] = cached
        return cached

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after ``day`` (``day`` itself if ``include`` and it is one)."""
        if isinstance(day, datetime):
            day = day.date()
        if not include:
            day += timedelta(days=1)
        for _ in range(3660):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within ten years after {day.isoformat()}")

    def uncovered_years(self, start: date, end: date) -> list[int]:
        """Years between ``start`` and ``end`` (inclusive, either order) that are not covered."""
        if isinstance(start, datetime):
            start = start.date()
        if isinstance(end, datetime):
            end = end.date()
        lo, hi = sorted((start.year, end.year))
        return [y for y in range(lo, hi + 1) if not self.covered(y)]

    def warnings_for(self, start: date, end: date) -> list[str]:
        """Visible warnings (Chinese / English) for every uncovered year between two dates."""
        return [uncovered_warning(y) for y in self.uncovered_years(start, end)]

    # -- local time ----------------------------------------------------------------------------

    def to_local(self, moment: datetime) -> datetime:
        """An aware instant as a naive local wall-clock datetime in the calendar's zone."""
        if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: an aware (UTC) time is needed")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def to_utc(self, local: datetime) -> datetime:
        """A naive local wall-clock datetime as an aware UTC instant."""
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def __repr__(self) -> str:
        hours = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in self.office_hours)
        return (
            f"WorkingCalendar({hours}, tz={self.tz.key!r}, notices={len(self.notices)}, "
            f"overrides={len(self.overrides)})"
        )


def uncovered_warning(year: int) -> str:
    """The warning text for a year whose holiday arrangement is unknown."""
    return (
        f"{year} 年的节假日安排尚未导入，按周一至周五计算 / "
        f"holidays for {year} not imported: Monday–Friday assumed"
    )
