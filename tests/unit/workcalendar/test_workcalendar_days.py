"""Working days: the holiday package, imported notices, local overrides and their precedence."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from gridgov.workcalendar import (
    DayKind,
    DayRule,
    RuleSource,
    WorkingCalendar,
    parse_notice,
    read_notice_csv,
    workdays,
)

WARNING_2027 = (
    "2027 年的节假日安排尚未导入，按周一至周五计算 / holidays for 2027 not imported: "
    "Monday–Friday assumed"
)


@pytest.fixture
def no_2027_in_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the package's years to 2004–2026 (as in chinese_calendar 1.11), so the 2027 tests keep
    testing the fallback when a newer package learns 2027."""
    monkeypatch.setattr(workdays, "PACKAGE_YEARS", range(2004, 2027))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_national_day_2026_from_the_package() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2026, 9, 30))  # Wed: last working day before 国庆
    assert not any(cal.is_working_day(d) for d in _days(date(2026, 10, 1), date(2026, 10, 7)))
    assert cal.is_working_day(date(2026, 10, 8))  # Thu: first working day after
    # 调休 working days of 国庆 2026: Sunday 20 September and Saturday 10 October.
    assert cal.is_working_day(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert cal.is_working_day(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert not cal.is_working_day(date(2026, 10, 11))
    # 中秋 2026: Friday 25 to Sunday 27 September.
    assert not cal.is_working_day(date(2026, 9, 25))


def test_spring_festival_2026_from_the_package() -> None:
    cal = WorkingCalendar()
    # 春节 2026: Sunday 15 to Monday 23 February off; Saturdays 14 and 28 February worked.
    assert cal.is_working_day(date(2026, 2, 13))
    assert cal.is_working_day(date(2026, 2, 14)) and date(2026, 2, 14).weekday() == 5
    assert not any(cal.is_working_day(d) for d in _days(date(2026, 2, 15), date(2026, 2, 23)))
    assert cal.is_working_day(date(2026, 2, 24))
    assert cal.is_working_day(date(2026, 2, 28)) and date(2026, 2, 28).weekday() == 5
    assert not cal.is_working_day(date(2026, 3, 1))


def test_rule_for_explains_a_day() -> None:
    cal = WorkingCalendar()
    assert cal.rule_for(date(2026, 10, 10)) == DayRule(
        date(2026, 10, 10), "workday", "国庆节调休上班", "package"
    )
    assert cal.rule_for(date(2026, 10, 1)) == DayRule(
        date(2026, 10, 1), "holiday", "国庆节", "package"
    )
    assert cal.rule_for(date(2026, 3, 3)) is None  # an ordinary Tuesday


def test_coverage_and_warnings(no_2027_in_package: None) -> None:
    cal = WorkingCalendar()
    assert cal.covered(2004) and cal.covered(2026)
    assert not cal.covered(2027) and not cal.covered(2003)
    assert cal.warnings_for(date(2026, 12, 1), date(2026, 12, 31)) == []
    assert cal.warnings_for(date(2026, 12, 30), date(2027, 1, 5)) == [WARNING_2027]
    # 2027 falls back to Monday–Friday: New Year's Day 2027 (a Friday) counts as working.
    assert cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 1, 2))


def test_notice_covers_its_year(no_2027_in_package: None) -> None:
    notice = parse_notice(
        [
            ("2027-01-01", "holiday", "元旦"),
            ("2027-02-06", "workday", "春节调休上班"),
            ("2027-02-08", "holiday", "春节"),
        ]
    )
    cal = WorkingCalendar(notices=notice)
    assert cal.covered(2027)
    assert cal.warnings_for(date(2027, 1, 1), date(2027, 12, 31)) == []
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 2, 6))  # a Saturday made a working day
    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday made a holiday
    assert cal.is_working_day(date(2027, 3, 1))  # not listed: Monday–Friday
    assert not cal.is_working_day(date(2027, 3, 6))


def test_notice_beats_the_package_for_its_year() -> None:
    # A (hypothetical) corrected 2026 notice: the notice is authoritative for its whole year.
    cal = WorkingCalendar(notices=[DayRule(date(2026, 10, 1), "holiday", "国庆节")])
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 10, 2))  # not in this notice: a plain Friday
    assert not cal.is_working_day(date(2026, 10, 10))  # the package's 调休 Saturday no longer


def test_override_beats_package_and_notice(no_2027_in_package: None) -> None:
    overrides = [
        DayRule(date(2026, 10, 8), "holiday", "台风停工", "override"),
        DayRule(date(2026, 10, 3), "workday", "应急值守", "override"),
        DayRule(date(2027, 1, 1), "workday", "本地调整", "override"),
    ]
    notice = [DayRule(date(2027, 1, 1), "holiday", "元旦")]
    cal = WorkingCalendar(notices=notice, overrides=overrides)
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 3))
    assert cal.is_working_day(date(2027, 1, 1))
    rule = cal.rule_for(date(2026, 10, 8))
    assert rule is not None and rule.source is RuleSource.OVERRIDE


def test_overrides_alone_do_not_cover_a_year(no_2027_in_package: None) -> None:
    cal = WorkingCalendar(overrides=[DayRule(date(2027, 1, 1), "holiday", "", "override")])
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.covered(2027)


def test_from_rules_splits_rows_by_source(no_2027_in_package: None) -> None:
    rows = [
        DayRule(date(2027, 1, 1), "holiday", "元旦", "notice"),
        DayRule(date(2026, 10, 8), "holiday", "台风停工", "override"),
        DayRule(date(2026, 10, 9), "holiday", "ignored", "package"),
    ]
    cal = WorkingCalendar.from_rules(rows)
    assert cal.covered(2027)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 9))


def test_calendar_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="at least one period"):
        WorkingCalendar(office_hours=[])
    with pytest.raises(ValueError, match="open before it closes"):
        WorkingCalendar(office_hours=[(time(12, 0), time(8, 30))])
    with pytest.raises(ValueError, match="overlaps"):
        WorkingCalendar(office_hours=[(time(8, 30), time(12, 0)), (time(11, 0), time(17, 0))])
    with pytest.raises(ValueError, match="conflicting override rules for 2026-10-08"):
        WorkingCalendar(
            overrides=[
                DayRule(date(2026, 10, 8), "holiday", "", "override"),
                DayRule(date(2026, 10, 8), "workday", "", "override"),
            ]
        )
    with pytest.raises(ValueError, match="kind"):
        DayRule(date(2026, 10, 8), "vacation")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="source"):
        DayRule(date(2026, 10, 8), "holiday", "", "admin")  # type: ignore[arg-type]


# -- the notice table ------------------------------------------------------------------------


def test_parse_notice_accepts_chinese_and_english_forms() -> None:
    rules = parse_notice(
        [
            {"日期": "2027年2月6日", "类型": "班", "备注": "春节调休"},
            ("2027/1/1", "休", "元旦"),
            ("2027-02-08", "Holiday"),
            (date(2027, 10, 9), "working day", "国庆调休"),
        ]
    )
    assert rules == [
        DayRule(date(2027, 1, 1), DayKind.HOLIDAY, "元旦", RuleSource.NOTICE),
        DayRule(date(2027, 2, 6), DayKind.WORKDAY, "春节调休", RuleSource.NOTICE),
        DayRule(date(2027, 2, 8), DayKind.HOLIDAY, "", RuleSource.NOTICE),
        DayRule(date(2027, 10, 9), DayKind.WORKDAY, "国庆调休", RuleSource.NOTICE),
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("2027-01-01", "holiday"), ("2027-02-30", "holiday")], "row 2: bad date '2027-02-30'"),
        ([("2027-01-01", "holiday"), ("tomorrow", "holiday")], "row 2: bad date 'tomorrow'"),
        ([("2027-01-01", "vacation")], "row 1: unknown kind 'vacation'"),
        (
            [("2027-01-01", "holiday"), ("2027-01-02", "holiday"), ("2027-1-1", "workday")],
            r"row 3: duplicate date 2027-01-01 \(first in row 1\)",
        ),
        ([("2027-01-01", "holiday"), ("2028-01-01", "holiday")], "row 2: date 2028-01-01 is not"),
        ([("2027-01-01",)], "row 1: expected at least two cells"),
        ([], "no rows"),
    ],
)
def test_parse_notice_names_the_bad_row(rows: list[tuple[str, ...]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_notice(rows)


NOTICE_CSV = "日期,类型,备注\n2027-01-01,休,元旦\n\n2027-02-06,班,春节调休上班\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_read_notice_csv_in_utf8_and_gbk(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notice.csv"
    path.write_bytes(NOTICE_CSV.encode(encoding))
    assert read_notice_csv(path) == [
        DayRule(date(2027, 1, 1), "holiday", "元旦", "notice"),
        DayRule(date(2027, 2, 6), "workday", "春节调休上班", "notice"),
    ]


def test_read_notice_csv_names_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "notice.csv"
    path.write_text("date,kind,note\n2027-01-01,holiday,元旦\n\n2027-13-01,holiday,x\n", "utf-8")
    with pytest.raises(ValueError, match="line 4: bad date '2027-13-01'"):
        read_notice_csv(path)


def test_read_notice_csv_refuses_binary(tmp_path: Path) -> None:
    path = tmp_path / "notice.csv"
    path.write_bytes(b"\xff\xfe\x00\x81\x30\xff")
    with pytest.raises(ValueError, match="neither UTF-8 nor GBK"):
        read_notice_csv(path)


def test_package_docstring_example_runs() -> None:
    import doctest

    import gridgov.workcalendar as package

    assert doctest.testmod(package).failed == 0
