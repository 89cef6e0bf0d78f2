"""Stored cases on SQLite and PostgreSQL: intake, the main path, versions, scope, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.numbering import MAX_SERIAL, TZ, CaseCounter
from gridgov.cases.workflow import State, Step, WorkflowError
from gridgov.errors import Conflict, Forbidden, ValidationError
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import forget_subclasses
from tests.unit.cases_db.world import (
    DEPT,
    GARBAGE,
    GRID,
    LAT,
    LON,
    OUTSIDE,
    T0,
    World,
    build,
    main_path,
    report,
    walk,
)


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


def _deadlines(session: Session, case: Case) -> dict[Step, CaseStepDeadline]:
    rows = session.scalars(
        select(CaseStepDeadline).where(CaseStepDeadline.case_id == case.id)
    ).all()
    return {r.step: r for r in rows}


def test_report_is_geocoded_numbered_and_registered_clock_started(session: Session, w: World):
    case = report(session, w)
    assert case.case_no == "2026060100001"
    assert case.state is State.REPORTED
    assert case.version == 1
    assert case.grid_code == GRID
    assert (case.community_code, case.street_code, case.district_code) == (
        "110188001001",
        "110188001",
        "110188",
    )
    assert case.reporter_user_id == w.supervisor.id
    assert case.reported_at == T0
    register = _deadlines(session, case)[Step.REGISTER]
    # 立案 within 1 working hour: 09:00 → 10:00 Asia/Shanghai.
    assert register.due_at == datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    assert (register.limit_value, register.limit_unit) == (1, "working_hours")
    assert report(session, w).case_no == "2026060100002"


def test_main_path_to_close_and_replay(session: Session, w: World):
    case = walk(session, w, report(session, w), len(main_path(w)))
    assert case.state is State.CLOSED
    assert case.version == 8
    assert case.department_code == DEPT
    minutes = [
        (getattr(case, f"{s}_at") - T0) / timedelta(minutes=1)
        for s in ("registered", "dispatched", "handled", "checked", "closed")
    ]
    assert minutes == [10, 20, 40, 60, 70]
    events = service.history(session, case.case_no)
    assert [e.action.value for e in events] == ["submit"] + [a for _, a, _ in main_path(w)]
    assert [e.seq for e in events] == list(range(1, 9))
    assert service.rebuild(session, case.case_no) == service.from_snapshot(case.workflow)
    assert all(r.stopped_at is not None for r in _deadlines(session, case).values())


def test_handle_deadline_uses_the_subclass_limit(session: Session, w: World):
    case = walk(session, w, report(session, w), 2)  # dispatched at 09:20 local
    handle = _deadlines(session, case)[Step.HANDLE]
    # 4 working hours from 09:20: 2 h 40 before lunch, 1 h 20 after 13:30 → 14:50 local.
    assert handle.due_at == datetime(2026, 6, 1, 6, 50, tzinfo=UTC)
    assert (handle.limit_value, handle.limit_unit) == (4, "working_hours")
    assert _deadlines(session, case)[Step.DISPATCH].stopped_at == T0 + timedelta(minutes=20)


def test_repeated_idempotency_key_returns_the_first_case(session: Session, w: World):
    first = report(session, w, key="phone-42")
    again = report(session, w, key="phone-42", now=T0 + timedelta(minutes=5))
    assert again.id == first.id and again.version == 1
    assert session.scalar(select(func.count()).select_from(Case)) == 1
    assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_a_repeated_key_answers_the_first_case_even_when_it_would_now_be_refused(
    session: Session, w: World
):
    """The phone resends after the subclass went out of use: it still gets its case, not 422."""
    first = report(session, w, key="phone-43")
    sub = session.scalars(
        select(Subclass).where(Subclass.code == GARBAGE, Subclass.kind == Kind.EVENT)
    ).one()
    sub.is_active = False
    session.flush()
    forget_subclasses(session)
    assert report(session, w, key="phone-43").id == first.id
    with pytest.raises(ValidationError, match="no longer in use"):
        report(session, w, key="phone-44")


def test_the_stored_case_number_and_its_audit_row_are_the_days_number(session: Session, w: World):
    """Numbers are drawn last; nothing keeps the provisional stand-in."""
    cases = [report(session, w, key=f"phone-5{i}") for i in range(3)]
    session.expire_all()
    stored = session.scalars(select(Case.case_no).order_by(Case.id)).all()
    assert stored == [c.case_no for c in cases]
    assert [int(no[-5:]) for no in stored] == [1, 2, 3]
    assert all(no.startswith(T0.strftime("%Y%m%d")) for no in stored)
    audited = session.scalars(
        select(AuditLog.object_id).where(AuditLog.action == "case.submit").order_by(AuditLog.id)
    ).all()
    assert audited == stored


def test_a_report_on_a_day_whose_numbers_are_used_up_is_refused_and_leaves_nothing(
    session: Session, w: World
) -> None:
    """The 100,000th report of a day: a 422 naming the case number, not a duplicate number
    (PostgreSQL's lpad would cut 100000 to 10000) and not a half-stored case."""
    day = T0.astimezone(TZ).strftime("%Y%m%d")
    counter = CaseCounter(day=day, last=9_999)
    session.add(counter)
    session.flush()
    assert report(session, w, key="phone-10000").case_no == f"{day}10000"
    counter.last = MAX_SERIAL
    session.flush()
    before = session.scalar(select(func.count()).select_from(Case))
    savepoint = session.begin_nested()  # as the request's rollback would
    with pytest.raises(ValidationError, match="used up"):
        report(session, w, key="phone-full")
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(Case)) == before


def test_an_action_writes_its_event_deadline_and_audit_rows_in_one_insert_on_postgresql(
    session: Session, w: World
) -> None:
    """立案 stops the 立案 deadline, starts 派遣's and adds the event and audit rows: the three
    new rows are one statement on PostgreSQL (a chain of INSERTs), one each on SQLite."""
    case = report(session, w)
    inserts: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith(("INSERT", "WITH")) and "INSERT INTO" in sql:
            inserts.append(sql)

    conn = session.connection()
    event.listen(conn, "before_cursor_execute", note)
    try:
        walk(session, w, case, 1)
    finally:
        event.remove(conn, "before_cursor_execute", note)
    postgresql = session.get_bind().dialect.name == "postgresql"
    assert len(inserts) == (1 if postgresql else 3)
    steps = session.scalars(
        select(CaseStepDeadline.step).where(CaseStepDeadline.case_id == case.id)
    ).all()
    assert sorted(steps) == sorted([Step.REGISTER, Step.DISPATCH])
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.object_id == case.case_no).order_by(AuditLog.id)
    ).all()
    assert actions == ["case.submit", "case.register"]


def test_stale_version_is_a_conflict_with_the_current_state(session: Session, w: World):
    case = walk(session, w, report(session, w), 1)  # registered, version 2
    with pytest.raises(Conflict) as err:
        service.act(
            session,
            case.case_no,
            "dispatch",
            w.dispatcher,
            {"department_id": 1},
            1,
            T0 + timedelta(hours=1),
        )
    assert err.value.status == 409
    assert err.value.where == {"state": "registered", "version": 2}
    assert session.get(Case, case.id).state is State.REGISTERED  # type: ignore[union-attr]
    assert len(service.history(session, case.case_no)) == 2


def test_outside_jurisdiction_is_refused(session: Session, w: World):
    case = report(session, w)
    with pytest.raises(WorkflowError) as err:
        service.act(session, case.case_no, "register", w.far_lead, {}, 1, T0)
    assert (err.value.status, err.value.code) == (403, "outside_jurisdiction")
    with pytest.raises(Forbidden):
        service.get_case(session, w.far_supervisor, case.case_no)
    assert case.state is State.REPORTED and case.version == 1


def test_wrong_role_and_wrong_state_are_refused(session: Session, w: World):
    case = report(session, w)
    with pytest.raises(WorkflowError) as err:
        service.act(session, case.case_no, "register", w.dispatcher, {}, 1, T0)
    assert err.value.status == 403
    with pytest.raises(WorkflowError) as err:
        service.act(session, case.case_no, "close", w.shift_lead, {}, 1, T0)
    assert err.value.status == 409
    with pytest.raises(WorkflowError) as err:
        service.act(session, case.case_no, "fly", w.shift_lead, {}, 1, T0)
    assert err.value.status == 422


def test_bad_reports_are_422_and_store_nothing(session: Session, w: World):
    def create(**kw):  # type: ignore[no-untyped-def]
        args = dict(
            actor=w.supervisor,
            channel=None,
            subclass=GARBAGE,
            subclass_kind="event",
            urgency="normal",
            lon=LON,
            lat=LAT,
            crs="wgs84",
            description="垃圾",
            photos=["p.jpg"],
            now=T0,
        )
        return service.create_case(session, **(args | kw))

    with pytest.raises(ValidationError, match="outside every grid") as err:
        create(lon=OUTSIDE[0], lat=OUTSIDE[1])
    assert err.value.where["field"] == "lon/lat"
    with pytest.raises(ValidationError, match="unknown subclass"):
        create(subclass="9999")
    with pytest.raises(ValidationError, match="description"):
        create(description="  ")
    with pytest.raises(ValidationError, match="urgency"):
        create(urgency="someday")
    with pytest.raises(WorkflowError, match="photos"):
        create(photos=None)
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_anonymous_resident_report(session: Session, w: World):
    case = service.create_case(
        session,
        actor=None,
        channel=None,
        subclass=GARBAGE,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        crs="wgs84",
        description="楼下垃圾",
        contact={"phone": "13812345678"},
        now=T0,
    )
    assert case.channel.value == "public" and case.reporter_user_id is None
    assert case.reporter_phone == "13812345678"
    assert service.rebuild(session, case.case_no).state is State.REPORTED


def test_list_is_scoped_and_shows_lights(session: Session, w: World):
    case = report(session, w)
    listing = service.list_cases(session, w.supervisor)
    assert [c.case_no for c in listing.cases] == [case.case_no]
    rows = listing.running[case.id]
    assert service.lights_now(rows, T0 + timedelta(minutes=10)) == {"register": "green"}
    assert service.lights_now(rows, T0 + timedelta(minutes=50)) == {"register": "yellow"}
    assert service.lights_now(rows, T0 + timedelta(hours=2)) == {"register": "red"}
    assert service.list_cases(session, w.far_supervisor).cases == []
    assert service.list_cases(session, w.department).cases == []
    walk(session, w, case, 2)
    assert [c.id for c in service.list_cases(session, w.department).cases] == [case.id]


def test_detail_lists_the_actions_the_user_may_take(session: Session, w: World):
    case = report(session, w)
    detail = service.get_case(session, w.shift_lead, case.case_no)
    assert {a.value for a in detail.allowed} >= {"register", "reject"}
    assert service.get_case(session, w.dispatcher, case.case_no).allowed == []
