"""The stored working calendar: notice import, overrides, cache, status (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog, User
from gridgov.calendar_admin import store
from gridgov.calendar_admin.models import CalendarRule
from gridgov.cases.deadlines import deployment_calendar
from gridgov.config import Settings
from gridgov.errors import NotFound, ValidationError
from gridgov.workcalendar import TimeLimit, deadline

ONE_DAY = TimeLimit(1, "working_days")
# Thursday 2026-12-31 16:00 in Beijing: the last working day of 2026.
NEW_YEARS_EVE = datetime(2026, 12, 31, 8, 0, tzinfo=UTC)
# Wednesday 2026-09-30 16:00 in Beijing: the last working day before 国庆 2026.
BEFORE_NATIONAL_DAY = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)

NOTICE_2027 = [
    {"date": "2027-01-01", "kind": "holiday", "note": "元旦"},
    {"date": "2027-01-04", "kind": "休", "note": "元旦调休"},
    {"date": "2027-01-03", "kind": "workday", "note": "元旦调休上班"},  # a Sunday
]


def _rows(session: Session) -> int:
    return session.scalar(select(func.count(CalendarRule.id))) or 0


def _audits(session: Session, action: str) -> int:
    return session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == action)) or 0


def test_2027_falls_back_until_its_notice_is_imported(
    session: Session, settings: Settings, admin: User
) -> None:
    before = deadline(NEW_YEARS_EVE, ONE_DAY, store.calendar_for(session, settings))
    assert before.due_at == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)  # Friday, Monday–Friday rule
    assert before.uncovered_years == (2027,)
    assert "2027" in before.warnings[0] and "Monday–Friday" in before.warnings[0]
    st = store.status(session, settings, 2027)
    assert st["covered"] is False and st["source"] == "fallback"
    assert st["warning_zh"] and "周一至周五" in st["warning_zh"]
    assert st["warning_en"] and "Monday–Friday" in st["warning_en"]

    summary = store.import_notice(session, NOTICE_2027, admin)
    assert summary == {"year": 2027, "rows": 3, "holidays": 2, "workdays": 1, "replaced": 0}

    after = deadline(NEW_YEARS_EVE, ONE_DAY, store.calendar_for(session, settings))
    assert after.due_at == datetime(2027, 1, 3, 8, 0, tzinfo=UTC)  # the 调休 Sunday
    assert after.warnings == () and after.reliable
    st = store.status(session, settings, 2027)
    assert st == {
        "year": 2027,
        "covered": True,
        "source": "notice",
        "warning": None,
        "warning_zh": None,
        "warning_en": None,
    }
    assert store.status(session, settings, 2026)["source"] == "package"
    # The case deadlines use the same stored calendar.
    cal = deployment_calendar(session)
    assert deadline(NEW_YEARS_EVE, ONE_DAY, cal).due_at == after.due_at
    assert _audits(session, "calendar.notice_import") == 1
    assert all(r.imported_by == admin.id for r in session.scalars(select(CalendarRule)))


def test_reimport_replaces_that_years_notice(
    session: Session, settings: Settings, admin: User
) -> None:
    store.import_notice(session, NOTICE_2027, admin)
    summary = store.import_notice(session, [("2027-01-01", "休", "元旦")], admin)
    assert summary["replaced"] == 3 and _rows(session) == 1
    due = deadline(NEW_YEARS_EVE, ONE_DAY, store.calendar_for(session, settings))
    assert due.due_at == datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # Monday


def test_csv_notice(session: Session, settings: Settings, admin: User, tmp_path: Path) -> None:
    path = tmp_path / "notice.csv"
    path.write_text(
        "日期,类型,备注\n2027-01-01,休,元旦\n2027-01-03,班,调休上班\n", encoding="gb18030"
    )
    assert store.import_notice(session, path, admin)["rows"] == 2
    assert store.status(session, settings, 2027)["covered"] is True


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([("2027-01-01", "holiday"), ("2027-02-30", "holiday")], "bad date"),
        ([("2027-01-01", "holiday"), ("2027-01-02", "maybe")], "unknown kind"),
        ([("2027-01-01", "holiday"), ("2028-01-01", "holiday")], "not in 2027"),
        ([], "no rows"),
    ],
)
def test_bad_notice_is_refused_and_writes_nothing(
    session: Session, settings: Settings, admin: User, rows: list[tuple[str, str]], problem: str
) -> None:
    store.import_notice(session, [("2027-10-01", "holiday", "国庆节")], admin)
    with pytest.raises(ValidationError, match=problem):
        store.import_notice(session, rows, admin)
    rules = list(session.scalars(select(CalendarRule)))
    assert [(r.day.isoformat(), r.kind.value) for r in rules] == [("2027-10-01", "holiday")]
    assert _audits(session, "calendar.notice_import") == 1


def test_override_beats_the_package_and_can_be_removed(
    session: Session, settings: Settings, admin: User
) -> None:
    cal = store.calendar_for(session, settings)
    assert deadline(BEFORE_NATIONAL_DAY, ONE_DAY, cal).due_at == datetime(
        2026, 10, 8, 8, 0, tzinfo=UTC
    )
    row = store.set_override(session, "2026-10-08", "holiday", "本地停工", admin)
    assert row.imported_by == admin.id
    cal = store.calendar_for(session, settings)
    assert deadline(BEFORE_NATIONAL_DAY, ONE_DAY, cal).due_at == datetime(
        2026, 10, 9, 8, 0, tzinfo=UTC
    )
    rules = store.list_rules(session, settings, 2026)
    mine = [r for r in rules if r["date"].isoformat() == "2026-10-08"]
    assert [(r["source"], r["effective"]) for r in mine] == [("override", True)]
    national = [r for r in rules if r["date"].isoformat() == "2026-10-01"]
    assert national and national[0]["source"] == "package" and national[0]["effective"]

    store.set_override(session, "2026-10-08", "workday", "改回", admin)  # replaces, not a 2nd row
    assert _rows(session) == 1
    store.delete_override(session, "2026-10-08", admin)
    cal = store.calendar_for(session, settings)
    assert deadline(BEFORE_NATIONAL_DAY, ONE_DAY, cal).due_at == datetime(
        2026, 10, 8, 8, 0, tzinfo=UTC
    )
    assert _audits(session, "calendar.override_set") == 2
    assert _audits(session, "calendar.override_delete") == 1
    with pytest.raises(NotFound):
        store.delete_override(session, "2026-10-08", admin)


def test_override_beats_the_notice_but_does_not_cover_a_year(
    session: Session, settings: Settings, admin: User
) -> None:
    store.set_override(session, "2027-01-01", "holiday", "", admin)
    assert store.status(session, settings, 2027)["covered"] is False
    store.import_notice(session, [("2027-01-01", "holiday")], admin)
    store.set_override(session, "2027-01-01", "workday", "本地加班", admin)
    due = deadline(NEW_YEARS_EVE, ONE_DAY, store.calendar_for(session, settings))
    assert due.due_at == datetime(2027, 1, 1, 8, 0, tzinfo=UTC) and due.reliable


def test_bad_override_input(session: Session, admin: User) -> None:
    with pytest.raises(ValidationError, match="bad date"):
        store.set_override(session, "2026-13-01", "holiday", "", admin)
    with pytest.raises(ValidationError, match="unknown kind"):
        store.set_override(session, "2026-10-08", "sometimes", "", admin)
    assert _rows(session) == 0


def test_calendar_uses_office_hours_setting_and_is_cached(session: Session) -> None:
    custom = Settings(_env_file=None, office_hours="09:00-17:00")  # type: ignore[call-arg]
    cal = store.calendar_for(session, custom)
    assert [(o.isoformat(), c.isoformat()) for o, c in cal.office_hours] == [
        ("09:00:00", "17:00:00")
    ]
    assert store.calendar_for(session, custom) is cal
    store.invalidate()
    assert store.calendar_for(session, custom) is not cal


@pytest.mark.parametrize(
    "bad", ["", "8-12", "12:00-08:00", "08:30-12:00,11:00-17:00", "25:00-26:00"]
)
def test_office_hours_setting_refuses_bad_text(bad: str) -> None:
    with pytest.raises(ValueError, match="office_hours"):
        Settings(_env_file=None, office_hours=bad)  # type: ignore[call-arg]
