"""Step deadlines of a case (时限): started and stopped by the workflow's ``ClockOp``, computed
with the subclass time limits and the working calendar, stored; lights derived on read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from gridgov.calendar_admin.store import calendar_for
from gridgov.cases.model import ClockOp
from gridgov.cases.models import Case, CaseStepDeadline
from gridgov.cases.states import Step
from gridgov.config import get_settings
from gridgov.db import insert_now
from gridgov.taxonomy.models import Subclass
from gridgov.workcalendar import TimeLimit, WorkingCalendar, deadline, light

#: Steps the taxonomy has no limit for: the defaults of the closed loop (DESIGN §3.3).
DEFAULT_LIMITS: Mapping[Step, TimeLimit] = {
    Step.VERIFY: TimeLimit(1, "working_days"),
    Step.APPROVAL: TimeLimit(3, "working_days"),
    Step.REPLY: TimeLimit(3, "working_days"),
}
#: Share of the limit used at which the light turns yellow (黄灯).
YELLOW_FRACTION = 0.8

_default_calendar: WorkingCalendar | None = None


def default_calendar() -> WorkingCalendar:
    """The holiday package alone, default office hours, Asia/Shanghai: only for code that has no
    session. Deadlines use :func:`deployment_calendar` (imported notices and overrides)."""
    global _default_calendar
    if _default_calendar is None:
        _default_calendar = WorkingCalendar()
    return _default_calendar


def deployment_calendar(session: Session | None) -> WorkingCalendar:
    """The deployment's calendar as stored (holiday package + imported notices + local overrides
    + the office hours and time zone of the settings); :func:`default_calendar` without a
    session."""
    if session is None:
        return default_calendar()
    return calendar_for(session, get_settings())


def step_limit(subclass: Subclass, step: Step, urgency: str) -> TimeLimit | None:
    """The subclass's limit for ``step`` (处置 per urgency), else the loop default, else None."""
    rows = [r for r in subclass.time_limits if r.step.value == step.value]
    if step is Step.HANDLE:
        exact = [r for r in rows if r.urgency is not None and r.urgency.value == urgency]
        rows = exact or [r for r in rows if r.urgency is None] or rows[:1]
    if rows:
        return TimeLimit(rows[0].value, rows[0].unit.value)
    return DEFAULT_LIMITS.get(step)


def apply_clock(
    session: Session,
    case: Case,
    clock: ClockOp | None,
    payload: Mapping[str, Any],
    subclass: Subclass,
    now: datetime,
    calendar: WorkingCalendar | None = None,
    *,
    first: bool = False,
) -> list[CaseStepDeadline]:
    """Stop and start the step deadlines a transition names; return the rows started.
    ``first``: the case's first event (上报), when no step can be running yet."""
    if clock is None:
        return []
    running = [] if first else open_deadlines(session, [case.id])
    stop = {d for d in running if clock.stop_all or d.step in clock.stop or d.step in clock.start}
    for row in stop:
        row.stopped_at = now
    cal = calendar or deployment_calendar(session)
    started = []
    for step in clock.start:
        row = CaseStepDeadline(case_id=case.id, step=step, started_at=now, warnings=[])
        explicit = payload.get(clock.due_field) if clock.due_field else None
        if isinstance(explicit, datetime):
            row.due_at = explicit
        else:
            limit = step_limit(subclass, step, case.urgency)
            if limit is not None:
                due = deadline(now, limit, cal)
                row.due_at = due.due_at
                row.limit_value = limit.value
                row.limit_unit = limit.unit.value
                row.warnings = list(due.warnings)
        insert_now(session, row)
        started.append(row)
    return started


def open_deadlines(session: Session, case_ids: Iterable[int]) -> list[CaseStepDeadline]:
    """The running step deadlines of these cases, oldest first."""
    ids = list(case_ids)
    if not ids:
        return []
    stmt = (
        select(CaseStepDeadline)
        .where(CaseStepDeadline.case_id.in_(ids), CaseStepDeadline.stopped_at.is_(None))
        .order_by(CaseStepDeadline.id)
    )
    return list(session.scalars(stmt))


def deadline_light(
    row: CaseStepDeadline, now: datetime, calendar: WorkingCalendar | None = None
) -> str | None:
    """green / yellow (黄灯) / red (红灯) for a running step; None without a due time."""
    if row.due_at is None:
        return None
    unit = row.limit_unit or "natural_hours"
    return light(
        row.started_at,
        row.due_at,
        now,
        calendar or deployment_calendar(object_session(row)),
        YELLOW_FRACTION,
        unit=unit,  # type: ignore[arg-type]
    )


def deadline_dict(
    row: CaseStepDeadline, now: datetime, calendar: WorkingCalendar | None = None
) -> dict[str, Any]:
    """One deadline as the API shows it, with its light while it runs."""
    return {
        "step": row.step.value,
        "started_at": row.started_at,
        "due_at": row.due_at,
        "stopped_at": row.stopped_at,
        "limit": None
        if row.limit_value is None or row.limit_unit is None
        else str(TimeLimit(row.limit_value, row.limit_unit)),  # type: ignore[arg-type]
        "warnings": list(row.warnings or []),
        "light": None if row.stopped_at is not None else deadline_light(row, now, calendar),
    }
