"""The one function that moves a case (流转): ``apply``; and ``allowed_actions`` for UIs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gridgov.cases.checks import GUARDS, actor_conflict, check_payload, payload_conflict
from gridgov.cases.effects import evolve
from gridgov.cases.model import Actor, CaseState, Event, Outcome, Policy, WorkflowError, freeze
from gridgov.cases.states import Action
from gridgov.cases.table import Transition, actions_in, rows_for

DEFAULT_POLICY = Policy()


def select_row(
    case: CaseState, action: Action | str, actor: Actor, policy: Policy = DEFAULT_POLICY
) -> Transition:
    """The row that lets ``actor`` do ``action`` now, or the reason why none does.

    Checks in order: the state, the role, the jurisdiction, the row's guard, separation of
    duties for the actor. Payload checks come after, in ``apply``.
    """
    try:
        action = Action(action)
    except ValueError:
        raise WorkflowError("unknown_action", f"unknown action {action!r}") from None
    rows = rows_for(case.state, action)
    if not rows:
        raise WorkflowError(
            "not_allowed_in_state", f"{action} is not allowed when a case is {case.state}"
        )
    rows = tuple(r for r in rows if actor.role in r.roles)
    if not rows:
        raise WorkflowError("wrong_role", f"a {actor.role} may not {action} in {case.state}")
    if not actor.in_jurisdiction:
        raise WorkflowError("outside_jurisdiction", "this case is outside your jurisdiction")
    passing = [r for r in rows if r.guard is None or GUARDS[r.guard].holds(case, actor, policy)]
    if not passing:
        guard = GUARDS[rows[0].guard or ""]
        raise WorkflowError(guard.code, guard.message, guard=rows[0].guard)
    actor_conflict(case, action, actor, policy)
    return passing[0]


def apply(
    case: CaseState,
    action: Action | str,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Outcome:
    """Apply one action: check the row, role, jurisdiction, guard, payload and separation of
    duties; return the new case, the one event row to store and the deadline change.

    Pure: no database and no clock of its own (``now`` is passed in, time zone aware).
    Refusals raise ``WorkflowError`` and change nothing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time zone aware")
    row = select_row(case, action, actor, policy)
    check_payload(row.requires, payload, now)
    payload_conflict(case, row.action, payload, policy)
    note = payload.get("note") or payload.get("reason") or ""
    event = Event(
        version=case.version + 1,
        action=row.action,
        actor_id=actor.user_id,
        actor_role=actor.role,
        at=now,
        from_state=case.state,
        to_state=row.target,
        note=str(note),
        payload=freeze(dict(payload)),
    )
    return Outcome(state=evolve(case, event), event=event, clock=row.clock)


def allowed_actions(case: CaseState, actor: Actor, policy: Policy = DEFAULT_POLICY) -> list[Action]:
    """The actions ``actor`` may take on ``case`` now (the payload still has to be valid)."""
    out = []
    for action in actions_in(case.state):
        try:
            select_row(case, action, actor, policy)
        except WorkflowError:
            continue
        out.append(action)
    return out
