"""Jurisdiction scopes: which grids and departments a user covers, and the query filter."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import Scope, _strip_city, filter_by_scope, scope_of
from gridgov.regions.models import UnitGrid
from tests.factories.regions import COMMUNITIES, STREETS, make_district

ALL_GRIDS = [f"{c}{s:02d}" for c in COMMUNITIES for s in range(1, 5)]


@pytest.fixture
def district(session: Session) -> None:
    make_district(session)


def _grids(session: Session, scope: Scope, department_column: bool = False) -> list[str]:
    q = select(UnitGrid.code).where(UnitGrid.valid_to.is_(None))
    q = filter_by_scope(q, scope, UnitGrid.code, UnitGrid.name if department_column else None)
    return sorted(session.scalars(q))


def test_community_scope_covers_only_its_grids(
    session: Session, district: None, make_user: Callable[..., User]
) -> None:
    user = make_user(jurisdictions=[("region", COMMUNITIES[1])])
    scope = scope_of(session, user)
    assert [g for g in ALL_GRIDS if scope.covers_grid(g)] == [
        "11018800100201",
        "11018800100202",
        "11018800100203",
        "11018800100204",
    ]
    assert not scope.covers_grid("11018800100101")  # the neighbouring community
    assert not scope.covers_grid("")
    assert _grids(session, scope) == [f"{COMMUNITIES[1]}0{s}" for s in range(1, 5)]


def test_street_scope_covers_its_communities(
    session: Session, district: None, make_user: Callable[..., User]
) -> None:
    user = make_user(jurisdictions=[("region", STREETS[1])])
    scope = scope_of(session, user)
    expected = [g for g in ALL_GRIDS if g.startswith("110188002")]
    assert len(expected) == 8
    assert _grids(session, scope) == expected
    assert scope.covers_region(COMMUNITIES[2]) and not scope.covers_region(COMMUNITIES[0])


def test_grid_scope_plus_region_scope(
    session: Session, district: None, make_user: Callable[..., User]
) -> None:
    user = make_user(jurisdictions=[("region", COMMUNITIES[0]), ("grid", "11018800200104")])
    assert _grids(session, scope_of(session, user)) == [
        "11018800100101",
        "11018800100102",
        "11018800100103",
        "11018800100104",
        "11018800200104",
    ]


def test_city_scope_covers_every_district(
    session: Session, district: None, make_user: Callable[..., User]
) -> None:
    leader = make_user("lingdao", Role.LEADER, [("region", "110000")])
    scope = scope_of(session, leader)
    assert not scope.all
    assert scope.prefixes == {"110188"}  # from the region table: the city's districts
    assert _grids(session, scope) == ALL_GRIDS


def test_city_missing_from_the_region_table_falls_back_to_its_prefix() -> None:
    assert _strip_city("320500") == "3205"
    assert _strip_city("110000") == "11"


def test_admin_covers_everything_and_nobody_else_by_default(
    session: Session, district: None, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin1", Role.ADMIN)
    assert scope_of(session, admin).all
    assert _grids(session, scope_of(session, admin)) == ALL_GRIDS
    nobody = make_user("nobody", Role.ACCEPTOR)
    scope = scope_of(session, nobody)
    assert scope.empty
    assert _grids(session, scope) == []
    assert not scope.covers_grid(ALL_GRIDS[0]) and not scope.covers_department("D1")


def test_department_scope(session: Session, district: None, make_user: Callable[..., User]) -> None:
    user = make_user(
        "shuiwu", Role.DEPARTMENT, [("department", "water")], department_code="sanitation"
    )
    scope = scope_of(session, user)
    assert scope.covers_department("water") and scope.covers_department("sanitation")
    assert not scope.covers_department("roads")
    assert not scope.covers_grid(ALL_GRIDS[0])
    # Rows are kept by department when the query has a department column.
    grid = session.scalar(select(UnitGrid).where(UnitGrid.code == ALL_GRIDS[5]))
    assert grid is not None
    grid.name = "water"
    session.flush()
    assert _grids(session, scope, department_column=True) == [ALL_GRIDS[5]]
    assert _grids(session, scope) == []
