"""分级负责、逐级上报: the command-centre levels a case climbs when it is escalated (上报上级).

A level is a region (community, street, district, city) that has a command centre: an active
dispatcher with that region in their jurisdiction. Until an escalation is accepted a case is
handled at the lowest level with a command centre over its grid; after one, at the level that
accepted it (``CaseState.level_region``). Escalating asks the next level up that has a command
centre — levels without one are skipped (Dongcheng has no street centres, Lanzhou resolves at
the street desk first) — and the top level cannot escalate. While an escalation waits only
dispatchers of the asked level (or above) may accept or decline it, and once accepted only
they dispatch it: the lower level's dispatchers no longer act on the case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.cases.model import CaseState
from gridgov.cases.models import Case
from gridgov.cases.states import State
from gridgov.errors import Conflict
from gridgov.regions.models import Region


def region_chain(session: Session, grid_code: str | None) -> list[str]:
    """The region codes above the unit grid ``grid_code``, nearest first: its community, street,
    district, city (as far as the region table knows them)."""
    if not grid_code:
        return []
    parent = aliased(Region)
    chain: list[str] = []
    candidates = [grid_code[:12], grid_code[:9], grid_code[:6]]  # community, street, district
    known = set(session.scalars(select(Region.code).where(Region.code.in_(candidates))))
    code = next((c for c in candidates if c in known), None)
    while code is not None and code not in chain:
        chain.append(code)
        code = session.scalar(
            select(parent.code)
            .select_from(Region)
            .join(parent, Region.parent_id == parent.id)
            .where(Region.code == code)
        )
    return chain


def _centres(session: Session, codes: list[str]) -> dict[str, set[int]]:
    """For each of ``codes``, the active dispatchers whose jurisdiction names it."""
    rows = session.execute(
        select(Jurisdiction.code, User.id)
        .join(User, User.id == Jurisdiction.user_id)
        .where(
            Jurisdiction.scope_kind == ScopeKind.REGION,
            Jurisdiction.code.in_(codes),
            User.role == Role.DISPATCHER,
            User.active.is_(True),
        )
    ).all()
    out: dict[str, set[int]] = {}
    for code, user_id in rows:
        out.setdefault(code, set()).add(user_id)
    return out


def current_level(session: Session, case: Case, state: CaseState) -> str | None:
    """The region code of the command centre handling ``case`` now (None: no centre covers it)."""
    if state.level_region:
        return state.level_region
    chain = region_chain(session, case.grid_code)
    centres = _centres(session, chain)
    return next((c for c in chain if c in centres), None)


def upper_level(session: Session, case: Case, state: CaseState) -> str | None:
    """The next level up with a command centre, for 上报上级; None at the top."""
    chain = region_chain(session, case.grid_code)
    centres = _centres(session, chain)
    here = state.level_region or next((c for c in chain if c in centres), None)
    above = chain[chain.index(here) + 1 :] if here in chain else chain
    return next((c for c in above if c in centres), None)


def acting_level(state: CaseState) -> str | None:
    """The level whose dispatchers act on the case now, when escalation has moved it: the asked
    level while an escalation waits, else the level that accepted the last one (stored on the
    case as ``level_region`` for the lists)."""
    if state.state is State.ESCALATED:
        return state.escalated_to
    return state.level_region


def holds_level(session: Session, user: User, level: str) -> bool:
    """True when ``user`` has the region ``level`` or one above it in their jurisdiction."""
    above = region_chain(session, level)  # a region code is its own first link
    held = session.scalars(
        select(Jurisdiction.code).where(
            Jurisdiction.user_id == user.id,
            Jurisdiction.scope_kind == ScopeKind.REGION,
            Jurisdiction.code.in_(above),
        )
    ).first()
    return held is not None


def filter_by_level(session: Session, user: User, stmt: Select[Any]) -> Select[Any]:
    """For a dispatcher, leave out the cases an escalation moved to a level they do not hold
    (on top of the jurisdiction filter: the grid stays in their scope, the case is not theirs)."""
    if user.role is not Role.DISPATCHER:
        return stmt
    moved = session.scalars(
        select(Case.level_region).where(Case.level_region.is_not(None)).distinct()
    )
    held = [level for level in moved if holds_level(session, user, level)]
    return stmt.where(or_(Case.level_region.is_(None), Case.level_region.in_(held)))


def no_upper_level(case: Case) -> Conflict:
    return Conflict(
        f"no command centre above this level covers grid {case.grid_code}: case {case.case_no} "
        "is handled at the top level and cannot be escalated (上报上级) further",
        code="no_upper_level",
        case_no=case.case_no,
    )
