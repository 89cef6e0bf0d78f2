"""Reverse address lookup (反向地址匹配): the entries nearest a point, in memory and in the DB."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.orm import Session

from gridgov.errors import ValidationError
from gridgov.gazetteer import service
from gridgov.gazetteer.normalize import normalize_address, pinyin_initials
from gridgov.gazetteer.search import Entry, Gazetteer
from gridgov.geo.chinacrs import from_wgs84

LON, LAT = 116.4170, 39.9310
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180.0


def _entry(i: int, address: str, d_north_m: float, d_east_m: float, kind: str) -> Entry:
    norm = normalize_address(address)
    lat = LAT + d_north_m / M_PER_DEG_LAT
    lon = LON + d_east_m / (M_PER_DEG_LAT * math.cos(math.radians(LAT)))
    return Entry(i, address, norm, pinyin_initials(norm), lon, lat, kind)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(
        [
            _entry(1, "北京市东华区东四北大街12号", 20, 0, "door_plate"),
            _entry(2, "北京市东华区东四北大街12号院3号楼", 0, -8, "building"),
            _entry(3, "北京市东华区东四北大街21号", -60, 0, "door_plate"),
            _entry(4, "北京市东华区朝阳门北大街8号", 0, 400, "door_plate"),
        ]
    )


def test_nearest_first_with_distances(gazetteer: Gazetteer) -> None:
    found = gazetteer.nearest(LON, LAT, 100)
    assert [n.id for n in found] == [2, 1, 3]
    assert [n.kind for n in found] == ["building", "door_plate", "door_plate"]
    for n, expected in zip(found, (8, 20, 60), strict=True):
        assert abs(n.distance_m - expected) < 0.5, (n, expected)


def test_radius_and_limit(gazetteer: Gazetteer) -> None:
    assert [n.id for n in gazetteer.nearest(LON, LAT, 10)] == [2]
    assert [n.id for n in gazetteer.nearest(LON, LAT, 1000, limit=2)] == [2, 1]
    assert [n.id for n in gazetteer.nearest(LON, LAT, 1000)] == [2, 1, 3, 4]
    assert gazetteer.nearest(LON + 1, LAT, 1000) == []
    assert Gazetteer([]).nearest(LON, LAT, 100) == []


def test_the_same_distance_is_ordered_by_id() -> None:
    g = Gazetteer([_entry(9, "甲1号", 0, 30, "door_plate"), _entry(5, "乙2号", 0, -30, "place")])
    assert [n.id for n in g.nearest(LON, LAT, 50)] == [5, 9]


@pytest.fixture
def stored(session: Session) -> None:
    rows = [
        {"address": "北京市东华区东四北大街12号", "lon": LON, "lat": LAT + 20 / M_PER_DEG_LAT},
        {"address": "北京市东华区东四北大街12号院3号楼", "lon": LON, "lat": LAT, "kind": "楼栋"},
        {"address": "北京市东华区朝阳门北大街8号", "lon": LON + 0.005, "lat": LAT},
    ]
    service.add_entries(session, rows)
    session.flush()


def test_nearby_reads_the_database(session: Session, stored: None) -> None:
    found = service.nearby(session, LON, LAT, radius_m=50)
    assert [(n.address, n.kind) for n in found] == [
        ("北京市东华区东四北大街12号院3号楼", "building"),
        ("北京市东华区东四北大街12号", "door_plate"),
    ]
    assert found[0].distance_m == 0.0 and abs(found[1].distance_m - 20) < 0.5


def test_nearby_converts_gcj02(session: Session, stored: None) -> None:
    x, y = from_wgs84(LON, LAT, "gcj02")
    found = service.nearby(session, x, y, radius_m=5, crs="gcj02")
    assert [n.address for n in found] == ["北京市东华区东四北大街12号院3号楼"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"lon": math.nan, "lat": LAT}, "lon/lat"),
        ({"lon": LON, "lat": 91.0}, "lon/lat"),
        ({"lon": LON, "lat": LAT, "radius_m": 0}, "radius_m"),
        ({"lon": LON, "lat": LAT, "radius_m": 5000}, "radius_m"),
        ({"lon": LON, "lat": LAT, "limit": 0}, "limit"),
    ],
)
def test_bad_arguments_are_refused(session: Session, args: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        service.nearby(session, **args)
    assert err.value.to_dict()["where"]["field"] == field
