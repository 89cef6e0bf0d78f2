"""合并候选 on SQLite and PostgreSQL: open cases of the same subclass, near, recent, in scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.cases import service
from gridgov.cases.duplicates import metres_between
from gridgov.config import get_settings
from gridgov.errors import Forbidden, ValidationError
from tests.factories.regions import X0, D
from tests.unit.cases_db.world import GRID, LAT, LON, T0, World, build
from tests.unit.cases_merge.reports import LON_8M, act, by_resident, by_supervisor, merge

NOW = T0 + timedelta(hours=2)
PILES = "0109"  # 乱堆物堆料: another event subclass


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


def _found(session: Session, user: User, case_no: str, **kw: object) -> list[tuple[str, float]]:
    got = service.duplicate_candidates(session, user, case_no, now=NOW, **kw)  # type: ignore[arg-type]
    return [(c.case.case_no, c.distance_m) for c in got]


def test_near_open_recent_same_subclass_nearest_first(session: Session, w: World):
    case = by_supervisor(session, w)
    at_25 = by_resident(session, w, lon=LON + 3 * LON_8M)
    at_8 = by_resident(session, w, lon=LON + LON_8M)
    by_resident(session, w, lon=LON + 8 * LON_8M)  # ≈ 68 m: too far
    by_resident(session, w, subclass=PILES)  # same spot, another subclass
    by_resident(session, w, now=T0 - timedelta(days=8))  # reported too long ago
    act(session, by_supervisor(session, w), w.shift_lead, "reject", reason="不属实")  # finished
    merge(session, w, by_resident(session, w), at_25)  # merged: no longer open

    found = _found(session, w.acceptor, case.case_no)

    assert [no for no, _ in found] == [at_8.case_no, at_25.case_no]
    assert found[0][1] == pytest.approx(8.5, abs=0.5)
    assert found[1][1] == pytest.approx(25.6, abs=1.0)
    assert get_settings().case_duplicate_radius_m == 50.0


def test_radius_and_days_can_be_widened(session: Session, w: World):
    case = by_supervisor(session, w)
    far = by_resident(session, w, lon=LON + 8 * LON_8M)
    old = by_resident(session, w, now=T0 - timedelta(days=8))
    assert _found(session, w.acceptor, case.case_no) == []
    assert [n for n, _ in _found(session, w.acceptor, case.case_no, radius_m=100)] == [far.case_no]
    assert [n for n, _ in _found(session, w.acceptor, case.case_no, days=30)] == [old.case_no]


def test_candidates_stay_in_the_users_jurisdiction(session: Session, w: World):
    edge = X0 + D  # the east edge of grid GRID
    case = by_supervisor(session, w, lon=edge - LON_8M)
    across = by_resident(session, w, lon=edge + LON_8M)  # 17 m away, in the next grid
    assert across.grid_code != GRID == case.grid_code
    grid_only = User(username="g", name="g", role=Role.ACCEPTOR, active=True, failed_logins=0)
    session.add(grid_only)
    session.flush()
    session.add(Jurisdiction(user_id=grid_only.id, scope_kind=ScopeKind.GRID, code=GRID))
    session.flush()
    assert [n for n, _ in _found(session, w.acceptor, case.case_no)] == [across.case_no]
    assert _found(session, grid_only, case.case_no) == []


def test_who_may_look_and_bad_limits(session: Session, w: World):
    case = by_supervisor(session, w)
    with pytest.raises(Forbidden):
        _found(session, w.resident, case.case_no)
    with pytest.raises(Forbidden) as err:
        _found(session, w.far_supervisor, case.case_no)
    assert err.value.code == "outside_jurisdiction"
    for kw, field in (({"radius_m": 0}, "radius_m"), ({"radius_m": 6000}, "radius_m")):
        with pytest.raises(ValidationError) as bad:
            _found(session, w.acceptor, case.case_no, **kw)
        assert bad.value.where == {"field": field}
    with pytest.raises(ValidationError):
        _found(session, w.acceptor, case.case_no, days=0)


def test_metres_between() -> None:
    assert metres_between(LON, LAT, LON, LAT) == 0
    assert metres_between(116.0, 40.0, 116.0, 40.001) == pytest.approx(111.2, abs=0.2)
