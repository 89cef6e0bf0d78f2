"""A case about a component (部件) on SQLite and PostgreSQL: checked at 上报, its point taken
from the component, shown with the case, and routed to the component's owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases import dispatching, service
from gridgov.cases.linked import linked_component_id
from gridgov.cases.models import Case
from gridgov.components import service as components
from gridgov.components.models import Component, ComponentState
from gridgov.errors import ValidationError
from tests.unit.cases_wiring.world import GRID, LAT, LON, T0, act, build

COVER = "0101"  # component 上水井盖; event 0101 is 私搭乱建
SEWER_COVER = "0102"  # component 污水井盖
OWNER = "QZJW"  # 区住建委, one of the default departments


@pytest.fixture
def w(session: Session) -> dict[str, User]:
    return build(session)


@pytest.fixture
def cover(session: Session, w: dict[str, User]) -> Component:
    return components.create_component(
        session,
        subclass_code=COVER,
        lon=LON + 0.0002,
        lat=LAT - 0.0001,
        name="东华门大街上水井盖",
        owner_dept_code=OWNER,
    )


def _report(session: Session, w: dict[str, User], **kw: Any) -> Case:
    args: dict[str, Any] = {
        "actor": w["sup"],
        "channel": "supervisor",
        "subclass": COVER,
        "urgency": "normal",
        "description": "井盖破损",
        "photos": ["p1.jpg"],
        "now": T0,
    }
    return service.create_case(session, **(args | kw))


def test_report_naming_a_component_takes_its_point_and_kind(
    session: Session, w: dict[str, User], cover: Component
):
    case = _report(session, w, component_id=cover.id)  # no lon/lat, no subclass_kind
    assert case.component_id == cover.id
    assert (case.subclass_kind, case.subclass_code) == ("component", COVER)
    assert (case.lon, case.lat) == pytest.approx((cover.lon, cover.lat))
    assert case.grid_code == cover.grid_code == GRID
    # A point given explicitly wins over the component's.
    other = _report(session, w, component_id=cover.id, lon=LON, lat=LAT, subclass_kind="component")
    assert (other.lon, other.lat) == pytest.approx((LON, LAT))


def test_an_event_may_name_any_component(session: Session, w: dict[str, User], cover: Component):
    case = _report(session, w, subclass="0102", subclass_kind="event", component_id=cover.id)
    assert (case.subclass_kind, case.component_id) == ("event", cover.id)


@pytest.mark.parametrize(
    ("kw", "code", "field"),
    [
        (
            {"subclass": SEWER_COVER, "subclass_kind": "component"},
            "component_subclass_mismatch",
            "component_id",
        ),
        ({"component_id": "1101880101999999"}, "unknown_component", "component_id"),
        ({"component_id": "11018801"}, "invalid_component_id", "component_id"),
        ({"component_id": None, "subclass_kind": "component"}, "invalid", "lon/lat"),
        ({"lat": None, "lon": LON}, "invalid", "lon/lat"),
    ],
    ids=["subclass-mismatch", "unknown", "malformed", "no-point", "half-point"],
)
def test_bad_component_reports_are_422_and_store_nothing(
    session: Session,
    w: dict[str, User],
    cover: Component,
    kw: dict[str, Any],
    code: str,
    field: str,
):
    args = {"component_id": cover.id} | kw
    with pytest.raises(ValidationError) as err:
        _report(session, w, **args)
    assert (err.value.status, err.value.code, err.value.where["field"]) == (422, code, field)
    assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_mismatch_message_names_both_subclasses(
    session: Session, w: dict[str, User], cover: Component
):
    with pytest.raises(ValidationError) as err:
        _report(session, w, subclass=SEWER_COVER, subclass_kind="component", component_id=cover.id)
    assert COVER in err.value.message and SEWER_COVER in err.value.message


def test_detail_shows_component_and_its_history(
    session: Session, w: dict[str, User], cover: Component
):
    case = _report(session, w, component_id=cover.id)
    components.change_state(
        session, cover.id, ComponentState.DAMAGED, actor=w["sup"], case_no=case.case_no
    )
    linked = service.linked_component(session, case)
    assert linked is not None
    assert linked.summary() | {"lon": 0, "lat": 0} == {
        "id": cover.id,
        "name": "东华门大街上水井盖",
        "subclass_code": COVER,
        "state": "damaged",
        "state_label": "破损",
        "grid_code": GRID,
        "lon": 0,
        "lat": 0,
        "owner_dept_code": OWNER,
        "owner_dept_name": "区住房和城乡建设委员会（住建委）",
    }
    assert [(r.from_state, r.to_state, r.case_no) for r in linked.history] == [
        (None, ComponentState.INTACT, None),
        (ComponentState.INTACT, ComponentState.DAMAGED, case.case_no),
    ]
    unlinked = _report(session, w, subclass="0102", subclass_kind="event", lon=LON, lat=LAT)
    assert service.linked_component(session, unlinked) is None


def test_older_link_through_a_state_change_is_still_the_cases_component(
    session: Session, w: dict[str, User], cover: Component
):
    """A case filed without ``component_id`` whose component's state change names it."""
    case = _report(session, w, subclass_kind="component", lon=LON, lat=LAT)
    assert case.component_id is None and linked_component_id(session, case) is None
    components.change_state(session, cover.id, "lost", case_no=case.case_no, at=T0)
    assert linked_component_id(session, case) == cover.id
    assert dispatching.component_owner(session, case) == OWNER


def test_registration_routes_to_the_components_owner(
    session: Session, w: dict[str, User], cover: Component
):
    case = _report(session, w, component_id=cover.id)
    case = act(session, case, w["lead"], "register", {}, 10)
    routing = dispatching.routing_of(case)
    assert routing is not None
    assert routing["department_code"] == OWNER
    assert routing["candidates"][0]["basis"] == "component_owner"
    case = act(session, case, w["disp"], "dispatch", {}, 20)
    assert case.department_code == OWNER
    assert case.dispatched_at == T0 + timedelta(minutes=20)
