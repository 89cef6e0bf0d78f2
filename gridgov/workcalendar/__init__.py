"""Working calendar and deadline arithmetic (工作日历与处置时限).

Pure code, no database: holiday notices and local overrides come in as :class:`DayRule` values
(one per table row). See DESIGN.md §3.4.

>>> from datetime import UTC, datetime
>>> cal = WorkingCalendar()
>>> d = deadline(datetime(2026, 9, 30, 8, 0, tzinfo=UTC), TimeLimit.parse("1工作日"), cal)
>>> d.due_at.isoformat(), d.warnings
('2026-10-08T08:00:00+00:00', ())
"""

from gridgov.workcalendar.deadlines import (
    Deadline,
    Light,
    deadline,
    elapsed,
    light,
    working_time_between,
)
from gridgov.workcalendar.limits import TimeLimit, TimeUnit
from gridgov.workcalendar.rules import (
    DayKind,
    DayRule,
    RuleSource,
    parse_notice,
    read_notice_csv,
)
from gridgov.workcalendar.workdays import (
    DEFAULT_OFFICE_HOURS,
    PACKAGE_YEARS,
    WorkingCalendar,
    uncovered_warning,
)

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "PACKAGE_YEARS",
    "DayKind",
    "DayRule",
    "Deadline",
    "Light",
    "RuleSource",
    "TimeLimit",
    "TimeUnit",
    "WorkingCalendar",
    "deadline",
    "elapsed",
    "light",
    "parse_notice",
    "read_notice_csv",
    "uncovered_warning",
    "working_time_between",
]
