"""The transition table (流转规则表): every rule of the closed loop is one row.

A row says: in ``source``, ``action`` by one of ``roles`` leads to ``target``, provided the named
``guard`` holds and the payload has every ``requires`` field; ``clock`` says which step deadlines
stop and start. Several rows may share (source, action) when the role or guard decides the target
(for example a denied request goes back to where it came from).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridgov.accounts.models import Role
from gridgov.cases.model import ClockOp
from gridgov.cases.states import IN_PROGRESS, OPEN, Action, State, Step

S, A, R = State, Action, Role
SUPERVISOR = frozenset({R.SUPERVISOR})
ACCEPTOR = frozenset({R.ACCEPTOR})
SHIFT_LEAD = frozenset({R.SHIFT_LEAD})
DISPATCHER = frozenset({R.DISPATCHER})
DEPARTMENT = frozenset({R.DEPARTMENT})
LEADER = frozenset({R.LEADER})
RESIDENT = frozenset({R.RESIDENT})
CENTRE = frozenset({R.ACCEPTOR, R.SHIFT_LEAD})  # 监督中心 desk work
STOP_ALL = ClockOp(stop_all=True)


@dataclass(frozen=True)
class Transition:
    """One rule: ``source`` --``action`` by ``roles``--> ``target``."""

    source: State
    action: Action
    target: State
    roles: frozenset[Role]
    requires: tuple[str, ...] = ()
    clock: ClockOp | None = None
    guard: str | None = None


T = Transition


def _each(
    sources: Iterable[State], action: Action, roles: frozenset[Role], *requires: str
) -> tuple[Transition, ...]:
    """A self-loop row in each of ``sources`` (no state change: 督办, 合并 on the master)."""
    return tuple(T(s, action, s, roles, requires) for s in sources)


def _clock(
    start: tuple[Step, ...] = (), stop: tuple[Step, ...] = (), due: str | None = None
) -> ClockOp:
    return ClockOp(start=start, stop=stop, due_field=due)


# fmt: off
TABLE: tuple[Transition, ...] = (
    # 上报: supervisors report with photos; residents and the hotline desk with a description.
    T(S.NEW, A.SUBMIT, S.REPORTED, SUPERVISOR, ("description", "photos"),
      _clock(start=(Step.REGISTER,))),
    T(S.NEW, A.SUBMIT, S.REPORTED, frozenset({R.RESIDENT, R.ACCEPTOR}), ("description",),
      _clock(start=(Step.REGISTER,))),
    # 核实: public, hotline and sensor reports are verified on site by a supervisor.
    T(S.REPORTED, A.ASSIGN_VERIFY, S.VERIFYING, ACCEPTOR, ("verifier_id",),
      _clock(start=(Step.VERIFY,))),
    T(S.VERIFYING, A.VERIFY, S.VERIFIED, SUPERVISOR, ("photos",),
      _clock(stop=(Step.VERIFY,)), guard="actor_is_verifier"),
    T(S.VERIFYING, A.VERIFY_FALSE, S.REJECTED, SUPERVISOR, ("reason",), STOP_ALL,
      guard="actor_is_verifier"),
    # 立案 / 不予立案
    T(S.REPORTED, A.REGISTER, S.REGISTERED, SHIFT_LEAD, (),
      _clock(start=(Step.DISPATCH,), stop=(Step.REGISTER,)), guard="verification_not_needed"),
    T(S.VERIFIED, A.REGISTER, S.REGISTERED, SHIFT_LEAD, (),
      _clock(start=(Step.DISPATCH,), stop=(Step.REGISTER,))),
    T(S.REPORTED, A.REJECT, S.REJECTED, SHIFT_LEAD, ("reason",), STOP_ALL),
    T(S.VERIFIED, A.REJECT, S.REJECTED, SHIFT_LEAD, ("reason",), STOP_ALL),
    T(S.AWAITING_DOCUMENTS, A.REJECT, S.REJECTED, SHIFT_LEAD, ("reason",), STOP_ALL),
    # 自行处置: the reporting supervisor fixed it on the spot; ready for 结案.
    T(S.REPORTED, A.SELF_HANDLE, S.CHECKED, SUPERVISOR, ("result", "photos"), STOP_ALL,
      guard="actor_is_reporting_supervisor"),
    # 派遣 → 处置 → 处置反馈
    T(S.REGISTERED, A.DISPATCH, S.DISPATCHED, DISPATCHER, ("department_id",),
      _clock(start=(Step.HANDLE,), stop=(Step.DISPATCH,))),
    T(S.DISPATCHED, A.ACCEPT, S.HANDLING, DEPARTMENT),
    T(S.REWORK, A.ACCEPT, S.HANDLING, DEPARTMENT),
    T(S.HANDLING, A.REPORT_BACK, S.HANDLED, DEPARTMENT, ("result", "photos"),
      _clock(stop=(Step.HANDLE,))),
    # 核查 → 结案 / 返工
    T(S.HANDLED, A.ASSIGN_CHECK, S.CHECKING, ACCEPTOR, ("checker_id",),
      _clock(start=(Step.CHECK,))),
    T(S.CHECKING, A.CHECK_PASS, S.CHECKED, SUPERVISOR, ("photos",),
      _clock(stop=(Step.CHECK,)), guard="actor_is_checker"),
    T(S.CHECKING, A.CHECK_FAIL, S.REWORK, SUPERVISOR, ("photos", "reason"),
      _clock(start=(Step.HANDLE,), stop=(Step.CHECK,)), guard="actor_is_checker"),
    T(S.CHECKED, A.CLOSE, S.CLOSED, SHIFT_LEAD, (), STOP_ALL),
    # 评价: each reporter rates the result once; on the callback (回访) the desk records the
    # rating of a caller without an account.
    T(S.CLOSED, A.RATE, S.CLOSED, RESIDENT, ("score",), guard="actor_is_reporter"),
    T(S.CLOSED, A.RECORD_RATING, S.CLOSED, ACCEPTOR, ("score",), guard="caller_without_account"),
    # 回退: wrong department; the dispatcher decides.
    T(S.DISPATCHED, A.REQUEST_RETURN, S.RETURN_REQUESTED, DEPARTMENT, ("reason",)),
    T(S.HANDLING, A.REQUEST_RETURN, S.RETURN_REQUESTED, DEPARTMENT, ("reason",)),
    T(S.RETURN_REQUESTED, A.APPROVE_RETURN, S.REGISTERED, DISPATCHER, (),
      _clock(start=(Step.DISPATCH,), stop=(Step.HANDLE,))),
    T(S.RETURN_REQUESTED, A.DENY_RETURN, S.DISPATCHED, DISPATCHER, ("reason",),
      guard="paused_from_dispatched"),
    T(S.RETURN_REQUESTED, A.DENY_RETURN, S.HANDLING, DISPATCHER, ("reason",),
      guard="paused_from_handling"),
    # 延期: an approved extension sets a new handling deadline.
    T(S.HANDLING, A.REQUEST_EXTENSION, S.EXTENSION_REQUESTED, DEPARTMENT, ("reason", "due_at")),
    T(S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION, S.HANDLING, DISPATCHER, ("due_at",),
      _clock(start=(Step.HANDLE,), due="due_at")),
    T(S.EXTENSION_REQUESTED, A.DENY_EXTENSION, S.HANDLING, DISPATCHER, ("reason",)),
    # 挂账: cannot be fixed now; the clock stops until resumed.
    T(S.HANDLING, A.REQUEST_HANG, S.HANG_REQUESTED, DEPARTMENT, ("reason",)),
    T(S.HANG_REQUESTED, A.APPROVE_HANG, S.HUNG, DISPATCHER, (), _clock(stop=(Step.HANDLE,))),
    T(S.HANG_REQUESTED, A.DENY_HANG, S.HANDLING, DISPATCHER, ("reason",)),
    T(S.HUNG, A.RESUME, S.HANDLING, DISPATCHER, (), _clock(start=(Step.HANDLE,))),
    # 作废: asked for by the desk, approved by the shift lead.
    T(S.REGISTERED, A.REQUEST_VOID, S.VOID_REQUESTED, frozenset({R.ACCEPTOR, R.DISPATCHER}),
      ("reason",)),
    T(S.DISPATCHED, A.REQUEST_VOID, S.VOID_REQUESTED, frozenset({R.ACCEPTOR, R.DISPATCHER}),
      ("reason",)),
    T(S.HANDLING, A.REQUEST_VOID, S.VOID_REQUESTED, frozenset({R.ACCEPTOR, R.DISPATCHER}),
      ("reason",)),
    T(S.VOID_REQUESTED, A.APPROVE_VOID, S.VOIDED, SHIFT_LEAD, (), STOP_ALL),
    T(S.VOID_REQUESTED, A.DENY_VOID, S.REGISTERED, SHIFT_LEAD, ("reason",),
      guard="paused_from_registered"),
    T(S.VOID_REQUESTED, A.DENY_VOID, S.DISPATCHED, SHIFT_LEAD, ("reason",),
      guard="paused_from_dispatched"),
    T(S.VOID_REQUESTED, A.DENY_VOID, S.HANDLING, SHIFT_LEAD, ("reason",),
      guard="paused_from_handling"),
    # 上报上级: this level cannot handle it; the next level up (``to_region``, its command centre,
    # filled in by the server) accepts and dispatches, or declines.
    T(S.REGISTERED, A.ESCALATE, S.ESCALATED, DISPATCHER, ("reason", "to_region"),
      _clock(stop=(Step.DISPATCH,))),
    T(S.HANDLING, A.ESCALATE, S.ESCALATED, DEPARTMENT, ("reason", "to_region"),
      _clock(stop=(Step.HANDLE,))),
    T(S.ESCALATED, A.ACCEPT_ESCALATION, S.REGISTERED, DISPATCHER, (),
      _clock(start=(Step.DISPATCH,))),
    T(S.ESCALATED, A.DECLINE_ESCALATION, S.REGISTERED, DISPATCHER, ("reason",),
      _clock(start=(Step.DISPATCH,)), guard="paused_from_registered"),
    T(S.ESCALATED, A.DECLINE_ESCALATION, S.HANDLING, DISPATCHER, ("reason",),
      _clock(start=(Step.HANDLE,)), guard="paused_from_handling"),
    # 合并: the duplicate is closed into its master; the master gains every reporter.
    *(
        T(s, A.MERGE, S.MERGED, CENTRE, ("master_id",), STOP_ALL)
        for s in (S.REPORTED, S.VERIFYING, S.VERIFIED, S.REGISTERED, S.AWAITING_DOCUMENTS)
    ),
    *_each(OPEN, A.ABSORB, CENTRE, "duplicate_id", "reporter_ids"),
    # 督办: normal / yellow / red card; an event with a level, no state change.
    *_each(IN_PROGRESS, A.SUPERVISE, LEADER, "level"),
    # Item classes of resident service requests (办件类别).
    T(S.REPORTED, A.RESOLVE_ON_SPOT, S.CLOSED, ACCEPTOR, ("result",), STOP_ALL,
      guard="item_on_the_spot"),  # 即办
    T(S.REPORTED, A.PROMISE, S.REGISTERED, ACCEPTOR, ("due_at",),
      ClockOp(start=(Step.PROMISE, Step.DISPATCH), stop=(Step.REGISTER,), due_field="due_at"),
      guard="item_promised"),  # 承诺
    T(S.REPORTED, A.REQUEST_DOCUMENTS, S.AWAITING_DOCUMENTS, ACCEPTOR, ("notice",),
      _clock(stop=(Step.REGISTER,)), guard="item_pending_documents"),  # 补办
    T(S.AWAITING_DOCUMENTS, A.DOCUMENTS_RECEIVED, S.REGISTERED, ACCEPTOR, ("documents",),
      _clock(start=(Step.DISPATCH,))),
    T(S.REPORTED, A.REQUEST_APPROVAL, S.AWAITING_APPROVAL, ACCEPTOR, ("reason",),
      _clock(start=(Step.APPROVAL,), stop=(Step.REGISTER,)), guard="item_needs_approval"),  # 上报
    T(S.AWAITING_APPROVAL, A.GRANT_APPROVAL, S.REGISTERED, LEADER, (),
      _clock(start=(Step.REPLY, Step.DISPATCH), stop=(Step.APPROVAL,))),
    T(S.AWAITING_APPROVAL, A.REFUSE_APPROVAL, S.REJECTED, LEADER, ("reason",), STOP_ALL),
    T(S.REPORTED, A.REFER, S.REFERRED, ACCEPTOR, ("referred_to",), STOP_ALL,
      guard="item_suggestion"),  # 建议
)
# fmt: on


def rows_for(state: State, action: Action) -> tuple[Transition, ...]:
    """The rows for (state, action), in table order; empty if the action is not allowed there."""
    return _INDEX.get((state, action), ())


def actions_in(state: State) -> tuple[Action, ...]:
    """The actions the table has rows for in ``state``, in ``Action`` order."""
    return _ACTIONS.get(state, ())


_INDEX: dict[tuple[State, Action], tuple[Transition, ...]] = {}
for _row in TABLE:
    _INDEX[(_row.source, _row.action)] = (*_INDEX.get((_row.source, _row.action), ()), _row)
_ACTIONS: dict[State, tuple[Action, ...]] = {
    state: tuple(a for a in Action if (state, a) in _INDEX) for state in State
}
