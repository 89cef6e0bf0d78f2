"""Acting on a stored case (案件流转): load, check the version, ``workflow.apply``, store.

``store_outcome`` is the one place that writes what ``apply`` returned: the event row, the new
state and version, the stage timestamps, the step deadlines and, on registration (立案), the
routing suggestion (``dispatching.record_suggestion``). Intake uses its two halves for
``submit``: ``set_case_state`` before the new row is inserted, ``record_outcome`` after. ``act``
also writes the event's audit row and notifications (``dispatching.notify``) in the same
transaction; it is the one path for every actor, the anonymous reporter (``actor_user`` None)
included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridgov.accounts import audit
from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import scope_of
from gridgov.cases import dispatching, levels
from gridgov.cases.deadlines import apply_clock
from gridgov.cases.model import NO_ACCOUNT
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.photos import check_payload_photos
from gridgov.cases.workflow import (
    Action,
    Actor,
    CaseState,
    Channel,
    Event,
    ItemClass,
    Outcome,
    State,
    SupervisionLevel,
    WorkflowError,
    apply,
)
from gridgov.db import insert_now, inserts_together
from gridgov.errors import Conflict, NotFound, ValidationError
from gridgov.media.storage import MediaStorage
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import shared_subclass
from gridgov.workcalendar import WorkingCalendar

ANONYMOUS = NO_ACCOUNT  # actor id of an anonymous resident report (no user row)
#: The two halves of 合并 (``merge`` on the duplicate, ``absorb`` on the master): only ever
#: stored together by ``merging.merge_case``, never one by one through ``act``.
TOGETHER_ONLY = frozenset({Action.MERGE.value, Action.ABSORB.value})
#: Payload fields that carry a date-time; JSON clients send ISO 8601 text.
DATETIME_FIELDS = ("due_at",)
#: Stage timestamps (``<stage>_at``) set the first time a case reaches the state.
STAGE_AT: Mapping[State, str] = {
    State.REGISTERED: "registered_at",
    State.DISPATCHED: "dispatched_at",
    State.HANDLED: "handled_at",
    State.CHECKED: "checked_at",
    State.CLOSED: "closed_at",
}


# ---- workflow state ↔ JSON ------------------------------------------------------------------


_STATE_FIELDS = tuple(f.name for f in fields(CaseState))


def snapshot(state: CaseState) -> dict[str, Any]:
    """The workflow state as JSON (enums as their values, tuples as lists)."""
    # Field by field, not dataclasses.asdict: its deep copy was a twentieth of a report's CPU.
    out = {name: getattr(state, name) for name in _STATE_FIELDS}
    out["ratings"] = [list(r) for r in state.ratings]
    for name in ("reporter_ids", "dispatcher_ids", "handler_ids"):
        out[name] = list(out[name])
    return {k: v.value if hasattr(v, "value") else v for k, v in out.items()}


def from_snapshot(data: Mapping[str, Any]) -> CaseState:
    """The inverse of ``snapshot``."""
    d = {k: v for k, v in data.items() if k in _STATE_FIELDS}
    enums = {
        "state": State,
        "paused_from": State,
        "channel": Channel,
        "item_class": ItemClass,
        "supervision_level": SupervisionLevel,
    }
    for name, enum in enums.items():
        if d.get(name) is not None:
            d[name] = enum(d[name])
    for name in ("reporter_ids", "dispatcher_ids", "handler_ids"):
        d[name] = tuple(d.get(name) or ())
    d["ratings"] = tuple(tuple(r) for r in d.get("ratings") or ())
    return CaseState(**d)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def event_of(row: CaseEvent) -> Event:
    """The workflow ``Event`` a stored row records (for ``replay``)."""
    return Event(
        version=row.seq,
        action=row.action,
        actor_id=row.actor_user_id or ANONYMOUS,
        actor_role=row.role,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        note=row.note,
        payload=dict(row.payload or {}),
    )


# ---- storing an outcome ---------------------------------------------------------------------


def store_outcome(
    session: Session,
    case: Case,
    outcome: Outcome,
    payload: Mapping[str, Any],
    subclass: Subclass,
    calendar: WorkingCalendar | None = None,
) -> CaseEvent:
    """Write the event row, the case's new state and version, stage times and deadlines."""
    previous_department = case.department_code
    set_case_state(case, outcome, payload)
    return record_outcome(session, case, outcome, payload, subclass, calendar, previous_department)


def set_case_state(case: Case, outcome: Outcome, payload: Mapping[str, Any]) -> None:
    """Copy the outcome's state onto the case's columns (state, version, workflow snapshot,
    department, level, stage times). Writes nothing else: a new case gets its columns before
    its row is inserted."""
    e, new = outcome.event, outcome.state
    routing = dispatching.routing_of(case)
    case.state = new.state
    case.version = new.version
    case.workflow = snapshot(new) | ({dispatching.ROUTING_KEY: routing} if routing else {})
    case.channel = new.channel or case.channel
    case.item_class = new.item_class
    case.department_id = new.department_id
    case.level_region = levels.acting_level(new)
    if e.action is Action.DISPATCH:
        code = payload.get("department_code")
        case.department_code = str(code) if code else None
    elif new.department_id is None:
        case.department_code = None
    stage = STAGE_AT.get(new.state)
    if stage and e.from_state is not new.state and getattr(case, stage) is None:
        setattr(case, stage, e.at)


def record_outcome(
    session: Session,
    case: Case,
    outcome: Outcome,
    payload: Mapping[str, Any],
    subclass: Subclass,
    calendar: WorkingCalendar | None,
    previous_department: str | None,
) -> CaseEvent:
    """Add the event row, stop and start step deadlines and record a routing suggestion, for a
    case whose columns :func:`set_case_state` already moved."""
    e, new = outcome.event, outcome.state
    row = CaseEvent(
        case_id=case.id,
        seq=e.version,
        action=e.action,
        actor_user_id=e.actor_id or None,
        role=e.actor_role,
        at=e.at,
        from_state=e.from_state,
        to_state=e.to_state,
        note=e.note,
        payload=_jsonable(dict(e.payload)),
    )
    first = e.from_state is State.NEW
    apply_clock(session, case, outcome.clock, payload, subclass, e.at, calendar, first=first)
    if new.state is State.REGISTERED and e.from_state is not State.REGISTERED:
        routed = dispatching.record_suggestion(session, case, e.action, previous_department, e.at)
        if routed is not None:  # the register event shows the suggestion in the case history
            suggestion = {k: routed.get(k) for k in ("department_code", "reason")}
            row.payload = {**row.payload, dispatching.ROUTING_KEY: suggestion}
    insert_now(session, row)
    return row


# ---- acting on a case -----------------------------------------------------------------------


def load_case(session: Session, case_no: str, *, for_update: bool = False) -> Case:
    """The case with this number (row-locked on PostgreSQL when ``for_update``), else 404.

    A locked read refreshes a case the session already holds (``populate_existing``): the
    version check must compare with the committed row, not with what this session saw earlier.
    """
    stmt = select(Case).where(Case.case_no == case_no)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    case = session.scalar(stmt)
    if case is None:
        raise NotFound(f"no case {case_no!r}", code="case_not_found", case_no=case_no)
    return case


def actor_for(session: Session, user: User | None, case: Case) -> Actor:
    """The workflow ``Actor``: the user's role, and whether the case's grid or department is in
    their jurisdiction (the one scope helper). Residents act on their own reports only, which
    the workflow's reporter guard checks. ``user`` None is the anonymous reporter of a report
    made without an account (``ANONYMOUS``, a resident)."""
    if user is None:
        return Actor(ANONYMOUS, Role.RESIDENT, True)
    if user.role is Role.RESIDENT:
        return Actor(user.id, user.role, True)
    if user.role is Role.DISPATCHER and case.level_region:  # moved to another level's centre
        return Actor(user.id, user.role, levels.holds_level(session, user, case.level_region))
    scope = scope_of(session, user)
    inside = scope.covers_grid(case.grid_code) or scope.covers_department(case.department_code)
    return Actor(user.id, user.role, inside)


def reject_nul(value: Any, name: str) -> None:
    """Refuse text holding a NUL character (PostgreSQL cannot store it) with a 422."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(f"{name} must not contain NUL characters", field=name)
    if isinstance(value, Mapping):
        for k, v in value.items():
            reject_nul(str(k), name)
            reject_nul(v, f"{name}.{k}")
    elif isinstance(value, list | tuple):
        for v in value:
            reject_nul(v, name)


def _parse_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    reject_nul(payload, "payload")
    out = dict(payload)
    for name in DATETIME_FIELDS:
        value = out.get(name)
        if isinstance(value, str):
            try:
                out[name] = datetime.fromisoformat(value)
            except ValueError:
                raise WorkflowError(
                    "invalid_field", f"{name} must be an ISO 8601 date-time", field=name
                ) from None
    return out


def _subclass_of(session: Session, case: Case) -> Subclass:
    return shared_subclass(session, case.subclass_code, Kind(case.subclass_kind))


def act(
    session: Session,
    case_no: str,
    action: Action | str,
    actor_user: User | None,
    payload: Mapping[str, Any] | None,
    expected_version: int,
    now: datetime,
    *,
    calendar: WorkingCalendar | None = None,
    media: MediaStorage | None = None,
) -> Case:
    """Apply ``action`` by ``actor_user`` to the case; return it with its new state.
    ``actor_user`` None is the anonymous reporter (the workflow actor ``ANONYMOUS``, a resident;
    the audit row has no user): the public rating of a report made without an account.

    ``expected_version`` is the version the user saw: a different current version (someone
    acted first) is a ``Conflict`` (409) carrying the current state and version. The version
    bump is a compare-and-set (``UPDATE … WHERE version = <loaded>``, the mapper's version
    column): of two actions racing with the same version exactly one is stored. Refusals by the
    workflow are ``WorkflowError`` (403/409/422); a photo id in the payload that ``media`` does
    not hold is a 422 naming it. Nothing changes on any refusal.
    """
    if not isinstance(expected_version, int) or isinstance(expected_version, bool):
        raise ValidationError("expected_version must be a whole number", field="expected_version")
    if payload is not None and not isinstance(payload, Mapping):
        raise ValidationError("payload must be an object", field="payload")
    if action in TOGETHER_ONLY:
        raise ValidationError(
            f"{action} is one half of 合并; merge a duplicate with POST /api/cases/{{no}}/merge "
            "(merging.merge_case), which stores both halves together",
            code="merge_only_together",
            field="action",
        )
    case = load_case(session, case_no, for_update=True)
    if case.version != expected_version:
        raise _stale(case)
    data = _parse_payload(payload or {})
    state = from_snapshot(case.workflow)
    dispatch = action == Action.DISPATCH and case.state is State.REGISTERED
    if dispatch:
        data = dispatching.dispatch_payload(session, case, data)
    escalate = action == Action.ESCALATE
    if escalate:  # the server names the next level up; a client cannot choose it
        data.pop("to_region", None)
        if case.state in (State.REGISTERED, State.HANDLING):
            upper = levels.upper_level(session, case, state)
            if upper is not None:
                data["to_region"] = upper
    try:
        outcome = apply(state, action, actor_for(session, actor_user, case), data, now)
    except WorkflowError as exc:
        if dispatch:
            raise dispatching.no_department(case, exc) from None
        if escalate and exc.code == "missing_field" and exc.where.get("field") == "to_region":
            raise levels.no_upper_level(case) from None
        raise
    check_payload_photos(media, data)
    sub = _subclass_of(session, case)
    # The event row (unique per case and version), new deadlines and the audit row are written
    # together as the block ends; the case and stopped deadlines at the flush.
    try:
        with inserts_together(session):
            row = store_outcome(session, case, outcome, data, sub, calendar)
            audit.record(
                session,
                actor_user,
                f"case.{outcome.event.action.value}",
                case,
                {"from": outcome.event.from_state.value, "to": outcome.event.to_state.value},
            )
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise _stale(load_case(session, case_no)) from None
    dispatching.notify(session, case, row)
    return case


def _stale(case: Case) -> Conflict:
    return Conflict(
        f"case {case.case_no} has changed (now version {case.version}, {case.state.value}); "
        "reload it and try again",
        code="version_conflict",
        state=case.state.value,
        version=case.version,
    )
