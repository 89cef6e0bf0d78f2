"""Unit-grid division (单元网格划分): synthetic layouts with known answers, then real OSM data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from gridgov.geo.division import check_division, divide, reading_order
from gridgov.geo.osm import read_osm
from gridgov.geo.projection import LocalProjection

HELSINKI = Path(__file__).parents[2] / "data" / "osm" / "Helsinki.osm.pbf"
TARGET = 10_000.0

# A local metric frame around a point in Beijing: build shapes in metres, feed WGS84 to divide().
_PROJ = LocalProjection.around(Point(116.40, 39.90))
_X0, _Y0 = _PROJ.project(Point(116.40, 39.90)).coords[0]


def wgs(geom: BaseGeometry) -> BaseGeometry:
    """A shape drawn in metres (origin at the reference point) → WGS84."""
    return _PROJ.unproject(shapely.affinity.translate(geom, _X0, _Y0))


def metres(geoms: list[Polygon]) -> np.ndarray:
    """WGS84 grids → the same local metric frame (origin at the reference point)."""
    projected = _PROJ.project(np.asarray(geoms, dtype=object))
    return np.asarray([shapely.affinity.translate(g, -_X0, -_Y0) for g in projected])


def cut_buildings(grids: np.ndarray, buildings: list[Polygon], tol_m: float = 0.01) -> list[int]:
    """Indices of buildings lying in more than one grid (beyond a band of ``tol_m`` × perimeter)."""
    tree = shapely.STRtree(grids)
    cut = []
    for n, b in enumerate(buildings):
        shares = sorted(g.intersection(b).area for g in grids[tree.query(b)])
        if sum(shares[:-1]) > tol_m * b.length:
            cut.append(n)
    return cut


# ---------------------------------------------------------------------------------------------
# A square kilometre with a cross of roads


SQUARE = box(0, 0, 1000, 1000)
CROSS = [LineString([(500, -50), (500, 1050)]), LineString([(-50, 500), (1050, 500)])]


@pytest.fixture(scope="module")
def plain_grids() -> list[Polygon]:
    return divide(wgs(SQUARE), [wgs(line) for line in CROSS], target_area_m2=TARGET)


def test_cross_of_roads_tiles_the_square_in_target_sized_grids(plain_grids: list[Polygon]) -> None:
    assert check_division(wgs(SQUARE), plain_grids, tolerance_m=0.001) == []
    assert 95 <= len(plain_grids) <= 105  # 1 km² / 10,000 m²
    areas = shapely.area(metres(plain_grids))
    assert areas.min() >= 0.5 * TARGET
    assert areas.max() <= 1.5 * TARGET


def test_check_division_reports_gaps_overlaps_and_spill(plain_grids: list[Polygon]) -> None:
    square = wgs(SQUARE)
    assert any("in no grid" in p for p in check_division(square, plain_grids[1:]))
    moved = shapely.affinity.translate(plain_grids[0], xoff=1e-4)  # ≈ 8.5 m east
    problems = check_division(square, [moved, *plain_grids[1:]])
    assert any("overlap" in p for p in problems)
    assert any("in no grid" in p for p in problems)
    spill = wgs(box(-10, -10, 50, 50))
    assert any("outside the area" in p for p in check_division(square, [*plain_grids, spill]))


def test_no_grid_spans_a_road(plain_grids: list[Polygon]) -> None:
    shrunk = shapely.buffer(metres(plain_grids), -0.1)
    for road in CROSS:
        assert not shapely.intersects(shrunk, road).any()


def test_buildings_where_cuts_would_fall_stay_whole(plain_grids: list[Polygon]) -> None:
    # Put a 24 × 16 m building across the middle of every cut the plain division made.
    grids = metres(plain_grids)
    roads = shapely.union_all([line.buffer(1) for line in CROSS])
    tree = shapely.STRtree(grids)
    buildings = []
    for i, j in zip(*tree.query(grids, predicate="touches"), strict=True):
        shared = grids[i].intersection(grids[j])
        if i < j and shared.length > 50 and not shared.intersects(roads):
            mid = shapely.line_interpolate_point(shapely.line_merge(shared), 0.5, normalized=True)
            buildings.append(box(mid.x - 12, mid.y - 8, mid.x + 12, mid.y + 8))
    assert len(buildings) > 50

    grids_wgs = divide(
        wgs(SQUARE), [wgs(line) for line in CROSS], obstacles=[wgs(b) for b in buildings]
    )

    assert check_division(wgs(SQUARE), grids_wgs, tolerance_m=0.001) == []
    assert cut_buildings(metres(grids_wgs), buildings) == []
    areas = shapely.area(metres(grids_wgs))
    assert areas.min() >= 0.4 * TARGET and areas.max() <= 1.6 * TARGET


def test_dense_corner_gets_smaller_grids_when_balancing_objects() -> None:
    rng = np.random.default_rng(42)
    corner = [Point(x, y) for x, y in rng.uniform(0, 250, (400, 2))]  # south-west corner
    spread = [Point(x, y) for x, y in rng.uniform(0, 1000, (100, 2))]
    objects = [wgs(p) for p in corner + spread]

    grids = divide(wgs(SQUARE), [wgs(line) for line in CROSS], objects=objects, balance=1.0)

    assert check_division(wgs(SQUARE), grids, tolerance_m=0.001) == []
    local = metres(grids)
    in_corner = shapely.intersects(shapely.centroid(local), box(0, 0, 250, 250))
    areas = shapely.area(local)
    assert in_corner.sum() >= 10
    assert areas[in_corner].mean() < 0.25 * areas[~in_corner].mean()


def test_dangling_lines_and_holes_still_tile() -> None:
    # A courtyard hole, a dead-end lane and a line running far outside the area.
    area = Polygon(SQUARE.exterior.coords, [box(600, 600, 700, 700).exterior.coords])
    lines = [LineString([(200, 0), (200, 400)]), LineString([(-500, 300), (2000, 320)])]

    grids = divide(wgs(area), [wgs(line) for line in lines])

    assert check_division(wgs(area), grids, tolerance_m=0.001) == []
    assert all(isinstance(g, Polygon) for g in grids)


def test_divide_is_deterministic() -> None:
    lines = [wgs(line) for line in CROSS]
    objects = [wgs(Point(x, y)) for x, y in np.random.default_rng(1).uniform(0, 1000, (200, 2))]
    first = divide(wgs(SQUARE), lines, objects=objects)
    second = divide(wgs(SQUARE), lines, objects=objects)
    assert [g.wkb for g in first] == [g.wkb for g in second]


def test_small_area_is_one_grid() -> None:
    grids = divide(wgs(box(0, 0, 80, 90)))
    assert len(grids) == 1
    assert check_division(wgs(box(0, 0, 80, 90)), grids, tolerance_m=0.001) == []


# ---------------------------------------------------------------------------------------------
# Numbering


def test_reading_order_numbers_rows_north_to_south_then_west_to_east() -> None:
    # Cells named by (row from north, column from west), given in a shuffled order.
    cells = {
        (r, c): box(c * 100, (2 - r) * 100, (c + 1) * 100, (3 - r) * 100)
        for r in range(3)
        for c in range(3)
    }
    names = [(1, 2), (0, 0), (2, 1), (0, 2), (1, 0), (2, 2), (0, 1), (2, 0), (1, 1)]
    polygons = [wgs(cells[name]) for name in names]

    order = reading_order(polygons)

    assert [names[i] for i in order] == [(r, c) for r in range(3) for c in range(3)]


def test_reading_order_keeps_a_ragged_row_together() -> None:
    # Cells of one row whose centroids differ by a third of a cell still form one row.
    polygons = [wgs(box(0, 0, 100, 100)), wgs(box(100, 30, 200, 130)), wgs(box(0, -100, 100, 0))]
    assert reading_order(polygons) == [0, 1, 2]
    assert reading_order([]) == []


# ---------------------------------------------------------------------------------------------
# Real data: central Helsinki

# Streets that bound city blocks; footways and service roads run through yards and buildings.
STREETS = {
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "residential",
    "unclassified",
    "living_street",
    "pedestrian",
}
HELSINKI_AREA = box(24.937, 60.1665, 24.951, 60.1735)  # ≈ 0.6 km² of Kluuvi and Kamppi


@pytest.fixture(scope="module")
def osm() -> tuple[list[tuple[str | None, str, LineString]], list[Polygon]]:
    return read_osm(HELSINKI)


def test_read_osm_returns_named_roads_and_valid_footprints(
    osm: tuple[list[tuple[str | None, str, LineString]], list[Polygon]],
) -> None:
    roads, buildings = osm
    assert len(roads) > 1000 and len(buildings) > 300
    assert {"primary", "residential", "footway"} <= {kind for _, kind, _ in roads}
    assert any(name == "Mannerheimintie" for name, _, _ in roads)
    assert all(isinstance(line, LineString) for _, _, line in roads)
    assert all(isinstance(b, Polygon) and b.is_valid and b.area > 0 for b in buildings)


def test_helsinki_centre_divides_along_streets_around_buildings(
    osm: tuple[list[tuple[str | None, str, LineString]], list[Polygon]],
) -> None:
    roads, buildings = osm
    streets = [line for _, kind, line in roads if kind in STREETS]

    grids = divide(HELSINKI_AREA, streets, obstacles=buildings, target_area_m2=TARGET)

    assert check_division(HELSINKI_AREA, grids, tolerance_m=0.001) == []
    proj = LocalProjection.around(HELSINKI_AREA)
    area_m = proj.project(HELSINKI_AREA)
    local = proj.project(np.asarray(grids, dtype=object))
    areas = shapely.area(local)
    assert 0.7 < len(grids) * TARGET / area_m.area < 1.4
    assert 0.7 * TARGET < np.median(areas) < 1.3 * TARGET
    assert areas.min() > 0.2 * TARGET and areas.max() < 2.5 * TARGET

    # A building may only be cut where a street or the area's edge already cuts it.
    street_lines = shapely.union_all(proj.project(np.asarray(streets, dtype=object)))
    footprints = [
        b.intersection(area_m)
        for b in proj.project(np.asarray(buildings, dtype=object))
        if b.intersects(area_m)
    ]
    cut = [footprints[n] for n in cut_buildings(local, footprints)]
    assert len(footprints) > 100
    unavoidable = [b for b in cut if b.intersects(street_lines) or b.intersects(area_m.boundary)]
    assert cut == unavoidable


def test_a_pinched_grid_gives_its_detached_part_to_a_neighbour() -> None:
    """A ring touching itself (as unprojection onto the lon/lat edge can make it) loses no area."""
    from shapely.geometry import box

    from gridgov.geo.division.clean import reattach_parts

    # A: the lower half plus a triangle above it hanging on the single point (2, 2)
    pinched = Polygon([(0, 0), (4, 0), (4, 2), (2, 2), (3, 3), (1, 3), (2, 2), (0, 2)])
    upper = box(0, 2, 4, 4).difference(Polygon([(2, 2), (3, 3), (1, 3)]))
    assert not pinched.is_valid
    out = reattach_parts([pinched, upper])
    assert len(out) == 2
    assert all(g.geom_type == "Polygon" and g.is_valid for g in out)
    assert sum(g.area for g in out) == pytest.approx(16.0)
    assert out[0].area == pytest.approx(8.0)  # the triangle went to the upper grid
