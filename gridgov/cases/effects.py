"""What an event does to a case. Shared by ``apply`` and ``replay``, so both always agree."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gridgov.accounts.models import Role
from gridgov.cases.model import NO_ACCOUNT, CaseState, Event
from gridgov.cases.states import PAUSED, Action, Channel, ItemClass, SupervisionLevel


def _add(ids: tuple[int, ...], *new: int) -> tuple[int, ...]:
    """Append ids not yet present, keeping the first-seen order."""
    out = list(ids)
    for i in new:
        if i not in out:
            out.append(i)
    return tuple(out)


def _submit(case: CaseState, e: Event) -> dict[str, Any]:
    p = e.payload
    role = e.actor_role
    reporters: tuple[int, ...]
    if role is Role.SUPERVISOR:
        channel, reporters = Channel.SUPERVISOR, (e.actor_id,)
    elif role is Role.RESIDENT:
        channel, reporters = Channel.PUBLIC, (e.actor_id,)
    else:  # the hotline desk enters a caller's report; the caller may be a registered resident
        channel = Channel(p.get("channel") or Channel.HOTLINE)
        if p.get("reporter_id"):
            reporters = (p["reporter_id"],)
        else:  # a caller without an account gets the result (and is asked for a rating) by phone
            reporters = (NO_ACCOUNT,) if channel is Channel.HOTLINE else ()
    return {
        "channel": channel,
        "reporter_ids": reporters,
        "discoverer_id": e.actor_id if role is Role.SUPERVISOR else None,
        "item_class": ItemClass(p["item_class"]) if p.get("item_class") else None,
    }


def evolve(case: CaseState, e: Event) -> CaseState:
    """The case after event ``e``: the new state, the version, and the action's own effect."""
    p, a, uid = e.payload, e.action, e.actor_id
    changes: dict[str, Any] = {"state": e.to_state, "version": e.version}
    if e.to_state != e.from_state:
        if e.to_state in PAUSED:
            changes["paused_from"] = e.from_state
        elif e.from_state in PAUSED:
            changes["paused_from"] = None
    if a is Action.SUBMIT:
        changes |= _submit(case, e)
    elif a is Action.ASSIGN_VERIFY:
        changes["verifier_id"] = p["verifier_id"]
    elif a is Action.DISPATCH:
        changes["department_id"] = p["department_id"]
        changes["dispatcher_ids"] = _add(case.dispatcher_ids, uid)
    elif a in (Action.ACCEPT, Action.REPORT_BACK):
        changes["handler_ids"] = _add(case.handler_ids, uid)
    elif a is Action.ASSIGN_CHECK:
        changes["checker_id"] = p["checker_id"]
    elif a is Action.CHECK_FAIL:
        changes["rework_count"] = case.rework_count + 1
    elif a in (Action.CLOSE, Action.RESOLVE_ON_SPOT):
        changes["closed_by"] = uid
    elif a is Action.APPROVE_RETURN:
        changes["department_id"] = None
    elif a is Action.ESCALATE:
        changes["escalated_to"] = p["to_region"]
    elif a is Action.ACCEPT_ESCALATION:
        changes["level"] = case.level + 1
        changes["level_region"] = case.escalated_to
        changes["escalated_to"] = None
        changes["department_id"] = None
    elif a is Action.DECLINE_ESCALATION:
        changes["escalated_to"] = None
    elif a is Action.SUPERVISE:
        changes["supervision_level"] = SupervisionLevel(p["level"])
    elif a is Action.MERGE:
        changes["merged_into"] = p["master_id"]
    elif a is Action.ABSORB:
        changes["reporter_ids"] = _add(case.reporter_ids, *p["reporter_ids"])
    elif a is Action.SELF_HANDLE:
        changes["self_handled"] = True
    elif a is Action.RATE:
        changes["ratings"] = (*case.ratings, (uid, p["score"]))
    elif a is Action.RECORD_RATING:
        changes["ratings"] = (*case.ratings, (NO_ACCOUNT, p["score"]))
    return replace(case, **changes)
