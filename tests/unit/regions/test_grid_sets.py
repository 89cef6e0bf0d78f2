from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.errors import NotFound, ValidationError
from gridgov.regions.grid_sets import get_grid_set, save_grid_set
from tests.factories.regions import COMMUNITIES, make_district


@pytest.fixture
def staff(session: Session) -> None:
    make_district(session)
    session.add_all(
        [
            User(username="jdy1", name="李娜", role=Role.SUPERVISOR),
            User(username="slr1", name="张强", role=Role.ACCEPTOR),
        ]
    )
    session.flush()


def test_responsibility_grid_assigned_to_a_supervisor(session: Session, staff: None) -> None:
    codes = [COMMUNITIES[0] + s for s in ("01", "02")]
    save_grid_set(
        session,
        code="ZR1",
        kind="responsibility",
        name="责任网格一",
        grid_codes=codes,
        assignee="jdy1",
    )
    gs, members, user = get_grid_set(session, "ZR1")
    assert gs.name == "责任网格一"
    assert members == codes and user is not None and user.name == "李娜"
    # replacing keeps one set with the new members
    save_grid_set(
        session,
        code="ZR1",
        kind="responsibility",
        name="责任网格一",
        grid_codes=[COMMUNITIES[1] + "01"],
        assignee="jdy1",
    )
    assert get_grid_set(session, "ZR1")[1] == [COMMUNITIES[1] + "01"]


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"grid_codes": ["11018800100199"]}, ValidationError, "unknown unit grids"),
        ({"assignee": "slr1"}, ValidationError, "not an active supervisor"),
        ({"assignee": "nobody"}, NotFound, "does not exist"),
        ({"kind": "district"}, ValidationError, "kind must be one of"),
        ({"grid_codes": []}, ValidationError, "at least one"),
        ({"kind": "professional", "assignee": None}, ValidationError, "line of work"),
    ],
)
def test_bad_grid_sets_are_refused(
    session: Session, staff: None, kwargs: dict, error: type, fragment: str
) -> None:
    args = {
        "code": "ZR9",
        "kind": "responsibility",
        "name": "x",
        "grid_codes": [COMMUNITIES[0] + "01"],
        "assignee": "jdy1",
        **kwargs,
    }
    with pytest.raises(error, match=fragment):
        save_grid_set(session, **args)
    with pytest.raises(NotFound):
        get_grid_set(session, "ZR9")
