"""Rebuild a case from its event rows (``replay``) and draw the table (``diagram``)."""

from __future__ import annotations

from collections.abc import Sequence

from gridgov.cases.effects import evolve
from gridgov.cases.model import CaseState, Event, WorkflowError
from gridgov.cases.states import TERMINAL, Action, State
from gridgov.cases.table import TABLE

#: Self-loops allowed in many states; listed once in the diagram instead of drawn everywhere.
_EVERYWHERE = (Action.SUPERVISE, Action.ABSORB)


def replay(events: Sequence[Event], initial: CaseState | None = None) -> CaseState:
    """回放: the case's current state rebuilt from its events, oldest first.

    Refuses a history with a gap, a duplicate or an event that does not start where the
    previous one ended (``corrupt_history``).
    """
    case = initial if initial is not None else CaseState()
    for e in events:
        if e.version != case.version + 1 or e.from_state is not case.state:
            raise WorkflowError(
                "corrupt_history",
                f"event {e.version} ({e.action} from {e.from_state}) does not follow "
                f"version {case.version} in {case.state}",
            )
        case = evolve(case, e)
    return case


def diagram() -> str:
    """The transition table as a Mermaid state diagram, for the docs."""
    edges: dict[tuple[State, State], list[str]] = {}
    for row in TABLE:
        if row.action in _EVERYWHERE and row.source is row.target:
            continue
        labels = edges.setdefault((row.source, row.target), [])
        if row.action not in labels:
            labels.append(row.action)
    lines = ["stateDiagram-v2", f"    [*] --> {State.NEW}"]
    lines += [f"    {s} --> {t}: {', '.join(labels)}" for (s, t), labels in edges.items()]
    lines += [f"    {s} --> [*]" for s in State if s in TERMINAL]
    lines.append("    %% supervise (督办) and absorb (合并) are allowed in every open state")
    return "\n".join(lines) + "\n"
