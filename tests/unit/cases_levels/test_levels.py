"""上报上级 across command-centre levels, and 回访评价, on stored cases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, ScopeKind, User
from gridgov.cases import levels, public, service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import Action, State, WorkflowError, allowed_actions
from gridgov.errors import Conflict
from tests.factories.regions import DISTRICT, STREETS
from tests.unit.cases_db.world import DEPT, T0, World, _user, build, desk_report, report, walk

CITY = "110000"


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


_CLOCK = count(1)  # each action ten minutes after the one before


def _act(session: Session, case: Case, user: User, action: str, payload: dict[str, Any]) -> Case:
    now = T0 + timedelta(hours=1, minutes=10 * next(_CLOCK))
    return service.act(session, case.case_no, action, user, payload, case.version, now)


def _refused(session: Session, case: Case, user: User, action: str, payload: dict) -> str:
    version = case.version
    with pytest.raises((WorkflowError, Conflict)) as err:
        _act(session, case, user, action, payload)
    session.refresh(case)
    assert case.version == version  # nothing changed
    return err.value.code


def _registered(session: Session, w: World) -> Case:
    return walk(session, w, report(session, w), 1)


def test_the_top_level_cannot_escalate(session: Session, w: World) -> None:
    case = _registered(session, w)  # only the district has a command centre
    code = _refused(session, case, w.dispatcher, "escalate", {"reason": "本级无法处置"})
    assert code == "no_upper_level"
    assert case.state is State.REGISTERED


def test_the_city_centre_takes_over_an_escalated_case(session: Session, w: World) -> None:
    city = _user(session, "citydisp", Role.DISPATCHER, (ScopeKind.REGION, CITY))
    case = _registered(session, w)
    # The client cannot choose the level: the server names the next one up.
    case = _act(session, case, w.dispatcher, "escalate", {"reason": "跨区", "to_region": "999999"})
    assert case.state is State.ESCALATED
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert event is not None and event.payload["to_region"] == CITY
    # The district cannot accept its own escalation; the city can.
    assert _refused(session, case, w.dispatcher, "accept_escalation", {}) == "outside_jurisdiction"
    case = _act(session, case, city, "accept_escalation", {})
    state = service.from_snapshot(case.workflow)
    assert (case.state, state.level, state.level_region) == (State.REGISTERED, 1, CITY)
    # From now on the district's dispatcher no longer dispatches it; the city's does.
    dispatch = {"department_id": 1, "department_code": DEPT}
    assert _refused(session, case, w.dispatcher, "dispatch", dispatch) == "outside_jurisdiction"
    assert Action.DISPATCH not in allowed_actions(
        service.from_snapshot(case.workflow), service.actor_for(session, w.dispatcher, case)
    )
    case = _act(session, case, city, "dispatch", dispatch)
    assert case.state is State.DISPATCHED
    # At the top there is nowhere further to go.
    case = _act(session, case, w.department, "accept", {})
    assert _refused(session, case, w.department, "escalate", {"reason": "x"}) == "no_upper_level"


def test_levels_without_a_centre_are_skipped_and_a_decline_returns(
    session: Session, w: World
) -> None:
    street = _user(session, "streetdisp", Role.DISPATCHER, (ScopeKind.REGION, STREETS[0]))
    _user(session, "citydisp", Role.DISPATCHER, (ScopeKind.REGION, CITY))
    case = _registered(session, w)  # filed at the street: its own centre is the lowest
    case = _act(session, case, street, "escalate", {"reason": "涉及多个街道"})
    assert service.from_snapshot(case.workflow).escalated_to == DISTRICT
    assert _refused(session, case, street, "accept_escalation", {}) == "outside_jurisdiction"
    case = _act(session, case, w.dispatcher, "decline_escalation", {"reason": "街道可处置"})
    state = service.from_snapshot(case.workflow)
    assert (case.state, state.escalated_to, state.level_region) == (State.REGISTERED, None, None)
    case = _act(session, case, street, "dispatch", {"department_id": 1, "department_code": DEPT})
    assert case.state is State.DISPATCHED


def test_an_inactive_dispatcher_is_no_command_centre(session: Session, w: World) -> None:
    city = _user(session, "citydisp", Role.DISPATCHER, (ScopeKind.REGION, CITY))
    city.active = False
    session.flush()
    case = _registered(session, w)
    assert _refused(session, case, w.dispatcher, "escalate", {"reason": "x"}) == "no_upper_level"


def _hotline_case(session: Session, w: World) -> Case:
    contact = {"name": "王先生", "phone": "13800138000"}
    case = desk_report(session, w, description="来电: 路边垃圾袋堆放", contact=contact)
    case = _act(session, case, w.acceptor, "assign_verify", {"verifier_id": w.supervisor.id})
    return _act(session, case, w.supervisor, "verify", {"photos": ["v.jpg"]})


def test_the_desk_records_a_callers_rating_on_the_callback(session: Session, w: World) -> None:
    case = walk(session, w, _hotline_case(session, w), 7, start=T0 + timedelta(hours=2))
    assert case.state is State.CLOSED
    case = _act(session, case, w.acceptor, "record_rating", {"score": 4, "note": "回访: 基本满意"})
    assert service.from_snapshot(case.workflow).ratings == ((0, 4),)
    assert _refused(session, case, w.acceptor, "record_rating", {"score": 5}) == "already_rated"
    # The tracking page shows the rating the caller gave on the phone.
    view = public.public_view(session, case, T0 + timedelta(days=1))
    assert view.rating is not None and view.rating.score == 4


def test_a_reporter_with_an_account_rates_for_themselves(session: Session, w: World) -> None:
    case = walk(session, w, report(session, w), 7)
    assert case.state is State.CLOSED
    code = _refused(session, case, w.acceptor, "record_rating", {"score": 5})
    assert code == "guard_failed"


def test_dispatcher_lists_leave_out_cases_moved_to_another_level(
    session: Session, w: World
) -> None:
    city = _user(session, "citydisp", Role.DISPATCHER, (ScopeKind.REGION, CITY))
    moved, stays = _registered(session, w), _registered(session, w)
    moved = _act(session, moved, w.dispatcher, "escalate", {"reason": "跨区"})
    assert moved.level_region == CITY  # while it waits: the level asked

    def listed(user: User) -> set[str]:
        stmt = levels.filter_by_level(session, user, select(Case.case_no))
        return set(session.scalars(stmt))

    assert listed(w.dispatcher) == {stays.case_no}
    assert listed(city) == {moved.case_no, stays.case_no}
    assert listed(w.shift_lead) == {moved.case_no, stays.case_no}  # only dispatchers change
    moved = _act(session, moved, city, "accept_escalation", {})
    assert moved.level_region == CITY
    assert listed(w.dispatcher) == {stays.case_no}
