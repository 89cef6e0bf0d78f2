"""Indicator definitions the dashboard shows next to its numbers (DESIGN §3.5).

Each indicator is defined once, with its exact numerator and denominator, and the definition
text travels with the number (Beijing's own figures disagree because denominators differ).
When the evaluation package (``gridgov/evaluation``) exists, these definitions move there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from gridgov.accounts.scope import Scope, filter_by_scope
from gridgov.cases.models import Case, CaseStepDeadline
from gridgov.cases.workflow import OPEN, State, Step
from gridgov.departments.models import Department


@dataclass(frozen=True)
class Indicator:
    """An indicator's name, formula and full definition (zh-CN and English)."""

    key: str
    name: str
    formula: str
    definition: str
    definition_en: str


ON_TIME_CLOSURE = Indicator(
    key="on_time_closure_rate",
    name="按期结案率",
    formula="按期结案数 / 应结案数",
    definition=(
        "按期结案率 = 按期结案数 / 应结案数。统计期为最近 30 天（按部署时区的自然日计，含今天，"
        "截至当前时刻）；只计用户辖区内的案件，案件归属其当前承办部门。"
        "应结案数 = 结案数 + 逾期未结数。"
        "结案数：统计期内结案的案件。"
        "逾期未结数：尚未结案、最后一次处置时限的到期时间落在统计期内且已过、"
        "处置反馈未在到期时间前（含）完成的案件（挂账获批前已逾期的也计入）。"
        "按期结案数：结案数中，最后一次处置在到期时间前（含）反馈的案件"
        "（延期以批准后的到期时间为准，返工以返工后的处置为准）；没有处置时限的视为按期。"
        "作废、合并、不予立案、转办的案件不计。"
    ),
    definition_en=(
        "On-time closure rate = cases closed on time / cases due. Period: the last 30 days "
        "(calendar days in the deployment's time zone, today included, up to now); only cases "
        "in the user's jurisdiction, each counted for its current department. Cases due = "
        "closed + overdue unclosed. Closed: cases closed in the period. Overdue unclosed: cases "
        "not closed whose last handling deadline fell in the period and has passed without a "
        "report back by it (including cases hung after they were already overdue). Closed on "
        "time: closed cases whose last handling step was reported back at or before its "
        "deadline (an approved extension's deadline counts; after rework, the reworked "
        "handling); a case without a handling deadline counts as on time. Voided, merged, "
        "rejected and referred cases are not counted."
    ),
)


@dataclass
class DepartmentClosure:
    """One department's 按期结案率 with its numerator and denominator."""

    department_code: str
    department_name: str | None
    closed: int = 0  # 结案数
    on_time: int = 0  # 按期结案数 (numerator)
    overdue_open: int = 0  # 逾期未结数

    @property
    def due(self) -> int:
        """应结案数 (denominator) = 结案数 + 逾期未结数."""
        return self.closed + self.overdue_open

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else self.on_time / self.due


def on_time_closure(
    session: Session, scope: Scope, start: datetime, now: datetime
) -> list[DepartmentClosure]:
    """按期结案率 per department over [``start``, ``now``] (see :data:`ON_TIME_CLOSURE`), best
    first (rate, then more cases due, then code); departments with nothing due are left out.

    ``now`` ends the period and must be the present: cases are classified by their current
    state (a case closed since then is not "overdue unclosed" in an earlier period).
    """
    handle = aliased(CaseStepDeadline)
    latest = (
        select(CaseStepDeadline.case_id, func.max(CaseStepDeadline.id).label("last_id"))
        .where(CaseStepDeadline.step == Step.HANDLE)
        .group_by(CaseStepDeadline.case_id)
        .subquery()
    )
    closed_in_period = and_(
        Case.state == State.CLOSED, Case.closed_at >= start, Case.closed_at <= now
    )
    overdue_in_period = and_(
        Case.state.in_(OPEN),
        handle.due_at >= start,
        handle.due_at < now,
        or_(handle.stopped_at.is_(None), handle.stopped_at > handle.due_at),
    )
    stmt = (
        select(Case.department_code, Case.state, handle.due_at, handle.stopped_at)
        .select_from(Case)
        .outerjoin(latest, latest.c.case_id == Case.id)
        .outerjoin(handle, handle.id == latest.c.last_id)
        .where(Case.department_code.is_not(None), or_(closed_in_period, overdue_in_period))
    )
    stmt = filter_by_scope(stmt, scope, Case.grid_code, Case.department_code)
    out: dict[str, DepartmentClosure] = {}
    for code, state, due_at, stopped_at in session.execute(stmt):
        row = out.setdefault(code, DepartmentClosure(code, None))
        if state is State.CLOSED:
            row.closed += 1
            if due_at is None or (stopped_at is not None and stopped_at <= due_at):
                row.on_time += 1
        else:
            row.overdue_open += 1
    if out:
        names = dict(
            session.execute(
                select(Department.code, Department.name).where(Department.code.in_(list(out)))
            ).all()
        )
        for row in out.values():
            row.department_name = names.get(row.department_code)
    return sorted(
        (r for r in out.values() if r.due),
        key=lambda r: (-(r.rate or 0.0), -r.due, r.department_code),
    )
