"""The one authorisation helper: role first, then jurisdiction."""

from __future__ import annotations

from collections.abc import Iterable

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope
from gridgov.errors import Forbidden

ANY_STAFF = frozenset(Role) - {Role.RESIDENT}


def authorize(
    user: User,
    role_set: Iterable[Role],
    scope: Scope | None = None,
    grid_code: str | None = None,
    department: str | None = None,
    *,
    action: str = "do this",
) -> None:
    """Raise :class:`Forbidden` unless ``user`` has one of ``role_set`` and, when a grid or a
    department is named, ``scope`` covers it (either one is enough when both are named: a case
    in a grid is the supervisor's by territory and the department's by dispatch).

    ``action`` completes the message: "role supervisor may not {action}; ...".
    """
    roles = frozenset(role_set)
    if user.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles)) or "nobody"
        raise Forbidden(
            f"role {user.role.value} may not {action}; allowed roles: {allowed}",
            code="forbidden_role",
            role=user.role.value,
        )
    if grid_code is None and department is None:
        return
    if scope is None:
        raise TypeError("authorize() needs the user's scope to check a grid or a department")
    if (grid_code is not None and scope.covers_grid(grid_code)) or (
        department is not None and scope.covers_department(department)
    ):
        return
    targets = []
    if grid_code is not None:
        targets.append(f"grid {grid_code}")
    if department is not None:
        targets.append(f"department {department}")
    raise Forbidden(
        f"{' and '.join(targets)} is outside your jurisdiction; you may not {action} there",
        code="outside_jurisdiction",
        grid=grid_code,
        department=department,
    )
