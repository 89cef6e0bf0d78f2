"""The demo district generator: counts, codes, tilings, buildings, addresses, determinism."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from gridgov.codes.admin import Level, parse_region_code
from gridgov.codes.grid import format_grid_code
from gridgov.demo.district import DemoDistrict, generate_district, generate_grids
from gridgov.geo.projection import LocalProjection
from gridgov.geo.topology import check_tiling

ADDRESS = re.compile(r"^北京市东华区(?P<road>.+?)(?P<number>\d+)号")


@pytest.fixture(scope="module")
def small() -> DemoDistrict:
    return generate_district(seed=7, scale=0.1)


def _projected(geoms: list) -> tuple[LocalProjection, np.ndarray]:
    arr = np.array(geoms, dtype=object)
    proj = LocalProjection.around(arr)
    return proj, proj.project(arr)


def _tiling_problems(d: DemoDistrict) -> list:
    problems = check_tiling(
        [(d.district.code, d.district.geom)],
        [(s.code, s.parent_code, s.geom) for s in d.streets],
        child_label="street",
    )
    problems += check_tiling(
        [(s.code, s.geom) for s in d.streets],
        [(c.code, c.parent_code, c.geom) for c in d.communities],
        child_label="community",
    )
    problems += check_tiling(
        [(c.code, c.geom) for c in d.communities],
        [(f"{g.community_code}{g.seq:03d}", g.community_code, g.geom) for g in d.grids],
    )
    return problems


def test_small_district_counts(small: DemoDistrict) -> None:
    assert small.city.code == "110000" and small.city.name == "北京市"
    assert small.district.code == "110188" and small.district.parent_code == "110000"
    assert len(small.streets) == 1
    assert len(small.communities) == 14
    assert 100 <= len(small.grids) <= 250
    assert 2_000 <= len(small.buildings) <= 5_500
    assert {r.road_class for r in small.roads} == {"main", "secondary", "minor"}
    assert all(r.name for r in small.roads)
    assert small.district.population == sum(c.population for c in small.communities) > 0


def test_codes_are_well_formed_and_unique(small: DemoDistrict) -> None:
    for region, level in (
        [(small.district, Level.DISTRICT)]
        + [(s, Level.STREET) for s in small.streets]
        + [(c, Level.COMMUNITY) for c in small.communities]
    ):
        code = parse_region_code(region.code, level)
        assert code.parent_code in (None, region.parent_code)
        assert region.level == level.value
        assert region.name
    codes = [c.code for c in small.communities]
    assert len(set(codes)) == len(codes)
    assert len({c.name for c in small.communities}) == len(codes)
    grid_codes = [format_grid_code(g.community_code, g.seq, 3) for g in small.grids]
    assert len(set(grid_codes)) == len(grid_codes)
    for code in codes:  # seq runs 1..n within each community
        seqs = sorted(g.seq for g in small.grids if g.community_code == code)
        assert seqs == list(range(1, len(seqs) + 1))


def test_every_level_tiles_its_parent(small: DemoDistrict) -> None:
    assert _tiling_problems(small) == []
    assert all(r.geom.geom_type == "Polygon" and r.geom.is_valid for r in small.communities)


def test_district_area_scales(small: DemoDistrict) -> None:
    _, (district,) = _projected([small.district.geom])
    assert 2.3e6 < district.area < 2.7e6  # 25 km² × 0.1


def test_buildings_stay_off_roads(small: DemoDistrict) -> None:
    proj, blds = _projected([b.geom for b in small.buildings])
    roads = proj.project(np.array([r.geom for r in small.roads], dtype=object))
    surfaces = shapely.buffer(roads, [r.width_m / 2 for r in small.roads])
    tree = shapely.STRtree(blds)
    r_idx, b_idx = tree.query(surfaces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(surfaces[r_idx], blds[b_idx]))
    assert overlap.max(initial=0.0) < 0.01


def test_no_building_is_split_between_grids_or_communities(small: DemoDistrict) -> None:
    proj, blds = _projected([b.geom for b in small.buildings])
    for parents in ([g.geom for g in small.grids], [c.geom for c in small.communities]):
        parts = proj.project(np.array(parents, dtype=object))
        b_idx, p_idx = shapely.STRtree(parts).query(blds, predicate="intersects")
        shared = shapely.area(shapely.intersection(blds[b_idx], parts[p_idx]))
        holders = np.bincount(b_idx[shared > 0.01], minlength=len(blds))
        assert holders.max() == 1 and holders.min() == 1


def test_grid_areas_are_plausible(small: DemoDistrict) -> None:
    _, grids = _projected([g.geom for g in small.grids])
    areas = shapely.area(grids)
    assert 10_000 < np.median(areas) < 20_000
    assert areas.min() > 500 and areas.max() < 80_000


def test_buildings_have_names_addresses_and_uses(small: DemoDistrict) -> None:
    road_names = {r.name for r in small.roads}
    for b in small.buildings:
        assert b.name and b.floors >= 1
        assert b.use in {"住宅", "商业", "办公", "学校", "医院", "公共服务"}
        m = ADDRESS.match(b.address)
        assert m and m["road"] in road_names, b.address
    assert len({b.name for b in small.buildings}) == len(small.buildings)


def test_addresses_are_parseable_and_inside_the_district(small: DemoDistrict) -> None:
    plates = [a for a in small.addresses if a.kind == "door_plate"]
    named = [a for a in small.addresses if a.kind == "building"]
    assert plates and len(named) == len(small.buildings)
    road_names = {r.name for r in small.roads}
    for a in plates:
        m = ADDRESS.fullmatch(a.address + "")
        assert m and m["road"] in road_names, a.address
    assert len({a.address for a in plates}) == len(plates)
    assert all(a.building_index is not None for a in named)
    pts = shapely.points([(a.lon, a.lat) for a in small.addresses])
    inside = shapely.contains(small.district.geom, pts)
    assert inside[len(plates) :].all()  # building points always
    assert inside.mean() > 0.97  # door plates on the district's edge roads may lie outside


def test_same_seed_same_district(small: DemoDistrict) -> None:
    again = generate_district(seed=7, scale=0.1)
    assert [c.name for c in again.communities] == [c.name for c in small.communities]
    assert [a.address for a in again.addresses] == [a.address for a in small.addresses]
    for a, b in [
        (again.grids, small.grids),
        (again.buildings, small.buildings),
        (again.roads, small.roads),
        (again.communities, small.communities),
    ]:
        assert (
            shapely.to_wkb([x.geom for x in a]).tolist()
            == shapely.to_wkb([x.geom for x in b]).tolist()
        )
    other = generate_district(seed=8, scale=0.1)
    assert [r.name for r in other.roads] != [r.name for r in small.roads]


def test_progress_is_reported() -> None:
    seen: list[tuple[str, float]] = []
    generate_district(seed=3, scale=0.03, progress=lambda s, f: seen.append((s, f)))
    stages = [s for s, _ in seen]
    assert stages[0] == "roads" and ("grids", 1.0) in seen
    assert all(0.0 <= f <= 1.0 for _, f in seen)


def test_generate_grids_returns_polygons() -> None:
    grids = generate_grids(0.03, seed=2)
    assert grids and all(g.geom_type == "Polygon" for g in grids)


@pytest.mark.slow
def test_dongcheng_scale() -> None:
    d = generate_district(seed=1, scale=1.0)
    assert len(d.streets) == 10
    assert len(d.communities) == 137
    assert 1_400 <= len(d.grids) <= 1_900
    assert 25_000 <= len(d.buildings) <= 45_000
    assert _tiling_problems(d) == []
