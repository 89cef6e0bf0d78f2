"""authorize(): the one check of role and jurisdiction."""

from __future__ import annotations

import pytest

from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.scope import Scope
from gridgov.errors import Forbidden

COMMUNITY = "110188001001"
SCOPE = Scope(prefixes=frozenset({COMMUNITY}), departments=frozenset({"water"}))


def _user(role: Role) -> User:
    return User(username="u", name="u", role=role, active=True)


def test_wrong_role_is_403_naming_the_role_and_the_allowed_ones() -> None:
    with pytest.raises(Forbidden) as err:
        authorize(_user(Role.SUPERVISOR), {Role.DISPATCHER, Role.SHIFT_LEAD}, action="dispatch")
    assert err.value.status == 403
    assert err.value.code == "forbidden_role"
    assert err.value.message == (
        "role supervisor may not dispatch; allowed roles: dispatcher, shift_lead"
    )


def test_right_role_inside_the_jurisdiction_passes() -> None:
    user = _user(Role.SUPERVISOR)
    authorize(user, {Role.SUPERVISOR})
    authorize(user, {Role.SUPERVISOR}, SCOPE, grid_code=f"{COMMUNITY}03")
    authorize(user, {Role.SUPERVISOR}, SCOPE, department="water")
    # Either target is enough: the grid is outside, the department inside.
    authorize(user, {Role.SUPERVISOR}, SCOPE, grid_code="11018800200101", department="water")


def test_outside_the_jurisdiction_is_403_naming_the_grid() -> None:
    with pytest.raises(Forbidden) as err:
        authorize(
            _user(Role.SUPERVISOR), {Role.SUPERVISOR}, SCOPE, "11018800200101", action="check"
        )
    assert err.value.code == "outside_jurisdiction"
    assert err.value.message == (
        "grid 11018800200101 is outside your jurisdiction; you may not check there"
    )
    assert err.value.to_dict()["where"] == {"grid": "11018800200101"}
    with pytest.raises(Forbidden, match="department roads is outside"):
        authorize(_user(Role.DEPARTMENT), {Role.DEPARTMENT}, SCOPE, department="roads")


def test_a_grid_check_without_a_scope_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        authorize(_user(Role.SUPERVISOR), {Role.SUPERVISOR}, grid_code="11018800100101")
