"""Dashboard numbers on SQLite and PostgreSQL over a small, dated history of cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.accounts.scope import scope_of
from gridgov.cases import service as cases
from gridgov.cases.models import Case
from gridgov.codes.admin import Level
from gridgov.dashboard import indicators, service, stream
from gridgov.departments.models import Department
from tests.factories.regions import COMMUNITIES, X0, Y0, D
from tests.unit.cases_db.world import DEPT, GRID, T0, World, build, report

TZ = ZoneInfo("Asia/Shanghai")
NOW = T0 + timedelta(days=2)  # Wednesday 3 June 2026, 09:00 in Beijing
FAR_GRID = f"{COMMUNITIES[2]}01"


@dataclass
class History:
    w: World
    a: Case  # closed on time on Monday
    b: Case  # dispatched Monday, handling deadline passed
    e: Case  # handled late, closed today
    f: Case  # reported and registered today
    c: Case  # reported today in the other street
    d: Case  # reported on Sunday, never registered


def _act(session: Session, case: Case, user: User, action: str, at: datetime, **payload: Any):  # type: ignore[no-untyped-def]
    return cases.act(session, case.case_no, action, user, payload, case.version, at)


def _dispatch(session: Session, w: World, case: Case, at: datetime) -> Case:
    case = _act(session, case, w.shift_lead, "register", at)
    return _act(
        session,
        case,
        w.dispatcher,
        "dispatch",
        at + timedelta(minutes=5),
        department_id=1,
        department_code=DEPT,
    )


def _finish(session: Session, w: World, case: Case, handled: datetime, closed: datetime) -> Case:
    case = _act(session, case, w.department, "accept", handled - timedelta(minutes=5))
    case = _act(session, case, w.department, "report_back", handled, result="已清理", photos=["r"])
    case = _act(session, case, w.acceptor, "assign_check", handled, checker_id=w.checker.id)
    case = _act(session, case, w.checker, "check_pass", closed, photos=["c"])
    return _act(session, case, w.shift_lead, "close", closed)


def _history(session: Session) -> History:
    w = build(session)
    session.add(Department(code=DEPT, name="城管局", level=Level.DISTRICT))
    session.flush()
    a = report(session, w, now=T0)
    a = _dispatch(session, w, a, T0 + timedelta(minutes=10))
    a = _finish(session, w, a, T0 + timedelta(minutes=40), T0 + timedelta(minutes=70))
    b = _dispatch(
        session, w, report(session, w, now=T0 + timedelta(minutes=5)), T0 + timedelta(minutes=10)
    )
    e = _dispatch(
        session, w, report(session, w, now=T0 + timedelta(minutes=1)), T0 + timedelta(minutes=10)
    )
    e = _finish(session, w, e, NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    f = report(session, w, now=NOW - timedelta(hours=1))
    f = _act(session, f, w.shift_lead, "register", NOW - timedelta(minutes=30))
    c = cases.create_case(
        session,
        actor=w.far_supervisor,
        channel="supervisor",
        subclass="0102",
        subclass_kind="event",
        urgency="normal",
        lon=X0 + 4.5 * D,
        lat=Y0 + 1.5 * D,
        description="垃圾",
        photos=["p"],
        now=NOW - timedelta(minutes=50),
    )
    d = report(session, w, now=T0 - timedelta(days=1))
    return History(w, a, b, e, f, c, d)


@pytest.fixture
def h(session: Session) -> History:
    return _history(session)


def _clock(now: datetime = NOW) -> service.Clock:
    return service.Clock(now, TZ)


def test_summary_of_the_whole_district(session: Session, h: History):
    data = service.summary(session, scope_of(session, h.w.leader), _clock())
    assert data["today"] == {"reported": 2, "registered": 1, "closed": 1}
    assert data["open"] == 4
    assert data["open_by_state"] == {"reported": 2, "registered": 1, "dispatched": 1}
    lights = service.open_lights(session, scope_of(session, h.w.leader), NOW)
    assert lights[h.b.id] == "red" and lights[h.d.id] == "red"
    assert data["lights"]["red"] == 2
    assert data["lights"]["yellow"] == sum(1 for v in lights.values() if v == "yellow")
    assert data["streets"] == [
        {"code": "110188001", "name": "东华门街道", "open": 3, "overdue": 2},
        {"code": "110188002", "name": "景山街道", "open": 1, "overdue": 0},
    ]
    assert data["departments"] == [{"code": DEPT, "name": "城管局", "open": 1, "overdue": 1}]
    top = data["top_subclasses"]
    assert top["since"] == datetime(2026, 6, 1, tzinfo=TZ)
    assert [(i["code"], i["count"]) for i in top["items"]] == [("0102", 5)]
    assert top["items"][0]["name"]
    trend = {t["day"]: (t["reported"], t["closed"]) for t in data["trend"]}
    assert len(data["trend"]) == 14 and data["trend"][-1]["day"] == "2026-06-03"
    assert data["trend"][0]["day"] == "2026-05-21"
    assert trend["2026-05-31"] == (1, 0)
    assert trend["2026-06-01"] == (3, 1)
    assert trend["2026-06-02"] == (0, 0)
    assert trend["2026-06-03"] == (2, 1)
    assert data["supervision"] == {"normal": 0, "yellow": 0, "red": 0}


def test_department_ranking_shows_numerator_and_denominator(session: Session, h: History):
    data = service.summary(session, scope_of(session, h.w.leader), _clock())
    ranking = data["ranking"]
    assert ranking["formula"] == "按期结案数 / 应结案数"
    assert "应结案数 = 结案数 + 逾期未结数" in ranking["definition"]
    assert ranking["since"] == datetime(2026, 5, 5, tzinfo=TZ)
    (row,) = ranking["items"]
    assert row == {
        "rank": 1,
        "department_code": DEPT,
        "department_name": "城管局",
        "on_time": 1,  # A
        "due": 3,  # A and E closed, B overdue
        "closed": 2,
        "overdue_open": 1,
        "rate": pytest.approx(1 / 3),
    }


def test_ranking_period_and_open_cases_not_yet_due(session: Session, h: History):
    scope = scope_of(session, h.w.leader)
    # Up to Monday 10:15 the handling deadlines of B and E (that afternoon) had not passed:
    # only A's closure counts.
    early = T0 + timedelta(minutes=75)
    (row,) = indicators.on_time_closure(session, scope, T0 - timedelta(days=1), early)
    assert (row.closed, row.on_time, row.overdue_open, row.rate) == (1, 1, 0, 1.0)
    # A period after everything: nothing due, no row.
    later = NOW + timedelta(days=40)
    assert indicators.on_time_closure(session, scope, NOW + timedelta(days=10), later) == []


def test_a_street_lead_sees_only_their_street(session: Session, h: History):
    scope = scope_of(session, h.w.far_lead)
    data = service.summary(session, scope, _clock())
    assert data["today"] == {"reported": 1, "registered": 0, "closed": 0}
    assert data["open"] == 1 and data["open_by_state"] == {"reported": 1}
    assert [s["code"] for s in data["streets"]] == ["110188002"]
    assert data["departments"] == [] and data["ranking"]["items"] == []
    assert service.counts(session, scope, _clock())["open"] == 1


def test_density_per_grid(session: Session, h: History):
    data = service.density(session, scope_of(session, h.w.leader), _clock(), days=7)
    assert data["since"] == datetime(2026, 5, 28, tzinfo=TZ)
    assert data["grids"] == {
        GRID: {"reported": 5, "open": 3, "overdue": 2},
        FAR_GRID: {"reported": 1, "open": 1, "overdue": 0},
    }
    assert data["max"] == {"reported": 5, "open": 3, "overdue": 2}
    today_only = service.density(session, scope_of(session, h.w.far_lead), _clock(), days=1)
    assert today_only["grids"] == {FAR_GRID: {"reported": 1, "open": 1, "overdue": 0}}


def test_map_cases_put_overdue_first_and_say_when_truncated(session: Session, h: History):
    scope = scope_of(session, h.w.leader)
    data = service.map_cases(session, scope, _clock(), limit=2)
    assert data["type"] == "FeatureCollection"
    assert (data["count"], data["total"], data["truncated"]) == (2, 4, True)
    props = [f["properties"] for f in data["features"]]
    assert {p["case_no"] for p in props} == {h.b.case_no, h.d.case_no}
    assert all(p["light"] == "red" for p in props)
    first = data["features"][0]
    assert first["geometry"]["type"] == "Point" and len(first["geometry"]["coordinates"]) == 2
    assert props[0]["subclass_code"] == "0102" and props[0]["subclass"]
    everything = service.map_cases(session, scope, _clock(), limit=10)
    assert (everything["count"], everything["truncated"]) == (4, False)
    far_box = (X0 + 4 * D, Y0, X0 + 8 * D, Y0 + 2 * D)
    boxed = service.map_cases(session, scope, _clock(), limit=10, bbox=far_box)
    assert [f["properties"]["case_no"] for f in boxed["features"]] == [h.c.case_no]


def test_change_marker_and_recent_events_in_scope(session: Session, h: History):
    before = stream.marker(session)
    assert before.top > 0 and before.recent > 0
    far = scope_of(session, h.w.far_lead)
    near = scope_of(session, h.w.leader)
    far_ids = stream.scoped_recent_ids(session, far, before.top)
    assert len(far_ids) == 1  # the submit event of C
    _act(session, h.f, h.w.dispatcher, "dispatch", NOW, department_id=1, department_code=DEPT)
    after = stream.marker(session)
    assert after.top > before.top and after != before
    assert stream.scoped_recent_ids(session, far, after.top) == far_ids
    assert after.top in stream.scoped_recent_ids(session, near, after.top)


def test_clock_days_follow_the_time_zone():
    late = datetime(2026, 6, 2, 17, 30, tzinfo=UTC)  # 01:30 on Wednesday in Beijing
    clock = service.Clock(late, TZ)
    assert clock.today.isoformat() == "2026-06-03"
    assert clock.week_start == datetime(2026, 6, 1, tzinfo=TZ)
    assert clock.day_start(clock.today).astimezone(UTC) == datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
