"""Patrols on SQLite and PostgreSQL: start, idempotent position batches, CRS, stop, reading,
live positions by jurisdiction, track and grid coverage."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.errors import Forbidden, NotFound, ValidationError
from gridgov.geo.chinacrs import from_wgs84
from gridgov.patrol import coverage, service
from gridgov.patrol.models import Patrol, PatrolPosition
from gridgov.patrol.service import PositionInput
from tests.factories.regions import COMMUNITIES, STREETS, X0, Y0, D
from tests.unit.cases_db.world import T0, World, build

SETTINGS = Settings(environment="test", patrol_max_batch=5)
#: A point in each of the first community's grids and in the next community's first grid.
IN_01 = (X0 + 0.5 * D, Y0 + 1.5 * D)
IN_02 = (X0 + 1.5 * D, Y0 + 1.5 * D)
IN_C1_01 = (X0 + 2.5 * D, Y0 + 1.5 * D)
IN_STREET2 = (X0 + 4.5 * D, Y0 + 1.5 * D)


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _p(point: tuple[float, float], minutes: float, accuracy: float | None = 5.0) -> PositionInput:
    return PositionInput(point[0], point[1], _at(minutes), accuracy)


def _send(session: Session, w: World, patrol: Patrol, batch: list[PositionInput], **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("now", _at(30))
    return service.record_positions(
        session, w.supervisor, patrol.id, batch, settings=SETTINGS, **kw
    )


def _stored(session: Session, patrol: Patrol) -> list[PatrolPosition]:
    return service.positions_of(session, patrol)


def test_start_is_idempotent_and_only_for_supervisors(session: Session, w: World):
    patrol, created = service.start_patrol(session, w.supervisor, now=T0)
    assert created and patrol.running and patrol.point_count == 0
    again, created_again = service.start_patrol(session, w.supervisor, now=_at(1))
    assert again.id == patrol.id and not created_again
    assert service.running_patrol(session, w.supervisor).id == patrol.id  # type: ignore[union-attr]
    with pytest.raises(Forbidden) as refused:
        service.start_patrol(session, w.leader, now=T0)
    assert refused.value.code == "forbidden_role"


def test_batch_resubmitted_or_out_of_order_stores_each_point_once(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    batch = [_p(IN_01, 1), _p(IN_02, 2), _p(IN_C1_01, 3)]
    first = _send(session, w, patrol, batch)
    assert (first.received, first.stored, first.duplicates, first.rejected) == (3, 3, 0, [])
    # The phone lost the answer and sends the batch again, reversed, with one new point.
    again = _send(session, w, patrol, [*reversed(batch), _p(IN_01, 4)])
    assert (again.stored, again.duplicates) == (1, 3)
    # A point repeated inside one batch is stored once.
    twice = _send(session, w, patrol, [_p(IN_02, 5), _p(IN_02, 5)])
    assert (twice.stored, twice.duplicates) == (1, 1)
    stored = _stored(session, patrol)
    assert [p.at for p in stored] == [_at(m) for m in (1, 2, 3, 4, 5)]
    assert patrol.point_count == 5
    count = session.scalar(
        select(func.count())
        .select_from(PatrolPosition)
        .where(PatrolPosition.patrol_id == patrol.id)
    )
    assert count == 5
    # The newest point by client time is the live one, even when an older one arrives later.
    assert (patrol.last_at, patrol.last_grid_code) == (_at(5), f"{COMMUNITIES[0]}02")
    _send(session, w, patrol, [_p(IN_C1_01, 0.5)])
    assert patrol.last_at == _at(5)


def test_same_instant_in_another_time_zone_is_a_duplicate(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    _send(session, w, patrol, [_p(IN_01, 1)])
    beijing = _at(1).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    result = _send(session, w, patrol, [PositionInput(IN_01[0], IN_01[1], beijing, 3.0)])
    assert (result.stored, result.duplicates) == (0, 1)


def test_gcj02_positions_are_stored_in_wgs84_with_their_grid(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    glon, glat = from_wgs84(IN_02[0], IN_02[1], "gcj02")
    assert abs(glon - IN_02[0]) > 1e-4  # GCJ-02 is shifted by hundreds of metres
    _send(session, w, patrol, [PositionInput(float(glon), float(glat), _at(1), 8.0)], crs="gcj02")
    (point,) = _stored(session, patrol)
    assert point.lon == pytest.approx(IN_02[0], abs=1e-6)
    assert point.lat == pytest.approx(IN_02[1], abs=1e-6)
    assert point.grid_code == f"{COMMUNITIES[0]}02"


def test_bad_values_are_refused_naming_the_field_and_nothing_is_stored(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    cases = [
        ([_p(IN_01, 1), PositionInput(200.0, 39.9, _at(2))], "positions.1.lon"),
        ([PositionInput(116.4, float("nan"), _at(2))], "positions.0.lat"),
        ([PositionInput(116.4, 39.9, _at(2), -1.0)], "positions.0.accuracy_m"),
        ([PositionInput(116.4, 39.9, datetime(2026, 6, 1, 9, 0))], "positions.0.at"),
        ([_p(IN_01, m) for m in range(6)], "positions"),
    ]
    for batch, field in cases:
        with pytest.raises(ValidationError) as refused:
            _send(session, w, patrol, batch)
        assert refused.value.where["field"] == field
    with pytest.raises(ValidationError) as bad_crs:
        _send(session, w, patrol, [_p(IN_01, 1)], crs="utm")
    assert bad_crs.value.where["field"] == "crs"
    assert _stored(session, patrol) == []


def test_points_outside_the_patrol_time_are_rejected_one_by_one(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    result = _send(
        session,
        w,
        patrol,
        [_p(IN_01, -60), _p(IN_01, 1), _p(IN_01, 120)],
        now=_at(30),
    )
    assert result.stored == 1
    assert [(r["index"], r["field"]) for r in result.rejected] == [
        (0, "positions.0.at"),
        (2, "positions.2.at"),
    ]
    assert "start" in result.rejected[0]["reason"]
    assert "clock" in result.rejected[1]["reason"]


def test_stop_is_idempotent_and_late_points_from_before_the_stop_still_count(
    session: Session, w: World
):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    stopped = service.stop_patrol(session, w.supervisor, patrol.id, now=_at(10))
    assert stopped.stopped_at == _at(10)
    assert service.stop_patrol(session, w.supervisor, patrol.id, now=_at(20)).stopped_at == _at(10)
    late = _send(session, w, patrol, [_p(IN_01, 9), _p(IN_01, 40)], now=_at(45))
    assert late.stored == 1
    assert "end of the patrol" in late.rejected[0]["reason"]
    # A new start opens a new patrol once the last one stopped.
    fresh, created = service.start_patrol(session, w.supervisor, now=_at(50))
    assert created and fresh.id != patrol.id


def test_only_the_owner_records_and_unknown_patrols_are_404(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    with pytest.raises(Forbidden) as other:
        service.record_positions(
            session, w.checker, patrol.id, [_p(IN_01, 1)], now=_at(5), settings=SETTINGS
        )
    assert other.value.code == "not_owner"
    with pytest.raises(Forbidden):
        service.stop_patrol(session, w.checker, patrol.id, now=_at(5))
    with pytest.raises(Forbidden) as role:
        service.stop_patrol(session, w.leader, patrol.id, now=_at(5))
    assert role.value.code == "forbidden_role"
    with pytest.raises(NotFound):
        service.stop_patrol(session, w.supervisor, patrol.id + 999, now=_at(5))


def test_reading_a_patrol_follows_jurisdiction(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    _send(session, w, patrol, [_p(IN_01, 1), _p(IN_02, 2)])
    assert service.read_patrol(session, w.leader, patrol.id).id == patrol.id
    assert service.read_patrol(session, w.supervisor, patrol.id).id == patrol.id
    with pytest.raises(Forbidden) as far:
        service.read_patrol(session, w.far_lead, patrol.id)
    assert far.value.code == "outside_jurisdiction"
    with pytest.raises(Forbidden) as peer:
        service.read_patrol(session, w.checker, patrol.id)
    assert peer.value.code == "not_owner"
    with pytest.raises(Forbidden) as role:
        service.read_patrol(session, w.department, patrol.id)
    assert role.value.code == "forbidden_role"


def test_live_positions_are_recent_running_patrols_in_jurisdiction(session: Session, w: World):
    near, _ = service.start_patrol(session, w.supervisor, now=T0)
    far, _ = service.start_patrol(session, w.far_supervisor, now=T0)
    idle, _ = service.start_patrol(session, w.checker, now=T0)
    _send(session, w, near, [_p(IN_01, 1), _p(IN_02, 20)])
    service.record_positions(
        session, w.far_supervisor, far.id, [_p(IN_STREET2, 25)], now=_at(30), settings=SETTINGS
    )
    service.record_positions(  # last seen 40 minutes before "now": no longer live
        session, w.checker, idle.id, [_p(IN_01, 1)], now=_at(30), settings=SETTINGS
    )
    live = service.live_positions(session, w.leader, now=_at(41), settings=SETTINGS)
    assert [(r.user.username, r.patrol.last_grid_code) for r in live] == [
        ("farsup", f"{COMMUNITIES[2]}01"),
        ("sup", f"{COMMUNITIES[0]}02"),
    ]
    assert live[1].age == timedelta(minutes=21)
    far_view = service.live_positions(session, w.far_lead, now=_at(41), settings=SETTINGS)
    assert [r.user.username for r in far_view] == ["farsup"]
    service.stop_patrol(session, w.far_supervisor, far.id, now=_at(40))
    assert service.live_positions(session, w.far_lead, now=_at(41), settings=SETTINGS) == []
    with pytest.raises(Forbidden):
        service.live_positions(session, w.supervisor, now=_at(41), settings=SETTINGS)


def test_list_patrols_own_or_in_jurisdiction(session: Session, w: World):
    mine, _ = service.start_patrol(session, w.supervisor, now=T0)
    _send(session, w, mine, [_p(IN_01, 1)])
    theirs, _ = service.start_patrol(session, w.far_supervisor, now=T0)
    service.record_positions(
        session, w.far_supervisor, theirs.id, [_p(IN_STREET2, 1)], now=_at(5), settings=SETTINGS
    )
    assert [p.id for p, _ in service.list_patrols(session, w.supervisor)] == [mine.id]
    assert [p.id for p, _ in service.list_patrols(session, w.far_lead)] == [theirs.id]
    assert {p.id for p, _ in service.list_patrols(session, w.leader)} == {mine.id, theirs.id}
    assert service.list_patrols(session, w.leader, running=False) == []


def test_track_and_coverage_count_grids_crossed_between_fixes(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    # Two fixes 30 s apart, ~170 m: the walk crosses grid 02 without a fix in it.
    _send(session, w, patrol, [_p(IN_C1_01, 1.5), _p(IN_01, 1)])
    positions = _stored(session, patrol)
    feature = coverage.track_feature(patrol, positions, "sup", "sup")
    assert feature["geometry"]["type"] == "LineString"
    assert feature["geometry"]["coordinates"] == [
        [round(c, 7) for c in IN_01],
        [round(c, 7) for c in IN_C1_01],
    ]
    assert feature["properties"]["times"] == [_at(1).isoformat(), _at(1.5).isoformat()]
    assert feature["properties"]["length_m"] == pytest.approx(2 * D * 85_400, rel=0.02)
    data = coverage.grid_coverage(session, positions)
    assert [g["grid_code"] for g in data["grids"]] == [
        f"{COMMUNITIES[0]}01",
        f"{COMMUNITIES[0]}02",
        f"{COMMUNITIES[1]}01",
    ]
    assert [g["points"] for g in data["grids"]] == [1, 0, 1]
    assert sum(g["seconds"] for g in data["grids"]) == pytest.approx(30, abs=0.5)
    assert data["grids"][1]["seconds"] == pytest.approx(15, abs=2)
    assert data["outside_points"] == 0 and data["point_count"] == 2


def test_long_gaps_are_not_walked_and_single_points_have_no_line(session: Session, w: World):
    patrol, _ = service.start_patrol(session, w.supervisor, now=T0)
    _send(session, w, patrol, [_p(IN_01, 1)])
    feature = coverage.track_feature(patrol, _stored(session, patrol), "sup", "sup")
    assert feature["geometry"] is None and feature["properties"]["point_count"] == 1
    _send(session, w, patrol, [_p(IN_C1_01, 20)])  # 19 minutes later: a gap, not a walk
    data = coverage.grid_coverage(session, _stored(session, patrol))
    assert [g["grid_code"] for g in data["grids"]] == [
        f"{COMMUNITIES[0]}01",
        f"{COMMUNITIES[1]}01",
    ]
    assert all(g["seconds"] == 0 for g in data["grids"])
    assert coverage.grid_coverage(session, []) == {
        "grid_count": 0,
        "grids": [],
        "outside_points": 0,
        "point_count": 0,
        "length_m": 0.0,
    }
    assert STREETS  # the far street exists (used by the live test)
