"""Dashboard numbers (领导驾驶舱 / 指挥大屏): counts over the cases of a jurisdiction.

Every query starts from the user's :class:`~gridgov.accounts.scope.Scope` and goes through the
one query helper, ``filter_by_scope`` (by grid or department, as the case list). Days are
calendar days in the deployment's time zone (``Settings.timezone``, Asia/Shanghai by default);
times are stored in UTC, so day boundaries are computed here and compared in SQL, which works
the same on SQLite and PostgreSQL. Lights (黄灯/红灯) are those of the case list: a case is red
when one of its running step deadlines has passed, yellow when one has used 80 % of its limit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role
from gridgov.accounts.scope import Scope, filter_by_scope
from gridgov.cases.deadlines import YELLOW_FRACTION, deployment_calendar
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.workflow import OPEN, Action
from gridgov.dashboard import indicators
from gridgov.departments.models import Department
from gridgov.regions.map_levels import prefix_of
from gridgov.regions.models import Region
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.workcalendar import light

#: Who sees the dashboard: leaders, admins, and the desks that run the loop.
VIEWERS = frozenset({Role.LEADER, Role.ADMIN, Role.DISPATCHER, Role.SHIFT_LEAD})
TREND_DAYS = 14
RANKING_DAYS = 30
TOP_SUBCLASSES = 10
_LIGHT_ORDER = {"green": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class Clock:
    """``now`` and the deployment's time zone: where today, this week and each day begin."""

    now: datetime
    tz: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def day_start(self, day: date) -> datetime:
        """Local midnight of ``day`` (time zone aware)."""
        return datetime.combine(day, time(0), tzinfo=self.tz)

    @property
    def week_start(self) -> datetime:
        """Monday 00:00 of the current week (本周)."""
        return self.day_start(self.today - timedelta(days=self.today.weekday()))


def scoped(stmt: Select[Any], scope: Scope) -> Select[Any]:
    """``stmt`` over ``case`` restricted to the scope (grid or department, as the case list)."""
    return filter_by_scope(stmt, scope, Case.grid_code, Case.department_code)


def _overdue_clause(now: datetime) -> Any:
    """True for a case with a running step deadline already passed (红灯)."""
    return exists().where(
        CaseStepDeadline.case_id == Case.id,
        CaseStepDeadline.stopped_at.is_(None),
        CaseStepDeadline.due_at < now,
    )


def open_lights(session: Session, scope: Scope, now: datetime) -> dict[int, str]:
    """case id → worst light (green / yellow / red) of the running step deadlines of every open
    case in the scope; cases without a running deadline are left out."""
    stmt = (
        select(
            CaseStepDeadline.case_id,
            CaseStepDeadline.started_at,
            CaseStepDeadline.due_at,
            CaseStepDeadline.limit_unit,
        )
        .join(Case, Case.id == CaseStepDeadline.case_id)
        .where(
            Case.state.in_(OPEN),
            CaseStepDeadline.stopped_at.is_(None),
            CaseStepDeadline.due_at.is_not(None),
        )
    )
    calendar = deployment_calendar(session)
    worst: dict[int, str] = {}
    for case_id, started_at, due_at, unit in session.execute(scoped(stmt, scope)):
        if now > due_at:
            value = "red"
        else:
            value = light(
                started_at,
                due_at,
                now,
                calendar,
                YELLOW_FRACTION,
                unit=unit or "natural_hours",
            )
        current = worst.get(case_id)
        if current is None or _LIGHT_ORDER[value] > _LIGHT_ORDER[current]:
            worst[case_id] = value
    return worst


def _day_sums(column: Any, bounds: list[datetime]) -> list[Any]:
    return [
        func.sum(case((and_(column >= lo, column < hi), 1), else_=0)) for lo, hi in pairwise(bounds)
    ]


def counts(
    session: Session, scope: Scope, clock: Clock, lights: dict[int, str] | None = None
) -> dict[str, Any]:
    """The small numbers pushed by the stream: today's reported / registered / closed, open
    cases, and open cases with a yellow or a red light (``lights``: from :func:`open_lights`,
    computed when not given)."""
    start = clock.day_start(clock.today)
    stmt = select(
        *_day_sums(Case.reported_at, [start, start + timedelta(days=1)]),
        *_day_sums(Case.registered_at, [start, start + timedelta(days=1)]),
        *_day_sums(Case.closed_at, [start, start + timedelta(days=1)]),
    ).where(or_(Case.reported_at >= start, Case.registered_at >= start, Case.closed_at >= start))
    reported, registered, closed = (int(v or 0) for v in session.execute(scoped(stmt, scope)).one())
    open_total = session.scalar(
        scoped(select(func.count(Case.id)), scope).where(Case.state.in_(OPEN))
    )
    if lights is None:
        lights = open_lights(session, scope, clock.now)
    by_light = Counter(lights.values())
    return {
        "today": {"reported": reported, "registered": registered, "closed": closed},
        "open": int(open_total or 0),
        "yellow": by_light["yellow"],
        "red": by_light["red"],
    }


def _names(session: Session, model: Any, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = session.execute(select(model.code, model.name).where(model.code.in_(wanted)))
    return {code: name for code, name in rows}


def _trend(session: Session, scope: Scope, clock: Clock) -> list[dict[str, Any]]:
    first = clock.today - timedelta(days=TREND_DAYS - 1)
    days = [first + timedelta(days=i) for i in range(TREND_DAYS)]
    bounds = [clock.day_start(d) for d in [*days, days[-1] + timedelta(days=1)]]
    stmt = select(*_day_sums(Case.reported_at, bounds), *_day_sums(Case.closed_at, bounds)).where(
        or_(Case.reported_at >= bounds[0], Case.closed_at >= bounds[0])
    )
    values = [int(v or 0) for v in session.execute(scoped(stmt, scope)).one()]
    return [
        {"day": d.isoformat(), "reported": values[i], "closed": values[TREND_DAYS + i]}
        for i, d in enumerate(days)
    ]


def _top_subclasses(session: Session, scope: Scope, clock: Clock) -> list[dict[str, Any]]:
    since = clock.week_start
    n = func.count(Case.id).label("n")
    stmt = (
        select(Case.subclass_kind, Case.subclass_code, n)
        .where(Case.reported_at >= since)
        .group_by(Case.subclass_kind, Case.subclass_code)
        .order_by(n.desc(), Case.subclass_code)
        .limit(TOP_SUBCLASSES)
    )
    rows = session.execute(scoped(stmt, scope)).all()
    names = {
        (k.value, c): name
        for k, c, name in session.execute(
            select(Subclass.kind, Subclass.code, Subclass.name).where(
                Subclass.code.in_(sorted({r[1] for r in rows}))
            )
        )
    }
    return [
        {"kind": kind, "code": code, "name": names.get((kind, code)), "count": int(count)}
        for kind, code, count in rows
    ]


def _open_rows(session: Session, scope: Scope) -> list[Any]:
    stmt = select(Case.id, Case.state, Case.street_code, Case.department_code).where(
        Case.state.in_(OPEN)
    )
    return list(session.execute(scoped(stmt, scope)))


def _supervision(session: Session, scope: Scope) -> dict[str, int]:
    """Open cases by their latest 督办 level (normal / yellow card / red card)."""
    stmt = (
        select(CaseEvent.case_id, CaseEvent.payload)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.state.in_(OPEN), CaseEvent.action == Action.SUPERVISE)
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    latest = {
        cid: (payload or {}).get("level") for cid, payload in session.execute(scoped(stmt, scope))
    }
    found = Counter(str(level) for level in latest.values() if level)
    return {level: found[level] for level in ("normal", "yellow", "red")}


def summary(session: Session, scope: Scope, clock: Clock) -> dict[str, Any]:
    """Everything the leader dashboard shows for the scope (see the API for the fields)."""
    lights = open_lights(session, scope, clock.now)
    base = counts(session, scope, clock, lights)
    rows = _open_rows(session, scope)
    by_state = Counter(r.state.value for r in rows)
    streets: dict[str, dict[str, int]] = {}
    departments: dict[str, dict[str, int]] = {}
    for r in rows:
        red = int(lights.get(r.id) == "red")
        for key, table in ((r.street_code, streets), (r.department_code, departments)):
            if key:
                entry = table.setdefault(key, {"open": 0, "overdue": 0})
                entry["open"] += 1
                entry["overdue"] += red
    street_names = _names(session, Region, streets)
    department_names = _names(session, Department, departments)
    ranking_start = clock.day_start(clock.today - timedelta(days=RANKING_DAYS - 1))
    ranking = indicators.on_time_closure(session, scope, ranking_start, clock.now)
    return {
        "at": clock.now,
        "timezone": str(clock.tz),
        "today": base["today"],
        "open": base["open"],
        "open_by_state": {s.value: by_state[s.value] for s in OPEN if by_state[s.value]},
        "lights": {"yellow": base["yellow"], "red": base["red"]},
        "supervision": _supervision(session, scope),
        "streets": [
            {"code": code, "name": street_names.get(code), **v}
            for code, v in sorted(streets.items(), key=lambda kv: (-kv[1]["open"], kv[0]))
        ],
        "departments": [
            {"code": code, "name": department_names.get(code), **v}
            for code, v in sorted(departments.items(), key=lambda kv: (-kv[1]["open"], kv[0]))
        ],
        "top_subclasses": {
            "since": clock.week_start,
            "items": _top_subclasses(session, scope, clock),
        },
        "trend": _trend(session, scope, clock),
        "ranking": {
            "indicator": indicators.ON_TIME_CLOSURE.key,
            "name": indicators.ON_TIME_CLOSURE.name,
            "formula": indicators.ON_TIME_CLOSURE.formula,
            "definition": indicators.ON_TIME_CLOSURE.definition,
            "definition_en": indicators.ON_TIME_CLOSURE.definition_en,
            "since": ranking_start,
            "until": clock.now,
            "items": [
                {
                    "rank": i,
                    "department_code": r.department_code,
                    "department_name": r.department_name,
                    "on_time": r.on_time,
                    "due": r.due,
                    "closed": r.closed,
                    "overdue_open": r.overdue_open,
                    "rate": r.rate,
                }
                for i, r in enumerate(ranking, 1)
            ],
        },
    }


def density(
    session: Session, scope: Scope, clock: Clock, days: int, level: str = "grid"
) -> dict[str, Any]:
    """Cases per unit grid for a choropleth: reported in the last ``days`` days (today
    included), open now, and open with a red light now. ``level`` community or street: summed
    per community or street (by grid-code prefix), for a map showing a city."""
    since = clock.day_start(clock.today - timedelta(days=days - 1))
    grids: dict[str, dict[str, int]] = {}

    def entry(code: str) -> dict[str, int]:
        return grids.setdefault(code, {"reported": 0, "open": 0, "overdue": 0})

    reported = (
        select(Case.grid_code, func.count(Case.id))
        .where(Case.reported_at >= since)
        .group_by(Case.grid_code)
    )
    for code, n in session.execute(scoped(reported, scope)):
        entry(code)["reported"] = int(n)
    red = _overdue_clause(clock.now)
    current = (
        select(
            Case.grid_code,
            func.count(Case.id),
            func.sum(case((red, 1), else_=0)),
        )
        .where(Case.state.in_(OPEN))
        .group_by(Case.grid_code)
    )
    for code, n, overdue in session.execute(scoped(current, scope)):
        e = entry(code)
        e["open"], e["overdue"] = int(n), int(overdue or 0)
    if level != "grid":
        grids = _roll_up(grids, level)
    maxima = {
        k: max((g[k] for g in grids.values()), default=0) for k in ("reported", "open", "overdue")
    }
    return {
        "since": since,
        "days": days,
        "at": clock.now,
        "level": level,
        "grids": grids,
        "max": maxima,
    }


def _roll_up(grids: dict[str, dict[str, int]], level: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for code, counts in grids.items():
        total = out.setdefault(prefix_of(code, level), {"reported": 0, "open": 0, "overdue": 0})
        for k, n in counts.items():
            total[k] += n
    return out


def map_cases(
    session: Session,
    scope: Scope,
    clock: Clock,
    *,
    limit: int,
    bbox: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """Open cases in the scope as map points, red ones first, then the newest; at most
    ``limit`` (``truncated`` says more exist; ``total`` counts them all)."""
    red = _overdue_clause(clock.now)
    where = [Case.state.in_(OPEN)]
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        where += [Case.lon >= minx, Case.lon <= maxx, Case.lat >= miny, Case.lat <= maxy]
    total = session.scalar(scoped(select(func.count(Case.id)).where(*where), scope)) or 0
    stmt = (
        select(Case)
        .where(*where)
        .order_by(case((red, 1), else_=0).desc(), Case.id.desc())
        .limit(limit)
    )
    cases = list(session.scalars(scoped(stmt, scope)))
    lights = open_lights(session, scope, clock.now) if cases else {}
    names = {
        (k, c): n
        for k, c, n in session.execute(
            select(Subclass.kind, Subclass.code, Subclass.name).where(
                Subclass.code.in_(sorted({c.subclass_code for c in cases}))
            )
        )
    }
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {
                "case_no": c.case_no,
                "state": c.state.value,
                "subclass_code": c.subclass_code,
                "subclass": names.get((Kind(c.subclass_kind), c.subclass_code)),
                "urgency": c.urgency,
                "light": lights.get(c.id),
                "grid_code": c.grid_code,
                "department_code": c.department_code,
                "reported_at": c.reported_at.isoformat() if c.reported_at else None,
            },
        }
        for c in cases
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "count": len(features),
        "total": int(total),
        "limit": limit,
        "truncated": int(total) > len(features),
        "at": clock.now.isoformat(),
    }


def change_marker(session: Session) -> int:
    """The newest case event id: every change of any case writes one event row (the workflow
    stores every transition), so a different value means something changed. One index-only
    lookup, cheap enough to poll every second from every stream of every worker."""
    return int(session.scalar(select(func.max(CaseEvent.id))) or 0)


def changed_in_scope(session: Session, scope: Scope, after: int, upto: int) -> bool:
    """True when an event with ``after`` < id ≤ ``upto`` belongs to a case in the scope."""
    stmt = (
        select(CaseEvent.id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.id > after, CaseEvent.id <= upto)
        .limit(1)
    )
    return session.scalar(scoped(stmt, scope)) is not None
