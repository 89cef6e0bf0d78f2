"""Jurisdiction (管辖范围): what part of the city a user may see and act on.

The one place that turns a user's jurisdiction rows into a :class:`Scope` and a scope into a
query filter (DESIGN §4.2: no endpoint builds its own scope). Region codes are prefixes of the
codes below them: district (6 digits) → street (9) → community (12) → unit grid (14 or 15), so a
region scope covers every grid whose code starts with the region's code. A city covers its
districts (from the region table: a district's code is not always prefixed by its city's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, false, or_, select
from sqlalchemy.orm import Session, aliased

from gridgov import revisions
from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.codes.admin import Level
from gridgov.regions.models import Region


@dataclass(frozen=True)
class Scope:
    """Everything (``all``), or grids by code prefix and by code, and departments by code."""

    all: bool = False
    prefixes: frozenset[str] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def everything(cls) -> Scope:
        return cls(all=True)

    @property
    def empty(self) -> bool:
        return not (self.all or self.prefixes or self.grids or self.departments)

    def covers_grid(self, code: str | None) -> bool:
        """True when the unit grid ``code`` is inside this scope."""
        if self.all:
            return True
        if not code:
            return False
        return code in self.grids or any(code.startswith(p) for p in self.prefixes)

    def covers_region(self, code: str | None) -> bool:
        """True when the whole region ``code`` (district, street, community) is inside."""
        if self.all:
            return True
        return bool(code) and any(str(code).startswith(p) for p in self.prefixes)

    def covers_department(self, code: str | None) -> bool:
        if self.all:
            return True
        return bool(code) and code in self.departments


def _strip_city(code: str) -> str:
    """The prefix shared by a city's districts when the region table does not know the city:
    ``320500`` → ``3205``, ``110000`` → ``11`` (a municipality's districts are ``1101xx``)."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def _region_prefixes(session: Session, codes: Iterable[str]) -> set[str]:
    codes = set(codes)
    prefixes = {c for c in codes if len(c) > 6 or not c.endswith("00")}
    cities = codes - prefixes
    if cities:
        parent = aliased(Region)
        rows = session.execute(
            select(parent.code, Region.code)
            .join(parent, Region.parent_id == parent.id)
            .where(parent.code.in_(cities), Region.level == Level.DISTRICT)
        ).all()
        known: set[str] = set()
        for city, district in rows:
            known.add(city)
            prefixes.add(district)
        prefixes |= {_strip_city(c) for c in cities - known}
    # A prefix under another prefix adds nothing.
    return {p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)}


_JURISDICTION_ROWS = select(Jurisdiction.scope_kind, Jurisdiction.code).where(
    Jurisdiction.user_id == bindparam("user_id")
)
# Every request that checks a scope needs the user's rows: cached per process, and read again
# when any jurisdiction changed (the "jurisdictions" revision, read with the other caches').
revisions.watch("jurisdictions", Jurisdiction)


def _jurisdiction_rows(session: Session, user_id: int) -> tuple[tuple[ScopeKind, str], ...]:
    def load() -> tuple[tuple[ScopeKind, str], ...]:
        rows = session.execute(_JURISDICTION_ROWS, {"user_id": user_id})
        return tuple((kind, code) for kind, code in rows)

    return revisions.cached(session, "jurisdictions", user_id, load)


def scope_of(session: Session, user: User) -> Scope:
    """The user's scope. Admins cover everything; everyone else covers their jurisdiction rows
    (a leader or admin configured with the city code covers the whole city). A department user
    also covers their own ``department_code``."""
    if user.role is Role.ADMIN:
        return Scope.everything()
    rows = _jurisdiction_rows(session, user.id)
    by_kind: dict[ScopeKind, set[str]] = {k: set() for k in ScopeKind}
    for kind, code in rows:
        by_kind[kind].add(code)
    departments = by_kind[ScopeKind.DEPARTMENT]
    if user.role is Role.DEPARTMENT and user.department_code:
        departments.add(user.department_code)
    return Scope(
        prefixes=frozenset(_region_prefixes(session, by_kind[ScopeKind.REGION])),
        grids=frozenset(by_kind[ScopeKind.GRID]),
        departments=frozenset(departments),
    )


def filter_by_scope(
    query: Any, scope: Scope, grid_code_column: Any, department_column: Any = None
) -> Any:
    """Restrict a ``select()`` to the rows the scope covers.

    A row is kept when its grid code is covered, or (when ``department_column`` is given) its
    department is. An empty scope keeps nothing.
    """
    if scope.all:
        return query
    conditions = [grid_code_column.startswith(p, autoescape=True) for p in sorted(scope.prefixes)]
    if scope.grids:
        conditions.append(grid_code_column.in_(sorted(scope.grids)))
    if department_column is not None and scope.departments:
        conditions.append(department_column.in_(sorted(scope.departments)))
    return query.where(or_(*conditions) if conditions else false())
