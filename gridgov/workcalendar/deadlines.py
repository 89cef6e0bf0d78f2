"""Deadline arithmetic (处置时限计算) and the derived warning lights (黄灯 / 红灯).

All functions are pure: instants go in and come out as aware UTC datetimes; the arithmetic runs on
the deployment's local wall clock (``cal.tz``). They step by office periods and days, never by
minutes, so a 15-working-day deadline takes microseconds.

Definitions (the same ones a query layer mirrors):

* **working hours** (工作时): only time inside office periods on working days counts. A start
  outside office hours begins counting at the next office period. The due time is the *earliest*
  instant by which the limit is used up, so a limit ending exactly at a period's close is due at
  the close (12:00, 17:30), not at the next opening. A zero limit is due at the start.
* **working days** (工作日): the start is first moved to the next moment inside office hours
  (unchanged if it is already inside a period, its open and close included; otherwise the opening
  of the next office period — later the same day, or the first period of the next working day).
  The due time is that local time of day on the N-th following working day. Example with
  08:30–12:00 / 13:30–17:30: Mon 16:00 + 1 → Tue 16:00; Mon 12:30 + 1 → Tue 13:30; Mon 18:00 + 1
  → Wed 08:30; Sat 10:00 + 1 → Tue 08:30. A fractional part is added afterwards as that fraction
  of one day's office hours, counted as working hours.
* **natural hours** (自然时): plain clock time; the calendar is ignored.

Working time used (:func:`elapsed`) is counted the same way; in working days it is the working
time divided by one day's office hours, so a deadline of N working days always has exactly N
working days of working time. Zones with daylight saving time are handled on the wall clock
(an office day is its listed periods); China has had none since 1991.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Literal

from gridgov.workcalendar.limits import TimeLimit, TimeUnit, UnitValue
from gridgov.workcalendar.workdays import WorkingCalendar

__all__ = ["Deadline", "Light", "deadline", "elapsed", "light", "working_time_between"]

Light = Literal["green", "yellow", "red"]

_ONE_DAY = timedelta(days=1)
_MAX_IDLE_DAYS = 3660  # ten years without a single working day means the rules are broken


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed deadline: ``due_at`` (aware UTC) and the warnings to show next to it.

    ``uncovered_years`` lists the years the computation relied on the Monday–Friday fallback for
    (no holiday package data, no imported notice); ``warnings`` has one text per such year.
    """

    due_at: datetime
    warnings: tuple[str, ...] = ()
    uncovered_years: tuple[int, ...] = ()

    @property
    def reliable(self) -> bool:
        """True when every day the deadline spans came from known holiday data."""
        return not self.uncovered_years


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(
            f"{name} is a naive datetime ({moment.isoformat()}); pass an aware UTC time"
        )
    return moment


def _unit(unit: UnitValue | str) -> TimeUnit:
    try:
        return TimeUnit(unit)
    except ValueError:
        choices = ", ".join(u.value for u in TimeUnit)
        raise ValueError(f"unknown time unit {unit!r} (expected one of {choices})") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _periods(cal: WorkingCalendar) -> list[tuple[timedelta, timedelta]]:
    return [(timedelta(seconds=o), timedelta(seconds=c)) for o, c in cal.periods]


def _advance_working(cal: WorkingCalendar, local: datetime, amount: timedelta) -> datetime:
    """Earliest local instant t ≥ ``local`` with ``amount`` of working time in [local, t]."""
    if amount <= timedelta(0):
        return local
    periods = _periods(cal)
    day_capacity = timedelta(seconds=cal.day_seconds)
    day = local.date()
    offset = local - _midnight(day)
    remaining = amount
    idle = 0
    while True:
        if cal.is_working_day(day):
            idle = 0
            if offset <= periods[0][0] and remaining > day_capacity:
                remaining -= day_capacity  # the whole office day is used
            else:
                for opens, closes in periods:
                    begin = max(opens, offset)
                    if begin >= closes:
                        continue
                    available = closes - begin
                    if remaining <= available:
                        return _midnight(day) + begin + remaining
                    remaining -= available
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError(f"no working day within ten years before {day.isoformat()}")
        day += _ONE_DAY
        offset = timedelta(0)


def _snap_into_office(cal: WorkingCalendar, local: datetime) -> datetime:
    """``local`` if it lies inside an office period (ends included) of a working day, else the
    opening of the next office period."""
    day = local.date()
    offset = local - _midnight(day)
    periods = _periods(cal)
    if cal.is_working_day(day):
        for opens, closes in periods:
            if offset < opens:
                return _midnight(day) + opens
            if offset <= closes:
                return local
    return _midnight(cal.next_working_day(day)) + periods[0][0]


def _working_between_local(cal: WorkingCalendar, a: datetime, b: datetime) -> timedelta:
    """Working time inside [a, b] (local wall clock); zero when b ≤ a."""
    if b <= a:
        return timedelta(0)
    periods = _periods(cal)
    day_capacity = timedelta(seconds=cal.day_seconds)
    total = timedelta(0)
    day, last = a.date(), b.date()
    while day <= last:
        if cal.is_working_day(day):
            base = _midnight(day)
            if a <= base + periods[0][0] and base + periods[-1][1] <= b:
                total += day_capacity
            else:
                for opens, closes in periods:
                    lo = max(a, base + opens)
                    hi = min(b, base + closes)
                    if hi > lo:
                        total += hi - lo
        day += _ONE_DAY
    return total


def working_time_between(cal: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time (office hours on working days) between two aware instants.

    Zero when ``end`` ≤ ``start``.
    """
    a = cal.to_local(_aware(start, "start"))
    b = cal.to_local(_aware(end, "end"))
    return _working_between_local(cal, a, b)


def _hours(value: float) -> timedelta:
    return timedelta(microseconds=round(value * 3_600_000_000))


def deadline(start: datetime, limit: TimeLimit, cal: WorkingCalendar) -> Deadline:
    """When a step that starts at ``start`` (aware, usually UTC) with ``limit`` is due.

    Returns a :class:`Deadline` whose ``due_at`` is aware UTC, and warnings for every year the
    computation spans whose holidays are unknown (the Monday–Friday fallback was used). Never
    raises for an uncovered year. See the module docstring for the exact rules per unit.
    """
    _aware(start, "start")
    if not isinstance(limit, TimeLimit):
        raise ValueError(f"limit must be a TimeLimit, got {limit!r}")
    if limit.unit is TimeUnit.NATURAL_HOURS:
        return Deadline(start.astimezone(UTC) + _hours(limit.value))

    local = cal.to_local(start)
    if limit.unit is TimeUnit.WORKING_HOURS:
        due_local = _advance_working(cal, local, _hours(limit.value))
    else:
        whole = int(limit.value)
        fraction = limit.value - whole
        snapped = _snap_into_office(cal, local)
        day = snapped.date()
        for _ in range(whole):
            day = cal.next_working_day(day)
        due_local = datetime.combine(day, snapped.time())
        if fraction:
            due_local = _advance_working(cal, due_local, _hours(fraction * cal.day_seconds / 3600))

    years = tuple(cal.uncovered_years(local.date(), due_local.date()))
    warnings = tuple(cal.warnings_for(local.date(), due_local.date()))
    return Deadline(cal.to_utc(due_local), warnings, years)


def elapsed(start: datetime, now: datetime, cal: WorkingCalendar, unit: UnitValue) -> float:
    """Time used between ``start`` and ``now`` in ``unit`` (0 when ``now`` ≤ ``start``).

    Working hours and working days count office time on working days only (a working day is one
    day's office hours); natural hours count the clock.
    """
    unit = _unit(unit)
    _aware(start, "start")
    _aware(now, "now")
    if unit is TimeUnit.NATURAL_HOURS:
        return max(0.0, (now - start).total_seconds() / 3600)
    used = working_time_between(cal, start, now).total_seconds()
    if unit is TimeUnit.WORKING_HOURS:
        return used / 3600
    return used / cal.day_seconds


def light(
    start: datetime,
    due: datetime,
    now: datetime,
    cal: WorkingCalendar,
    yellow_fraction: float = 0.8,
    *,
    unit: UnitValue,
) -> Light:
    """The warning light of a step: ``"red"`` (红灯) when ``now`` is after ``due``; ``"yellow"``
    (黄灯) when at least ``yellow_fraction`` of the limit is used, measured in the limit's own
    units (working time for working hours/days, clock time for natural hours); else ``"green"``.

    ``now == due`` is yellow, not red. A limit with no time in it (due at once) is yellow until
    overdue. The comparison is exact (``yellow_fraction`` is read as its shortest decimal, so 0.8
    means exactly 4/5).
    """
    unit = _unit(unit)
    _aware(start, "start")
    _aware(due, "due")
    _aware(now, "now")
    if not 0 <= yellow_fraction <= 1:
        raise ValueError(f"yellow_fraction must be between 0 and 1, got {yellow_fraction!r}")
    if now > due:
        return "red"
    if unit is TimeUnit.NATURAL_HOURS:
        total = due - start
        used = max(timedelta(0), now - start)
    else:
        total = working_time_between(cal, start, due)
        used = working_time_between(cal, start, now)
    if total <= timedelta(0):
        return "yellow"
    share = Fraction(repr(float(yellow_fraction)))
    used_us = used // timedelta(microseconds=1)
    total_us = total // timedelta(microseconds=1)
    return "yellow" if used_us * share.denominator >= total_us * share.numerator else "green"
