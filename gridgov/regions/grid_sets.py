"""Grid sets: professional grids (专业网格) and responsibility grids (责任网格).

A set holds unit grid codes (so a redrawn grid stays in its sets). A responsibility grid is
assigned to one supervisor; a professional grid names its line of work.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.errors import NotFound, ValidationError
from gridgov.regions.models import GridSet, GridSetKind, GridSetMember, UnitGrid
from gridgov.regions.service import current_grid_filter


def save_grid_set(
    session: Session,
    *,
    code: str,
    kind: GridSetKind | str,
    name: str,
    grid_codes: Sequence[str],
    line_of_work: str | None = None,
    assignee: str | None = None,
) -> GridSet:
    """Create or replace a grid set. Every grid must exist now; a responsibility grid's
    assignee must be an active supervisor."""
    try:
        kind = GridSetKind(kind)
    except ValueError:
        raise ValidationError(
            f"kind must be one of {', '.join(k.value for k in GridSetKind)}", field="kind"
        ) from None
    code, name = code.strip(), name.strip()
    if not code or len(code) > 40:
        raise ValidationError("code must be 1–40 characters", field="code")
    if not name:
        raise ValidationError("name is required", field="name")
    wanted = sorted(set(grid_codes))
    if not wanted:
        raise ValidationError("a grid set needs at least one unit grid", field="grid_codes")
    known = set(
        session.scalars(current_grid_filter(select(UnitGrid.code)).where(UnitGrid.code.in_(wanted)))
    )
    missing = [c for c in wanted if c not in known]
    if missing:
        raise ValidationError(
            f"unknown unit grids: {', '.join(missing[:10])}"
            + (f" and {len(missing) - 10} more" if len(missing) > 10 else ""),
            field="grid_codes",
        )
    if kind is GridSetKind.PROFESSIONAL and not (line_of_work or "").strip():
        raise ValidationError("a professional grid needs its line of work", field="line_of_work")
    user_id = _assignee_id(session, kind, assignee)
    gs = session.scalar(select(GridSet).where(GridSet.code == code)) or GridSet(code=code)
    gs.kind, gs.name, gs.line_of_work, gs.assignee_id = kind, name, line_of_work, user_id
    session.add(gs)
    session.flush()
    session.execute(delete(GridSetMember).where(GridSetMember.grid_set_id == gs.id))
    session.execute(insert(GridSetMember), [{"grid_set_id": gs.id, "grid_code": c} for c in wanted])
    return gs


def _assignee_id(session: Session, kind: GridSetKind, username: str | None) -> int | None:
    if username is None:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username} does not exist", field="assignee")
    if kind is GridSetKind.RESPONSIBILITY and (user.role is not Role.SUPERVISOR or not user.active):
        raise ValidationError(
            f"user {username} is not an active supervisor (监督员); responsibility grids are "
            "assigned to supervisors",
            field="assignee",
        )
    return user.id


def get_grid_set(session: Session, code: str) -> tuple[GridSet, list[str], User | None]:
    gs = session.scalar(select(GridSet).where(GridSet.code == code))
    if gs is None:
        raise NotFound(f"grid set {code} does not exist", field="code")
    members = list(
        session.scalars(
            select(GridSetMember.grid_code)
            .where(GridSetMember.grid_set_id == gs.id)
            .order_by(GridSetMember.grid_code)
        )
    )
    user = session.get(User, gs.assignee_id) if gs.assignee_id else None
    return gs, members, user


def list_grid_sets(session: Session, kind: GridSetKind | None = None) -> list[GridSet]:
    q = select(GridSet).order_by(GridSet.code)
    if kind:
        q = q.where(GridSet.kind == kind)
    return list(session.scalars(q))
