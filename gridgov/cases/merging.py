"""合并 (duplicate merge): many reports of one problem become one case, in one transaction.

The transition table has two rows for it: ``merge`` on the duplicate (it becomes ``merged``
and stops its clocks) and ``absorb`` on the master (a self-loop that adds the duplicate's
reporters). :func:`merge_case` applies both through ``workflow.apply`` and stores both event
rows, versions and audit rows together, or nothing: every reporter of the duplicate then gets
the master's result (专项反馈, see ``dispatching.notify``) and may rate it.

Refused before anything is written: a role that may not merge or a case outside the user's
jurisdiction (403), a stale ``expected_version`` on either case (409 with that case's state and
version), merging a case into itself or into an unknown case (422), into a closed, void,
rejected or referred case (409 ``master_closed``), or into a case that is itself merged
(409 ``merge_chain``: merge into the case it was merged into).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridgov.accounts import audit
from gridgov.accounts.models import User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.scope import scope_of
from gridgov.cases import dispatching
from gridgov.cases.actions import (
    ANONYMOUS,
    actor_for,
    from_snapshot,
    load_case,
    reject_nul,
    store_outcome,
)
from gridgov.cases.models import Case
from gridgov.cases.workflow import TABLE, TERMINAL, Action, Outcome, State, apply
from gridgov.errors import Conflict, NotFound, ValidationError
from gridgov.taxonomy.models import Kind
from gridgov.taxonomy.service import get_subclass
from gridgov.workcalendar import WorkingCalendar

#: Who may merge: the roles of the table's ``merge`` rows (the supervision centre desk).
MERGE_ROLES = frozenset(role for row in TABLE if row.action is Action.MERGE for role in row.roles)
MAX_NOTE = 2000


def _whole_number(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(f"{name} must be a whole number ≥ 0", field=name)
    return value


def _check_inputs(
    case_no: str, into: Any, expected: Any, master_expected: Any, note: Any
) -> tuple[str, str]:
    """The master's number and the note, once every input is well-formed (422 otherwise)."""
    _whole_number(expected, "expected_version")
    if master_expected is not None:
        _whole_number(master_expected, "master_expected_version")
    if not isinstance(into, str) or not into.strip():
        raise ValidationError("into must name the master case (its case number)", field="into")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise ValidationError(f"note must be text of at most {MAX_NOTE} characters", field="note")
    reject_nul(into, "into")
    reject_nul(note, "note")
    if into.strip() == case_no:
        raise ValidationError(
            f"case {case_no} cannot be merged into itself",
            code="merge_into_itself",
            field="into",
        )
    return into.strip(), note.strip()


def _lock_pair(session: Session, case_no: str, master_no: str) -> tuple[Case, Case]:
    """Both cases, row-locked in case-number order (two merges of one pair never deadlock)."""
    found: dict[str, Case] = {}
    for no in sorted((case_no, master_no)):
        try:
            found[no] = load_case(session, no, for_update=True)
        except NotFound:
            if no == case_no:
                raise
            raise ValidationError(
                f"no case {master_no!r} to merge into", code="unknown_case", field="into"
            ) from None
    return found[case_no], found[master_no]


def stale(case: Case) -> Conflict:
    """409: ``case`` changed since the user saw it; carries its number, state and version."""
    return Conflict(
        f"case {case.case_no} has changed (now version {case.version}, {case.state.value}); "
        "reload it and try again",
        code="version_conflict",
        case_no=case.case_no,
        state=case.state.value,
        version=case.version,
    )


def _check_master(session: Session, master: Case) -> None:
    if master.state is State.MERGED:
        into = session.get(Case, from_snapshot(master.workflow).merged_into or 0)
        target = f"; merge into case {into.case_no} instead" if into is not None else ""
        raise Conflict(
            f"case {master.case_no} is itself merged into another case{target}",
            code="merge_chain",
            field="into",
            case_no=master.case_no,
            merged_into=into.case_no if into is not None else None,
        )
    if master.state in TERMINAL:
        raise Conflict(
            f"case {master.case_no} is {master.state.value}; a duplicate can only be merged "
            "into an open case",
            code="master_closed",
            field="into",
            case_no=master.case_no,
            state=master.state.value,
        )


def _outcomes(
    session: Session, user: User, duplicate: Case, master: Case, note: str, now: datetime
) -> tuple[Outcome, Outcome]:
    """``merge`` on the duplicate, then ``absorb`` on the master (workflow checks included)."""
    merged = apply(
        from_snapshot(duplicate.workflow),
        Action.MERGE,
        actor_for(session, user, duplicate),
        {"master_id": master.id, "master_case_no": master.case_no, "note": note},
        now,
    )
    # Reporters without an account (anonymous, hotline caller) are 0: their phone is found
    # on the duplicate itself when the master closes.
    reporters = list(merged.state.reporter_ids) or [ANONYMOUS]
    absorbed = apply(
        from_snapshot(master.workflow),
        Action.ABSORB,
        actor_for(session, user, master),
        {
            "duplicate_id": duplicate.id,
            "duplicate_case_no": duplicate.case_no,
            "reporter_ids": reporters,
            "note": note,
        },
        now,
    )
    return merged, absorbed


def merge_case(
    session: Session,
    case_no: str,
    *,
    into: str,
    actor_user: User,
    expected_version: int,
    master_expected_version: int | None = None,
    note: str = "",
    now: datetime,
    calendar: WorkingCalendar | None = None,
) -> Case:
    """合并: merge case ``case_no`` (the duplicate) into case ``into`` (the master); return the
    master. ``expected_version`` is the duplicate's version the user saw; the master's is
    checked too when ``master_expected_version`` is given. Both cases change or neither does.
    """
    master_no, note = _check_inputs(case_no, into, expected_version, master_expected_version, note)
    authorize(actor_user, MERGE_ROLES, action="merge cases (合并)")
    duplicate, master = _lock_pair(session, case_no, master_no)
    scope = scope_of(session, actor_user)
    for case in (duplicate, master):
        authorize(
            actor_user,
            MERGE_ROLES,
            scope,
            grid_code=case.grid_code,
            department=case.department_code,
            action=f"merge case {case.case_no}",
        )
    if duplicate.version != expected_version:
        raise stale(duplicate)
    if master_expected_version is not None and master.version != master_expected_version:
        raise stale(master)
    _check_master(session, master)
    merged, absorbed = _outcomes(session, actor_user, duplicate, master, note, now)
    rows = []
    try:  # the event rows (unique per case and version) are written at once, the cases at flush
        for case, outcome in ((duplicate, merged), (master, absorbed)):
            sub = get_subclass(session, case.subclass_code, Kind(case.subclass_kind))
            payload = dict(outcome.event.payload)
            rows.append(store_outcome(session, case, outcome, payload, sub, calendar))
            audit.record(
                session,
                actor_user,
                f"case.{outcome.event.action.value}",
                case,
                {"duplicate": duplicate.case_no, "master": master.case_no},
            )
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise _which_stale(session, case_no, master_no, expected_version) from None
    dispatching.notify(session, duplicate, rows[0])
    return master


def _which_stale(session: Session, case_no: str, master_no: str, expected: int) -> Conflict:
    """The conflict after a lost compare-and-set: the duplicate if it moved, else the master."""
    duplicate = load_case(session, case_no)
    return stale(duplicate if duplicate.version != expected else load_case(session, master_no))
