"""Deadline arithmetic, time used and warning lights (处置时限, 黄灯/红灯)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.workcalendar import (
    DayRule,
    Deadline,
    TimeLimit,
    TimeUnit,
    WorkingCalendar,
    deadline,
    elapsed,
    light,
    workdays,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar()
WARNING_2027 = (
    "2027 年的节假日安排尚未导入，按周一至周五计算 / holidays for 2027 not imported: "
    "Monday–Friday assumed"
)


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Beijing wall-clock time as the UTC instant the platform stores."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SH).astimezone(UTC)


def due_local(start: datetime, limit: str, cal: WorkingCalendar = CAL) -> datetime:
    """The deadline shown in Beijing time, as a naive datetime for readable assertions."""
    result = deadline(start, TimeLimit.parse(limit), cal)
    assert result.due_at.tzinfo is UTC
    return result.due_at.astimezone(SH).replace(tzinfo=None)


@pytest.fixture
def no_2027_in_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workdays, "PACKAGE_YEARS", range(2004, 2027))


# -- the example and the big holidays ------------------------------------------------


def test_one_working_day_across_national_day_2026() -> None:
    # Wed 30 Sep 2026 is the last working day before 国庆 (1–7 Oct off), Thu 8 Oct the first after.
    result = deadline(local(2026, 9, 30, 16, 0), TimeLimit(1, "working_days"), CAL)
    assert result == Deadline(datetime(2026, 10, 8, 8, 0, tzinfo=UTC))
    assert result.due_at.astimezone(SH) == datetime(2026, 10, 8, 16, 0, tzinfo=SH)
    assert result.warnings == () and result.reliable


def test_working_hours_across_national_day_2026() -> None:
    # 1.5 h on 30 Sep (16:00–17:30), then 2.5 h on 8 Oct from 08:30.
    assert due_local(local(2026, 9, 30, 16, 0), "4工作时") == datetime(2026, 10, 8, 11, 0)


def test_spring_festival_2026_working_days() -> None:
    # Fri 13 Feb + 2: Sat 14 Feb (调休, worked) is day 1; 15–23 Feb are off; Tue 24 Feb is day 2.
    assert due_local(local(2026, 2, 13, 16, 0), "2工作日") == datetime(2026, 2, 24, 16, 0)
    # 15 working days from Fri 13 Feb: 14, 24–28 Feb (Sat 28 Feb is a 调休 working day),
    # 2–6 and 9–12 Mar.
    assert due_local(local(2026, 2, 13, 10, 0), "15工作日") == datetime(2026, 3, 12, 10, 0)


def test_spring_festival_2026_working_hours() -> None:
    # From Sat 14 Feb 16:00 (a 调休 working day): 1.5 h that day, the rest on Tue 24 Feb.
    assert due_local(local(2026, 2, 14, 16, 0), "4工作时") == datetime(2026, 2, 24, 11, 0)


def test_adjusted_weekend_days_count_as_working() -> None:
    # Sat 28 Feb 2026 and Sat 10 Oct 2026 are 调休 working days; Sun 20 Sep 2026 too.
    assert due_local(local(2026, 2, 27, 17, 0), "2工作时") == datetime(2026, 2, 28, 10, 0)
    assert due_local(local(2026, 10, 9, 17, 0), "1工作时") == datetime(2026, 10, 10, 9, 0)
    assert due_local(local(2026, 9, 18, 17, 0), "1工作日") == datetime(2026, 9, 20, 17, 0)
    # An ordinary weekend is skipped: Fri 13 Mar 2026 17:00 + 1 h → Mon 16 Mar 09:00.
    assert due_local(local(2026, 3, 13, 17, 0), "1工作时") == datetime(2026, 3, 16, 9, 0)


# -- office hours ----------------------------------------------------------------------------


def test_lunch_break_is_excluded() -> None:
    assert due_local(local(2026, 3, 3, 11, 0), "2工作时") == datetime(2026, 3, 3, 14, 30)
    assert due_local(local(2026, 3, 3, 12, 30), "1工作时") == datetime(2026, 3, 3, 14, 30)
    # A limit used up exactly at noon is due at noon, not when the office reopens.
    assert due_local(local(2026, 3, 3, 10, 0), "2工作时") == datetime(2026, 3, 3, 12, 0)
    assert due_local(local(2026, 3, 3, 8, 30), "7.5工作时") == datetime(2026, 3, 3, 17, 30)


@pytest.mark.parametrize(
    ("start", "limit", "due"),
    [
        # before 08:30: counting starts at 08:30 the same day
        ((2026, 3, 3, 7, 0), "1工作时", (2026, 3, 3, 9, 30)),
        ((2026, 3, 3, 7, 0), "1工作日", (2026, 3, 4, 8, 30)),
        # after 17:30: counting starts at 08:30 the next working day
        ((2026, 3, 3, 18, 0), "1工作时", (2026, 3, 4, 9, 30)),
        ((2026, 3, 3, 18, 0), "1工作日", (2026, 3, 5, 8, 30)),
        # in the lunch break: working days keep the afternoon opening as the time of day
        ((2026, 3, 3, 12, 30), "1工作日", (2026, 3, 4, 13, 30)),
        # exactly at a period's close: still inside, the time of day is kept
        ((2026, 3, 3, 17, 30), "1工作日", (2026, 3, 4, 17, 30)),
        ((2026, 3, 3, 12, 0), "1工作日", (2026, 3, 4, 12, 0)),
        # on a holiday (Sat 3 Oct 2026, 国庆): counting starts Thu 8 Oct 08:30
        ((2026, 10, 3, 10, 0), "1工作时", (2026, 10, 8, 9, 30)),
        ((2026, 10, 3, 10, 0), "1工作日", (2026, 10, 9, 8, 30)),
        # a fractional working day is that share of a 7.5 h office day, in working hours:
        # 1 day to Wed 16:00, then 0.2 × 7.5 h = 1.5 h, used up at the 17:30 close
        ((2026, 3, 3, 16, 0), "1.2工作日", (2026, 3, 4, 17, 30)),
        ((2026, 3, 3, 16, 0), "1.5工作日", (2026, 3, 5, 10, 45)),
        # a zero limit is due at once
        ((2026, 3, 3, 20, 0), "0工作时", (2026, 3, 3, 20, 0)),
    ],
)
def test_starts_outside_office_hours(
    start: tuple[int, int, int, int, int], limit: str, due: tuple[int, int, int, int, int]
) -> None:
    assert due_local(local(*start), limit) == datetime(*due)


def test_natural_hours_ignore_the_calendar(no_2027_in_package: None) -> None:
    assert due_local(local(2026, 9, 30, 16, 0), "6自然时") == datetime(2026, 9, 30, 22, 0)
    assert due_local(local(2026, 10, 1, 22, 0), "6自然时") == datetime(2026, 10, 2, 4, 0)
    result = deadline(local(2027, 1, 1, 10, 0), TimeLimit(48, "natural_hours"), CAL)
    assert result == Deadline(local(2027, 1, 3, 10, 0))  # no warning: no calendar involved


# -- years the package does not know -----------------------------------------------------------


def test_uncovered_year_falls_back_to_monday_to_friday_with_a_warning(
    no_2027_in_package: None,
) -> None:
    cal = WorkingCalendar()
    # Fri 1 Jan 2027 is taken as a working day because nobody imported the 2027 notice.
    result = deadline(local(2026, 12, 31, 16, 0), TimeLimit(1, "working_days"), cal)
    assert result.due_at == local(2027, 1, 1, 16, 0)
    assert result.warnings == (WARNING_2027,)
    assert result.uncovered_years == (2027,) and not result.reliable
    result = deadline(local(2027, 3, 1, 10, 0), TimeLimit(5, "working_days"), cal)
    assert result.due_at == local(2027, 3, 8, 10, 0)
    assert result.warnings == (WARNING_2027,)


def test_imported_notice_applies_without_warning(no_2027_in_package: None) -> None:
    cal = WorkingCalendar(notices=[DayRule(date(2027, 1, 1), "holiday", "元旦")])
    result = deadline(local(2026, 12, 31, 16, 0), TimeLimit(1, "working_days"), cal)
    assert result == Deadline(local(2027, 1, 4, 16, 0))  # Fri 1 Jan off, weekend, Mon 4 Jan


def test_override_beats_the_package() -> None:
    # A local stoppage on Thu 8 Oct 2026 moves the 国庆 example one more day.
    cal = WorkingCalendar(overrides=[DayRule(date(2026, 10, 8), "holiday", "台风", "override")])
    assert due_local(local(2026, 9, 30, 16, 0), "1工作日", cal) == datetime(2026, 10, 9, 16, 0)
    # Duty on Sat 3 Oct (a 国庆 holiday in the package) makes that day count.
    cal = WorkingCalendar(overrides=[DayRule(date(2026, 10, 3), "workday", "值守", "override")])
    assert due_local(local(2026, 9, 30, 16, 0), "1工作日", cal) == datetime(2026, 10, 3, 16, 0)


# -- time used and lights --------------------------------------------------------------------


def test_elapsed_counts_office_time_only() -> None:
    start = local(2026, 9, 30, 16, 0)
    assert elapsed(start, local(2026, 10, 8, 16, 0), CAL, "working_hours") == 7.5
    assert elapsed(start, local(2026, 10, 8, 16, 0), CAL, "working_days") == 1.0
    assert elapsed(start, local(2026, 10, 5, 12, 0), CAL, "working_hours") == 1.5
    assert elapsed(start, local(2026, 10, 1, 16, 0), CAL, "natural_hours") == 24.0
    assert elapsed(start, local(2026, 9, 29, 0, 0), CAL, "working_hours") == 0.0


def test_lights_for_working_hours_at_the_boundaries() -> None:
    start = local(2026, 3, 2, 8, 30)  # Monday
    due = deadline(start, TimeLimit(4, "working_hours"), CAL).due_at
    assert due == local(2026, 3, 2, 14, 0)  # 3.5 h in the morning, 0.5 h after lunch
    # 80 % of 4 h = 3 h 12 min, reached at 11:42.
    assert light(start, due, local(2026, 3, 2, 11, 41, 59), CAL, unit="working_hours") == "green"
    assert light(start, due, local(2026, 3, 2, 11, 42), CAL, unit="working_hours") == "yellow"
    assert light(start, due, local(2026, 3, 2, 12, 45), CAL, unit="working_hours") == "yellow"
    assert light(start, due, due, CAL, unit="working_hours") == "yellow"
    assert light(start, due, due + timedelta(seconds=1), CAL, unit="working_hours") == "red"
    assert light(start, due, start - timedelta(hours=1), CAL, unit="working_hours") == "green"
    at_half = local(2026, 3, 2, 10, 30)
    assert light(start, due, at_half, CAL, 0.5, unit="working_hours") == "yellow"
    assert light(start, due, at_half, CAL, 0.51, unit="working_hours") == "green"


def test_lights_for_working_days_use_working_time() -> None:
    start = local(2026, 9, 30, 16, 0)
    due = deadline(start, TimeLimit(1, "working_days"), CAL).due_at
    # 80 % of one 7.5 h day = 6 h: 1.5 h on 30 Sep + 3.5 h + 1 h on 8 Oct → 14:30.
    assert light(start, due, local(2026, 10, 5, 10, 0), CAL, unit="working_days") == "green"
    assert light(start, due, local(2026, 10, 8, 14, 29), CAL, unit="working_days") == "green"
    assert light(start, due, local(2026, 10, 8, 14, 30), CAL, unit="working_days") == "yellow"
    assert elapsed(start, local(2026, 10, 8, 14, 30), CAL, "working_days") == 0.8
    assert light(start, due, local(2026, 10, 8, 16, 1), CAL, unit="working_days") == "red"


def test_lights_for_natural_hours_use_the_clock() -> None:
    start = local(2026, 10, 1, 8, 0)  # a holiday: natural hours do not care
    due = deadline(start, TimeLimit(10, "natural_hours"), CAL).due_at
    assert light(start, due, local(2026, 10, 1, 15, 59, 59), CAL, unit="natural_hours") == "green"
    assert light(start, due, local(2026, 10, 1, 16, 0), CAL, unit="natural_hours") == "yellow"
    assert light(start, due, local(2026, 10, 1, 18, 0, 1), CAL, unit="natural_hours") == "red"


def test_a_limit_with_no_time_is_yellow_until_overdue() -> None:
    start = local(2026, 3, 3, 20, 0)
    assert light(start, start, start, CAL, unit="working_hours") == "yellow"
    assert light(start, start, start + timedelta(minutes=1), CAL, unit="working_hours") == "red"


# -- UTC storage -----------------------------------------------------------------------------


def test_utc_storage_round_trips() -> None:
    start_utc = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # 16:00 in Beijing
    start_sh = datetime(2026, 9, 30, 16, 0, tzinfo=SH)
    limit = TimeLimit(1, "working_days")
    stored = deadline(start_utc, limit, CAL).due_at
    assert stored == deadline(start_sh, limit, CAL).due_at
    assert stored.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(stored.isoformat()) == stored
    assert stored.astimezone(SH).isoformat() == "2026-10-08T16:00:00+08:00"
    # A calendar in another zone computes on its own wall clock (Urumqi office hours).
    urumqi = WorkingCalendar(tz="Asia/Urumqi")
    assert deadline(start_utc, limit, urumqi).due_at == datetime(2026, 10, 8, 8, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        deadline(datetime(2026, 9, 30, 16, 0), TimeLimit(1, "working_days"), CAL)
    with pytest.raises(ValueError, match="naive"):
        light(
            local(2026, 9, 30), datetime(2026, 10, 8), datetime.now(UTC), CAL, unit="working_days"
        )
    with pytest.raises(ValueError, match="unknown time unit 'wh'"):
        elapsed(local(2026, 9, 30), datetime.now(UTC), CAL, "wh")  # type: ignore[arg-type]


# -- TimeLimit -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("4工作时", TimeLimit(4, TimeUnit.WORKING_HOURS)),
        ("2 working days", TimeLimit(2, TimeUnit.WORKING_DAYS)),
        ("6自然时", TimeLimit(6, TimeUnit.NATURAL_HOURS)),
        ("15个工作日", TimeLimit(15, TimeUnit.WORKING_DAYS)),
        (" 0.5 working hours ", TimeLimit(0.5, TimeUnit.WORKING_HOURS)),
        ("1 working-day", TimeLimit(1, TimeUnit.WORKING_DAYS)),
        ("24小时", TimeLimit(24, TimeUnit.NATURAL_HOURS)),
        ("2 hours", TimeLimit(2, TimeUnit.NATURAL_HOURS)),
    ],
)
def test_time_limit_parse(text: str, limit: TimeLimit) -> None:
    assert TimeLimit.parse(text) == limit


@pytest.mark.parametrize(
    "text", ["4", "工作时", "4天", "-1工作时", "four working hours", "", "4 wk"]
)
def test_time_limit_parse_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read time limit"):
        TimeLimit.parse(text)


def test_time_limit_validates_values() -> None:
    assert str(TimeLimit(4, "working_hours")) == "4工作时"
    assert TimeLimit(2, "working_days").unit is TimeUnit.WORKING_DAYS
    with pytest.raises(ValueError, match="unknown time unit"):
        TimeLimit(4, "days")  # type: ignore[arg-type]
    for bad in (-1, float("nan"), float("inf"), 1e9):
        with pytest.raises(ValueError, match="time limit value"):
            TimeLimit(bad, "working_hours")


# -- properties and speed --------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)
)
minutes = st.integers(min_value=0, max_value=20_000)


@settings(max_examples=300, deadline=None)
@given(start=starts, a=minutes, b=minutes)
def test_working_hours_compose(start: datetime, a: int, b: int) -> None:
    first = deadline(start, TimeLimit(a / 60, "working_hours"), CAL).due_at
    whole = deadline(start, TimeLimit((a + b) / 60, "working_hours"), CAL).due_at
    assert whole == deadline(first, TimeLimit(b / 60, "working_hours"), CAL).due_at
    assert start <= first <= whole
    assert elapsed(start, first, CAL, "working_hours") == pytest.approx(a / 60, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=0, max_value=30))
def test_working_days_use_exactly_n_office_days(start: datetime, days: int) -> None:
    due = deadline(start, TimeLimit(days, "working_days"), CAL).due_at
    assert due >= start or days == 0
    assert elapsed(start, due, CAL, "working_days") == pytest.approx(days, abs=1e-9)


def test_fifteen_working_days_is_fast() -> None:
    cal = WorkingCalendar()
    limit = TimeLimit(15, "working_days")
    hours = TimeLimit(112.5, "working_hours")
    start = local(2026, 9, 25, 10, 0)
    deadline(start, limit, cal)  # warm the day cache, as a long-lived calendar would be
    runs = 2000
    began = clock.perf_counter()
    for i in range(runs):
        deadline(start + timedelta(minutes=i), limit, cal)
        deadline(start + timedelta(minutes=i), hours, cal)
    per_call = (clock.perf_counter() - began) / (2 * runs)
    assert per_call < 0.0005, f"{per_call * 1e6:.0f} µs per deadline"
