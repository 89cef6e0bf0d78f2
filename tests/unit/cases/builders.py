"""Builders for workflow tests: a case that satisfies a row, its proper actor, a valid payload."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from gridgov.accounts.models import Role
from gridgov.cases.model import NO_ACCOUNT
from gridgov.cases.workflow import (
    Action,
    Actor,
    CaseState,
    Channel,
    Event,
    ItemClass,
    Policy,
    State,
    Transition,
    apply,
)

NOW = datetime(2025, 6, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai

# One user per part in a case.
DISCOVERER = 1  # the supervisor who reported it
RESIDENT = 2
VERIFIER = 3
CHECKER = 4
HANDLER = 5
DISPATCHER = 6
SHIFT_LEAD = 7
ACCEPTOR = 8
LEADER = 9
HANDLER2 = 10

USER_FOR_ROLE: dict[Role, int] = {
    Role.SUPERVISOR: DISCOVERER,
    Role.RESIDENT: RESIDENT,
    Role.DEPARTMENT: HANDLER,
    Role.DISPATCHER: DISPATCHER,
    Role.SHIFT_LEAD: SHIFT_LEAD,
    Role.ACCEPTOR: ACCEPTOR,
    Role.LEADER: LEADER,
    Role.REGISTRAR: 11,
    Role.ADMIN: 12,
}
USER_FOR_GUARD = {
    "actor_is_verifier": VERIFIER,
    "actor_is_checker": CHECKER,
    "actor_is_reporting_supervisor": DISCOVERER,
    "actor_is_reporter": RESIDENT,
}

SAMPLE: dict[str, Any] = {
    "description": "上水井盖缺失",
    "photos": ["photo-1.jpg"],
    "verifier_id": VERIFIER,
    "reason": "not ours / cannot fix now",
    "department_id": 20,
    "result": "已更换井盖",
    "checker_id": CHECKER,
    "due_at": NOW + timedelta(days=7),
    "master_id": 99,
    "duplicate_id": 98,
    "reporter_ids": [RESIDENT, 13],
    "level": "yellow",
    "score": 5,
    "notice": "请补交房产证复印件",
    "documents": ["doc-1.pdf"],
    "referred_to": "市场监管局",
    "to_region": "110000",
}

# Where a pending request came from, when the row's guard does not say.
DEFAULT_PAUSED_FROM = {
    State.RETURN_REQUESTED: State.HANDLING,
    State.EXTENSION_REQUESTED: State.HANDLING,
    State.HANG_REQUESTED: State.HANDLING,
    State.VOID_REQUESTED: State.REGISTERED,
    State.ESCALATED: State.REGISTERED,
}


def busy_case(state: State) -> CaseState:
    """A supervisor-reported case in ``state`` with every part already played by someone."""
    if state is State.NEW:
        return CaseState()
    return CaseState(
        state=state,
        version=5,
        channel=Channel.SUPERVISOR,
        reporter_ids=(DISCOVERER, RESIDENT),
        discoverer_id=DISCOVERER,
        verifier_id=VERIFIER,
        department_id=20,
        dispatcher_ids=(DISPATCHER,),
        handler_ids=(HANDLER,),
        checker_id=CHECKER,
        paused_from=DEFAULT_PAUSED_FROM.get(state),
    )


def case_for(row: Transition) -> CaseState:
    """A case in the row's source state that satisfies the row's guard."""
    case = busy_case(row.source)
    guard = row.guard or ""
    if guard.startswith("paused_from_"):
        case = replace(case, paused_from=State(guard.removeprefix("paused_from_")))
    if guard == "caller_without_account":
        case = replace(case, reporter_ids=(*case.reporter_ids, NO_ACCOUNT))
    if guard.startswith("item_"):
        case = replace(case, item_class=ItemClass(guard.removeprefix("item_")))
    return case


def actor_for(row: Transition, role: Role) -> Actor:
    user = USER_FOR_GUARD.get(row.guard or "", USER_FOR_ROLE[role])
    return Actor(user_id=user, role=role)


def payload_for(row: Transition) -> dict[str, Any]:
    return {name: SAMPLE[name] for name in row.requires}


def actor(role: Role, user_id: int | None = None) -> Actor:
    return Actor(user_id=USER_FOR_ROLE[role] if user_id is None else user_id, role=role)


Plan = list[tuple[Action, Actor, dict[str, Any]]]


def run(
    case: CaseState,
    steps: Plan,
    policy: Policy | None = None,
) -> tuple[CaseState, list[Event]]:
    """Apply ``steps`` in order; return the final case and the event rows."""
    events = []
    for i, (action, who, payload) in enumerate(steps):
        out = apply(case, action, who, payload, NOW + timedelta(minutes=i), policy or Policy())
        case = out.state
        events.append(out.event)
    return case, events


def supervisor_report(**extra: Any) -> dict[str, Any]:
    return {"description": "暴露垃圾", "photos": ["p.jpg"], **extra}
