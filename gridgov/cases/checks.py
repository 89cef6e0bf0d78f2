"""The checks behind the table: named guards, payload fields, separation of duties (监管分离)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridgov.cases.model import NO_ACCOUNT, Actor, CaseState, Policy, WorkflowError
from gridgov.cases.states import Action, Channel, ItemClass, State, SupervisionLevel


@dataclass(frozen=True)
class Guard:
    """A named condition a row needs; when it fails the action is refused with ``code``."""

    holds: Callable[[CaseState, Actor, Policy], bool]
    code: str
    message: str


def _paused_from(state: State) -> Guard:
    return Guard(
        lambda c, a, p: c.paused_from is state,
        "guard_failed",
        f"the request was not made from {state}",
    )


def _item(item: ItemClass) -> Guard:
    return Guard(
        lambda c, a, p: c.item_class is item,
        "guard_failed",
        f"only a service request of item class {item} allows this",
    )


GUARDS: Mapping[str, Guard] = {
    "verification_not_needed": Guard(
        lambda c, a, p: c.channel not in p.verify_channels,
        "guard_failed",
        "reports from this channel must be verified on site (核实) before registration",
    ),
    "actor_is_verifier": Guard(
        lambda c, a, p: a.user_id == c.verifier_id,
        "not_assignee",
        "only the supervisor assigned to verify this case may do this",
    ),
    "actor_is_checker": Guard(
        lambda c, a, p: a.user_id == c.checker_id,
        "not_assignee",
        "only the supervisor assigned to check this case may do this",
    ),
    "actor_is_reporting_supervisor": Guard(
        lambda c, a, p: c.channel is Channel.SUPERVISOR and a.user_id == c.discoverer_id,
        "not_reporter",
        "only the supervisor who reported the problem may handle it themselves",
    ),
    "actor_is_reporter": Guard(
        lambda c, a, p: a.user_id in c.reporter_ids,
        "not_reporter",
        "only a reporter of this case may rate it",
    ),
    "caller_without_account": Guard(
        lambda c, a, p: NO_ACCOUNT in c.reporter_ids,
        "guard_failed",
        "only the rating of a reporter without an account (a phone caller) is recorded by the "
        "desk; reporters with an account rate it themselves",
    ),
    "paused_from_registered": _paused_from(State.REGISTERED),
    "paused_from_dispatched": _paused_from(State.DISPATCHED),
    "paused_from_handling": _paused_from(State.HANDLING),
    **{f"item_{item}": _item(item) for item in ItemClass},
}


# ---- payload fields -------------------------------------------------------------------------


def _positive_int(value: Any, now: datetime) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _text(value: Any, now: datetime) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _attachments(value: Any, now: datetime) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(_text(v, now) for v in value)
    )


def _reporter_ids(value: Any, now: datetime) -> bool:
    """User ids, 0 standing for reporters without an account (anonymous, hotline, sensor)."""
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    )


def _region_code(value: Any, now: datetime) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and 6 <= len(value) <= 12


def _future(value: Any, now: datetime) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and value > now


def _one_of(values: Sequence[str]) -> Callable[[Any, datetime], bool]:
    return lambda value, now: isinstance(value, str) and value in values


_HOTLINE_DESK = (Channel.HOTLINE, Channel.VIDEO, Channel.SENSOR)
#: field → (check, what a valid value is). Fields not listed must simply be non-empty.
FIELDS: Mapping[str, tuple[Callable[[Any, datetime], bool], str]] = {
    "verifier_id": (_positive_int, "a user id"),
    "checker_id": (_positive_int, "a user id"),
    "department_id": (_positive_int, "a department id"),
    "master_id": (_positive_int, "a case id"),
    "duplicate_id": (_positive_int, "a case id"),
    "reporter_id": (_positive_int, "a user id"),
    "reporter_ids": (_reporter_ids, "a non-empty list of user ids (0: no account)"),
    "photos": (_attachments, "a non-empty list of attachment ids"),
    "documents": (_attachments, "a non-empty list of attachment ids"),
    "due_at": (_future, "a time zone aware date-time in the future"),
    "level": (_one_of(list(SupervisionLevel)), "one of normal, yellow, red"),
    "score": (
        lambda v, now: _positive_int(v, now) and v <= 5,
        "a whole number from 1 to 5",
    ),
    "to_region": (_region_code, "a region code of 6 to 12 digits"),
    "item_class": (_one_of(list(ItemClass)), "one of " + ", ".join(ItemClass)),
    "channel": (_one_of(list(_HOTLINE_DESK)), "one of " + ", ".join(_HOTLINE_DESK)),
}


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Sequence | Mapping | set | frozenset):
        return len(value) == 0
    return False


def check_payload(requires: Sequence[str], payload: Mapping[str, Any], now: datetime) -> None:
    """Every required field present and non-empty; every known field well-formed."""
    for name in requires:
        if _empty(payload.get(name)):
            raise WorkflowError("missing_field", f"{name} is required", field=name)
    for name, value in payload.items():
        rule = FIELDS.get(name)
        if rule is None:
            if name in requires and not isinstance(value, str):
                raise WorkflowError("invalid_field", f"{name} must be text", field=name)
            continue
        if value is None and name not in requires:
            continue
        check, expected = rule
        if not check(value, now):
            raise WorkflowError("invalid_field", f"{name} must be {expected}", field=name)


# ---- separation of duties (监管分离) ----------------------------------------------------------


def actor_conflict(case: CaseState, action: Action, actor: Actor, policy: Policy) -> None:
    """Refuse an actor whose earlier part in this case rules them out of this action."""
    uid = actor.user_id
    if action is Action.CLOSE and uid in case.dispatcher_ids:
        raise _sod("the dispatching side never closes its own case")
    if action is Action.CLOSE and uid in case.handler_ids:
        raise _sod("a department handler never closes the case they handled")
    if action in (Action.CHECK_PASS, Action.CHECK_FAIL):
        _check_checker(case, uid, policy)
    if action in (Action.ACCEPT, Action.REPORT_BACK) and uid == case.checker_id:
        raise _sod("the checker of a case never handles it")
    if action is Action.RATE and any(rater == uid for rater, _ in case.ratings):
        raise WorkflowError("already_rated", "you have already rated this case")
    if action is Action.RECORD_RATING and any(r == NO_ACCOUNT for r, _ in case.ratings):
        raise WorkflowError("already_rated", "the caller's rating of this case is already recorded")


def payload_conflict(
    case: CaseState, action: Action, payload: Mapping[str, Any], policy: Policy
) -> None:
    """Refuse a payload that would break separation of duties (e.g. choosing the checker)."""
    if action is Action.ASSIGN_CHECK:
        _check_checker(case, payload["checker_id"], policy)


def _check_checker(case: CaseState, checker_id: int, policy: Policy) -> None:
    if checker_id in case.handler_ids:
        raise _sod("the checker is never the department handler")
    if checker_id == case.discoverer_id and not policy.discoverer_may_check:
        raise _sod("the discoverer of a problem may not check it (setting discoverer_may_check)")


def _sod(message: str) -> WorkflowError:
    return WorkflowError("separation_of_duties", message)
