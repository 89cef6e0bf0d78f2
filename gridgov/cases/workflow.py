"""The closed loop (闭环) of DESIGN §3.3: one declarative table, one pure ``apply``.

Everything that moves a case goes through ``apply``; nothing else sets a status. The pieces:

- ``states``: ``State``, ``Action``, ``Channel``, ``ItemClass``, ``SupervisionLevel``, ``Step``.
- ``table``: ``Transition`` rows in ``TABLE`` (source, action, target, roles, required payload
  fields, clock op, guard).
- ``checks``: the named guards, payload field rules and separation of duties (监管分离).
- ``apply``: ``apply`` and ``allowed_actions``; ``effects``: what each event does to a case;
  ``replay``: rebuild a case from its event rows, and the Mermaid ``diagram``.

Modelling decisions:

- A case starts as ``State.NEW`` (a blank ``CaseState()``); ``submit`` (上报) is its first event,
  so ``replay(events)`` rebuilds any case from its rows alone.
- 返工 is a state (``rework``): a failed check sends the case there and counts it against the
  department (``rework_count``); the department takes it up again with ``accept``.
- Requests needing approval (回退, 延期, 挂账, 作废, 上报上级) wait in a side state and remember
  where they came from (``paused_from``); a denial returns there (one row per origin, chosen by
  the ``paused_from_*`` guard).
- 自行处置 goes from ``reported`` straight to ``checked``: the shift lead then closes it.
- 核查 passes to ``checked`` (ready for 结案); only the shift lead closes, never a dispatcher
  or a handler of the case.
- 合并 is two events on two cases: ``merge`` on the duplicate, ``absorb`` on the master (which
  gains the duplicate's reporters, so each of them gets the result and may rate it).
- Item classes (办件类别) are set at submission (payload ``item_class``) and unlock their own
  rows: 即办 ``resolve_on_spot``, 承诺 ``promise`` (a promised date), 补办
  ``request_documents``/``documents_received``, 上报 ``request_approval``/``grant_approval``
  (starts the 3-working-day ``reply`` clock), 建议 ``refer``.
- 上报上级: the upper level's dispatcher accepts (``level`` + 1, back to ``registered`` for its
  own dispatch) or declines; the caller computes ``in_jurisdiction`` for the upper level.
"""

from __future__ import annotations

from gridgov.cases.apply import allowed_actions, apply, select_row
from gridgov.cases.checks import GUARDS
from gridgov.cases.model import (
    Actor,
    CaseState,
    ClockOp,
    Event,
    Outcome,
    Policy,
    WorkflowError,
)
from gridgov.cases.replay import diagram, replay
from gridgov.cases.states import (
    IN_PROGRESS,
    OPEN,
    PAUSED,
    TERMINAL,
    Action,
    Channel,
    ItemClass,
    State,
    Step,
    SupervisionLevel,
)
from gridgov.cases.table import TABLE, Transition, rows_for

__all__ = [
    "GUARDS",
    "IN_PROGRESS",
    "OPEN",
    "PAUSED",
    "TABLE",
    "TERMINAL",
    "Action",
    "Actor",
    "CaseState",
    "Channel",
    "ClockOp",
    "Event",
    "ItemClass",
    "Outcome",
    "Policy",
    "State",
    "Step",
    "SupervisionLevel",
    "Transition",
    "WorkflowError",
    "allowed_actions",
    "apply",
    "diagram",
    "replay",
    "rows_for",
    "select_row",
]
