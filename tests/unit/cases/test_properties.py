"""Property-based tests: random action sequences by random actors (随机流转).

Whatever happens, no invalid state is reached, every success writes exactly one event with the
next version, replaying the events rebuilds the case, and separation of duties holds.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.accounts.models import Role
from gridgov.cases.model import STATUS_BY_CODE
from gridgov.cases.workflow import (
    OPEN,
    PAUSED,
    TABLE,
    Action,
    Actor,
    CaseState,
    Channel,
    Event,
    ItemClass,
    Policy,
    State,
    WorkflowError,
    allowed_actions,
    apply,
    replay,
    rows_for,
)
from tests.unit.cases.builders import NOW, SAMPLE, busy_case

USERS = st.integers(min_value=1, max_value=6)  # few users, so parts collide often
ROWS = {(r.source, r.action, r.target) for r in TABLE}
REQUEST_ROWS = {(r.source, r.target) for r in TABLE if r.target in PAUSED}

policies = st.builds(
    Policy,
    discoverer_may_check=st.booleans(),
    verify_channels=st.frozensets(st.sampled_from(list(Channel))),
)


def _value(draw: st.DrawFn, name: str) -> Any:
    if name.endswith("_id"):
        return draw(USERS)
    if name == "reporter_ids":
        return draw(st.lists(USERS, min_size=1, max_size=3))
    if name == "score":
        return draw(st.integers(0, 6))
    if name == "level":
        return draw(st.sampled_from(["normal", "yellow", "red", "purple"]))
    if name == "due_at":
        return NOW + timedelta(hours=draw(st.integers(-2, 100)))
    return SAMPLE[name]


@st.composite
def steps(draw: st.DrawFn, case: CaseState) -> tuple[Action, Actor, dict[str, Any]]:
    """One attempted action, biased towards the rows of the current state."""
    here = sorted({r.action for r in TABLE if r.source is case.state})
    if here and draw(st.integers(0, 9)) < 8:
        action = draw(st.sampled_from(here))
    else:
        action = draw(st.sampled_from(list(Action)))
    rows = rows_for(case.state, action)
    roles = sorted({role for r in rows for role in r.roles})
    if roles and draw(st.integers(0, 9)) < 8:
        role = draw(st.sampled_from(roles))
    else:
        role = draw(st.sampled_from(list(Role)))
    known = [u for u in (case.checker_id, case.verifier_id, case.discoverer_id) if u]
    known += list(case.reporter_ids)
    user = draw(st.sampled_from(known) | USERS) if known else draw(USERS)
    who = Actor(user, role, in_jurisdiction=draw(st.integers(0, 19)) > 0)
    fields = sorted({f for r in rows for f in r.requires})
    payload = {f: _value(draw, f) for f in fields if draw(st.integers(0, 19)) > 0}
    if action is Action.SUBMIT and draw(st.booleans()):
        payload["item_class"] = draw(
            st.sampled_from(["on_the_spot", "promised", "pending_documents", "needs_approval"])
            | st.just("suggestion")
        )
    return action, who, payload


def check_invariants(
    case: CaseState, events: list[Event], policy: Policy, start: CaseState | None = None
) -> None:
    start = start or CaseState()
    assert isinstance(case.state, State)
    assert case.version == start.version + len(events)
    if case.state in PAUSED:
        assert (case.paused_from, case.state) in REQUEST_ROWS
    else:
        assert case.paused_from is None
    if case.checker_id is not None:
        assert case.checker_id not in case.handler_ids
        if not policy.discoverer_may_check:
            assert case.checker_id != case.discoverer_id
    if case.state in (State.HANDLED, State.CHECKING):
        assert case.handler_ids
    if case.state is State.CHECKED:
        assert case.handler_ids or case.self_handled
    if case.state is State.CLOSED:
        assert case.closed_by is not None
        assert case.closed_by not in case.dispatcher_ids
        assert case.closed_by not in case.handler_ids
    assert (case.state is State.MERGED) == (case.merged_into is not None)
    fails = sum(e.action is Action.CHECK_FAIL for e in events)
    assert case.rework_count == start.rework_count + fails
    raters = [r for r, _ in case.ratings]
    assert len(raters) == len(set(raters))
    assert set(raters) <= set(case.reporter_ids)


def check_event(before: CaseState, after: CaseState, e: Event, policy: Policy) -> None:
    assert e.version == before.version + 1 == after.version
    assert (e.from_state, e.to_state) == (before.state, after.state)
    assert (e.from_state, e.action, e.to_state) in ROWS
    roles = {role for r in rows_for(e.from_state, e.action) for role in r.roles}
    assert e.actor_role in roles
    if e.action is Action.CLOSE:  # 监管分离: the dispatching side never closes
        assert e.actor_role is not Role.DISPATCHER
        assert e.actor_id not in before.dispatcher_ids
    if e.action in (Action.CHECK_PASS, Action.CHECK_FAIL):
        assert e.actor_id == before.checker_id
        assert e.actor_id not in before.handler_ids
        assert policy.discoverer_may_check or e.actor_id != before.discoverer_id
    if e.action in (Action.ACCEPT, Action.REPORT_BACK):
        assert e.actor_id != before.checker_id


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.data(),
    policy=policies,
    start=st.sampled_from([CaseState(), *(busy_case(s) for s in OPEN)]),
    length=st.integers(1, 40),
)
def test_random_sequences_keep_every_rule(
    data: st.DataObject, policy: Policy, start: CaseState, length: int
) -> None:
    """From a new case or one midway through the loop (every part already played)."""
    case, events = start, []
    for i in range(length):
        action, who, payload = data.draw(steps(case))
        now = NOW + timedelta(minutes=i)
        try:
            out = apply(case, action, who, payload, now, policy)
        except WorkflowError as err:
            assert err.code in STATUS_BY_CODE
            assert 400 <= err.status < 500
            continue
        check_event(case, out.state, out.event, policy)
        case = out.state
        events.append(out.event)
        check_invariants(case, events, policy, start)
    assert replay(events, start) == case


def test_random_walks_over_allowed_actions_reach_every_state() -> None:
    """Walks that only take what ``allowed_actions`` offers reach every state of the table, and
    an offered action fails only on its payload (never on state, role or jurisdiction)."""
    rng = random.Random(20250602)
    actors = [Actor(u, role) for role in Role for u in range(1, 7)]
    reached: set[State] = set()
    for walk in range(200):
        policy = Policy(discoverer_may_check=walk % 2 == 0, verify_channels=frozenset())
        case, events = CaseState(), []
        for i in range(40):
            options: dict[Action, list[Actor]] = {}
            for w in actors:
                for a in allowed_actions(case, w, policy):
                    options.setdefault(a, []).append(w)
            if not options:
                break
            action = rng.choice(sorted(options))
            who = rng.choice(options[action])
            row = rows_for(case.state, action)[0]
            payload = {f: SAMPLE[f] for f in row.requires}
            for f in ("checker_id", "verifier_id"):
                if f in payload:
                    payload[f] = rng.randint(1, 6)
            if action is Action.SUBMIT and rng.random() < 0.4:
                payload["item_class"] = rng.choice(list(ItemClass))
            try:
                out = apply(case, action, who, payload, NOW + timedelta(minutes=i), policy)
            except WorkflowError as err:
                assert err.code in ("missing_field", "invalid_field", "separation_of_duties")
                continue
            case = out.state
            events.append(out.event)
            reached.add(case.state)
            check_invariants(case, events, policy)
        assert replay(events) == case
    assert reached == set(State) - {State.NEW}


def test_replay_refuses_a_broken_history() -> None:
    case = CaseState()
    first = apply(case, Action.SUBMIT, Actor(1, Role.RESIDENT), {"description": "x"}, NOW)
    try:
        replay([first.event, first.event])
    except WorkflowError as err:
        assert (err.code, err.status) == ("corrupt_history", 409)
    else:  # pragma: no cover
        raise AssertionError("a duplicated event was replayed")
