"""Immutable values the workflow works on: the case, the actor, the event row, the policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from gridgov.accounts.models import Role
from gridgov.cases.states import Action, Channel, ItemClass, State, Step, SupervisionLevel
from gridgov.errors import GridgovError

STATUS_BY_CODE: Mapping[str, int] = MappingProxyType(
    {
        "not_allowed_in_state": 409,
        "guard_failed": 409,
        "already_rated": 409,
        "corrupt_history": 409,
        "wrong_role": 403,
        "outside_jurisdiction": 403,
        "not_assignee": 403,
        "not_reporter": 403,
        "separation_of_duties": 403,
        "missing_field": 422,
        "invalid_field": 422,
        "unknown_action": 422,
    }
)


#: The reporter id of someone without an account: an anonymous resident, a phone caller.
NO_ACCOUNT = 0


class WorkflowError(GridgovError):
    """An action was refused; ``code`` says why and decides the HTTP status (409/403/422)."""

    def __init__(self, code: str, message: str, **where: Any) -> None:
        super().__init__(message, code=code, **where)
        self.status = STATUS_BY_CODE.get(code, 400)


@dataclass(frozen=True)
class ClockOp:
    """Which step deadlines (时限) a transition stops and starts; computed elsewhere.

    ``due_field`` names a payload field holding an explicit deadline for the started steps
    (an approved 延期, a 承诺 date). ``stop_all`` stops every running step (结案, 作废 …).
    """

    start: tuple[Step, ...] = ()
    stop: tuple[Step, ...] = ()
    due_field: str | None = None
    stop_all: bool = False


@dataclass(frozen=True)
class Actor:
    """Who acts: the user, the role they act in, and whether the case is in their jurisdiction
    (computed by the caller with the one jurisdiction helper)."""

    user_id: int
    role: Role
    in_jurisdiction: bool = True


@dataclass(frozen=True)
class Policy:
    """Deployment settings the rules depend on.

    ``discoverer_may_check``: whether the supervisor who found a problem may also check (核查) it.
    ``verify_channels``: channels whose reports need on-site 核实 before 立案.
    """

    discoverer_may_check: bool = False
    verify_channels: frozenset[Channel] = frozenset(
        {Channel.PUBLIC, Channel.HOTLINE, Channel.SENSOR}
    )


@dataclass(frozen=True)
class CaseState:
    """What the rules need to know about one case (案件). Rebuilt from its events by ``replay``.

    ``rework`` (返工) is a state of its own; ``rework_count`` counts failed checks against the
    department. ``level`` counts escalations (上报上级): 0 is the level the case was filed at;
    ``level_region`` is the region code of the command centre that took the case over on the last
    accepted escalation, ``escalated_to`` the one asked while an escalation waits.
    """

    state: State = State.NEW
    version: int = 0
    channel: Channel | None = None
    item_class: ItemClass | None = None
    reporter_ids: tuple[int, ...] = ()  # everyone who gets the result, merged reporters too
    discoverer_id: int | None = None  # the supervisor who found it (supervisor reports)
    verifier_id: int | None = None
    department_id: int | None = None
    dispatcher_ids: tuple[int, ...] = ()
    handler_ids: tuple[int, ...] = ()  # department users who took up or reported back
    checker_id: int | None = None
    closed_by: int | None = None
    rework_count: int = 0
    supervision_level: SupervisionLevel | None = None
    level: int = 0
    level_region: str | None = None
    escalated_to: str | None = None
    merged_into: int | None = None
    paused_from: State | None = None  # where a pending request returns to when denied
    self_handled: bool = False
    ratings: tuple[tuple[int, int], ...] = ()  # (reporter id, score 1–5)


def freeze(value: Any) -> Any:
    """Make a payload value immutable: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class Event:
    """One immutable event row (案件流转记录): who did what, when, from which state to which."""

    version: int
    action: Action
    actor_id: int
    actor_role: Role
    at: datetime
    from_state: State
    to_state: State
    note: str = ""
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Outcome:
    """The result of one applied action: the new case, the event row to store, the clock change."""

    state: CaseState
    event: Event
    clock: ClockOp | None
