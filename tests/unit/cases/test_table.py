"""The transition table row by row: each row works for its roles, nothing outside it does."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.accounts.models import Role
from gridgov.cases.workflow import (
    TABLE,
    Action,
    Actor,
    State,
    Transition,
    WorkflowError,
    allowed_actions,
    apply,
    diagram,
    rows_for,
)
from gridgov.errors import GridgovError
from tests.unit.cases.builders import NOW, SAMPLE, actor_for, busy_case, case_for, payload_for

ROW_ROLES = [(row, role) for row in TABLE for role in sorted(row.roles)]
PAIRS_IN_TABLE = {(row.source, row.action) for row in TABLE}
PAIRS_OUTSIDE = [(s, a) for s in State for a in Action if (s, a) not in PAIRS_IN_TABLE]
ROWS_WITH_FIELDS = [(row, name) for row in TABLE for name in row.requires]


def _id(value: object) -> str:
    if isinstance(value, Transition):
        return f"{value.source}-{value.action}-{value.target}-{value.guard or ''}"
    return str(value)


@pytest.mark.parametrize(("row", "role"), ROW_ROLES, ids=_id)
def test_every_row_applies_for_each_of_its_roles(row: Transition, role: Role) -> None:
    case = case_for(row)
    who = actor_for(row, role)
    out = apply(case, row.action, who, payload_for(row), NOW)
    assert out.state.state is row.target
    assert out.state.version == case.version + 1
    assert out.clock == row.clock
    e = out.event
    assert (e.version, e.action, e.from_state, e.to_state) == (
        case.version + 1,
        row.action,
        row.source,
        row.target,
    )
    assert (e.actor_id, e.actor_role, e.at) == (who.user_id, role, NOW)


@pytest.mark.parametrize(("state", "action"), PAIRS_OUTSIDE, ids=_id)
def test_every_pair_outside_the_table_is_refused(state: State, action: Action) -> None:
    for role in Role:
        with pytest.raises(WorkflowError) as err:
            apply(busy_case(state), action, Actor(1, role), dict(SAMPLE), NOW)
        assert err.value.code == "not_allowed_in_state"
        assert err.value.status == 409


def test_the_complement_is_large_and_the_table_covers_every_state() -> None:
    assert len(PAIRS_OUTSIDE) == len(State) * len(Action) - len(PAIRS_IN_TABLE)
    sources = {row.source for row in TABLE}
    targets = {row.target for row in TABLE}
    assert set(State) - {State.NEW} <= targets
    assert set(State) - {State.REJECTED, State.VOIDED, State.MERGED, State.REFERRED} <= sources
    assert {row.action for row in TABLE} == set(Action)


@pytest.mark.parametrize("row", TABLE, ids=_id)
def test_wrong_role_is_refused(row: Transition) -> None:
    allowed = set().union(*(r.roles for r in rows_for(row.source, row.action)))
    for role in set(Role) - allowed:
        with pytest.raises(WorkflowError) as err:
            apply(case_for(row), row.action, actor_for(row, role), payload_for(row), NOW)
        assert (err.value.code, err.value.status) == ("wrong_role", 403)


@pytest.mark.parametrize("row", TABLE, ids=_id)
def test_actor_outside_jurisdiction_is_refused(row: Transition) -> None:
    role = sorted(row.roles)[0]
    who = Actor(actor_for(row, role).user_id, role, in_jurisdiction=False)
    with pytest.raises(WorkflowError) as err:
        apply(case_for(row), row.action, who, payload_for(row), NOW)
    assert (err.value.code, err.value.status) == ("outside_jurisdiction", 403)


@pytest.mark.parametrize(("row", "field"), ROWS_WITH_FIELDS, ids=_id)
@pytest.mark.parametrize("blank", ["absent", None, "", "   ", []])
def test_missing_payload_field_is_refused(row: Transition, field: str, blank: object) -> None:
    payload = payload_for(row)
    if blank == "absent":
        del payload[field]
    else:
        payload[field] = blank
    role = sorted(row.roles)[0]
    with pytest.raises(WorkflowError) as err:
        apply(case_for(row), row.action, actor_for(row, role), payload, NOW)
    assert (err.value.code, err.value.status) == ("missing_field", 422)
    assert err.value.where == {"field": field}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("due_at", NOW),  # not in the future
        ("due_at", NOW.replace(tzinfo=None).replace(year=2030)),  # naive
        ("due_at", "2030-01-01"),
        ("score", 6),
        ("score", 0),
        ("score", True),
        ("level", "purple"),
        ("checker_id", "4"),
        ("department_id", -1),
        ("photos", "photo.jpg"),
        ("photos", [""]),
        ("reporter_ids", ["x"]),
        ("reason", 42),
    ],
)
def test_malformed_payload_field_is_refused(field: str, value: object) -> None:
    row = next(r for r in TABLE if field in r.requires)
    payload = payload_for(row) | {field: value}
    role = sorted(row.roles)[0]
    with pytest.raises(WorkflowError) as err:
        apply(case_for(row), row.action, actor_for(row, role), payload, NOW)
    assert (err.value.code, err.value.status) == ("invalid_field", 422)


def test_unknown_action_is_refused() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.REPORTED), "demolish", Actor(7, Role.SHIFT_LEAD), {}, NOW)
    assert (err.value.code, err.value.status) == ("unknown_action", 422)


def test_actions_may_be_given_as_strings() -> None:
    out = apply(busy_case(State.CHECKED), "close", Actor(7, Role.SHIFT_LEAD), {}, NOW)
    assert out.state.state is State.CLOSED


def test_workflow_errors_are_domain_errors_with_http_status() -> None:
    err = WorkflowError("wrong_role", "no")
    assert isinstance(err, GridgovError)
    assert err.to_dict() == {"code": "wrong_role", "message": "no"}
    assert WorkflowError("not_allowed_in_state", "x").status == 409
    assert WorkflowError("missing_field", "x").status == 422


def test_refusal_changes_nothing() -> None:
    case = busy_case(State.HANDLED)
    with pytest.raises(WorkflowError):
        apply(case, Action.CLOSE, Actor(7, Role.SHIFT_LEAD), {}, NOW)
    assert case == busy_case(State.HANDLED)


def test_now_must_be_time_zone_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        apply(
            busy_case(State.CHECKED),
            Action.CLOSE,
            Actor(7, Role.SHIFT_LEAD),
            {},
            NOW.replace(tzinfo=None),
        )


def test_event_payload_is_frozen() -> None:
    payload: dict[str, Any] = {"result": "ok", "photos": ["a.jpg"]}
    out = apply(
        busy_case(State.HANDLING), Action.REPORT_BACK, Actor(5, Role.DEPARTMENT), payload, NOW
    )
    payload["photos"].append("b.jpg")
    assert out.event.payload["photos"] == ("a.jpg",)
    with pytest.raises(TypeError):
        out.event.payload["result"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("state", "role", "user", "expected"),
    [
        (State.DISPATCHED, Role.DEPARTMENT, 5, [Action.ACCEPT, Action.REQUEST_RETURN]),
        (State.DISPATCHED, Role.DISPATCHER, 6, [Action.REQUEST_VOID]),
        (State.DISPATCHED, Role.LEADER, 9, [Action.SUPERVISE]),
        (State.DISPATCHED, Role.RESIDENT, 2, []),
        (State.CHECKING, Role.SUPERVISOR, 4, [Action.CHECK_PASS, Action.CHECK_FAIL]),
        (State.CHECKING, Role.SUPERVISOR, 3, []),  # not the assigned checker
        (State.CHECKED, Role.SHIFT_LEAD, 7, [Action.CLOSE, Action.ABSORB]),
        (State.CHECKED, Role.SHIFT_LEAD, 6, [Action.ABSORB]),  # dispatched it before
        (State.CLOSED, Role.RESIDENT, 2, [Action.RATE]),
        (State.CLOSED, Role.RESIDENT, 13, []),  # not a reporter
    ],
)
def test_allowed_actions_for_a_ui(
    state: State, role: Role, user: int, expected: list[Action]
) -> None:
    assert allowed_actions(busy_case(state), Actor(user, role)) == expected


def test_allowed_actions_empty_outside_jurisdiction() -> None:
    assert allowed_actions(busy_case(State.DISPATCHED), Actor(5, Role.DEPARTMENT, False)) == []


def test_diagram_draws_every_transition() -> None:
    text = diagram()
    assert text.startswith("stateDiagram-v2\n")
    assert "    checking --> rework: check_fail\n" in text
    assert "    extension_requested --> handling: approve_extension, deny_extension\n" in text
    for row in TABLE:
        if row.action not in (Action.SUPERVISE, Action.ABSORB):
            assert f"{row.source} --> {row.target}:" in text
