"""GridIndex answers exactly what a brute-force point-in-polygon test answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely import Polygon

from gridgov.geo.index import GridIndex

LON0, LAT0 = 116.40, 39.90
M_LAT = 111_320.0
M_LON = M_LAT * math.cos(math.radians(LAT0))


def _lonlat(geoms: np.ndarray) -> np.ndarray:
    """Metres east/north of (LON0, LAT0) → WGS84 lon/lat."""
    return shapely.transform(
        geoms, lambda xy: np.c_[LON0 + xy[:, 0] / M_LON, LAT0 + xy[:, 1] / M_LAT]
    )


def _voronoi(n: int, size_m: float, seed: int) -> np.ndarray:
    """An irregular tiling of a size_m square into n Voronoi cells, edges densified to 10 m."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, size_m, size_m)
    seeds = shapely.multipoints(rng.uniform(0, size_m, (n, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
    )
    return _lonlat(shapely.segmentize(cells, 10.0))


def _brute(geoms: np.ndarray, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Expected id per point: the first grid (input order) whose closed area holds it, else -1."""
    point_at, grid_at = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    first = np.full(len(x), len(geoms), dtype=np.int64)
    np.minimum.at(first, point_at, grid_at)
    return np.where(first < len(geoms), np.r_[ids, -1][first], -1)


def _probe_points(
    geoms: np.ndarray, seed: int, n_random: int = 20_000
) -> tuple[np.ndarray, np.ndarray]:
    """Random points over (and beyond) the extent, every vertex, edge midpoints, and points a
    hair off vertices, where a wrong boundary cell would show."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    padx, pady = (maxx - minx) * 0.05, (maxy - miny) * 0.05
    rx = rng.uniform(minx - padx, maxx + padx, n_random)
    ry = rng.uniform(miny - pady, maxy + pady, n_random)
    v = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geoms)))
    mid = (v[1:] + v[:-1]) / 2
    near = v + rng.normal(0, 1e-7, v.shape)  # ~1 cm
    pts = np.concatenate([np.c_[rx, ry], v, mid, near])
    return pts[:, 0], pts[:, 1]


@pytest.fixture(scope="module")
def tiling() -> tuple[np.ndarray, np.ndarray]:
    geoms = _voronoi(150, 1_500.0, seed=7)
    ids = np.arange(len(geoms), dtype=np.int64) * 10 + 1_000  # ids unrelated to positions
    return geoms, ids


@pytest.mark.parametrize("cell_m", [None, 2.0, 40.0])
def test_matches_brute_force_on_voronoi_tiling(tiling, cell_m) -> None:
    geoms, ids = tiling
    index = GridIndex(geoms, ids, cell_deg=None if cell_m is None else cell_m / M_LAT)
    x, y = _probe_points(geoms, seed=3)
    expected = _brute(geoms, ids, x, y)
    got = index.lookup_many(x, y)
    np.testing.assert_array_equal(got, expected)
    assert (expected == -1).any() and (expected >= 0).mean() > 0.8  # both kinds were probed


def test_single_lookup_agrees_with_batch(tiling) -> None:
    geoms, ids = tiling
    index = GridIndex(geoms, ids)
    x, y = _probe_points(geoms, seed=5, n_random=2_000)
    x, y = x[::3], y[::3]  # every kind of probe, a third of them: single calls are slow
    batch = index.lookup_many(x, y)
    single = [index.lookup(float(a), float(b)) for a, b in zip(x, y, strict=True)]
    assert [-1 if s is None else s for s in single] == batch.tolist()


def test_outside_points_are_none_and_minus_one(tiling) -> None:
    geoms, ids = tiling
    index = GridIndex(geoms, ids)
    lon = np.array([LON0 - 0.5, LON0 + 5.0, -170.0, LON0 - 1e-4])
    lat = np.array([LAT0, LAT0 + 0.001, -80.0, LAT0 - 1e-4])
    assert index.lookup_many(lon, lat).tolist() == [-1, -1, -1, -1]
    assert index.lookup(LON0 - 0.5, LAT0) is None
    assert index.lookup(LON0 - 1e-4, LAT0 - 1e-4) is None  # just outside the south-west corner


def test_nan_and_infinite_input(tiling) -> None:
    geoms, ids = tiling
    index = GridIndex(geoms, ids)
    inside = shapely.get_coordinates(shapely.point_on_surface(geoms[0]))[0]
    lon = np.array([np.nan, inside[0], np.inf, inside[0]])
    lat = np.array([inside[1], np.nan, inside[1], inside[1]])
    assert index.lookup_many(lon, lat).tolist() == [-1, -1, -1, ids[0]]
    assert index.lookup(math.nan, LAT0) is None
    assert index.lookup(math.inf, math.nan) is None


def test_hole_filled_by_another_grid() -> None:
    # A 100 m square with a 40 m hole, and a second grid that fills the hole exactly.
    outer = [(0, 0), (100, 0), (100, 100), (0, 100)]
    hole = [(30, 30), (70, 30), (70, 70), (30, 70)]
    ring, island = _lonlat(np.array([Polygon(outer, [hole]), Polygon(hole)]))
    index = GridIndex([ring, island], [11, 22])
    east = lambda m: LON0 + m / M_LON  # noqa: E731
    north = lambda m: LAT0 + m / M_LAT  # noqa: E731
    assert index.lookup(east(50), north(50)) == 22  # in the hole
    assert index.lookup(east(31), north(69)) == 22  # hole corner, inside
    assert index.lookup(east(29), north(50)) == 11  # just west of the hole
    assert index.lookup(east(10), north(90)) == 11
    assert index.lookup(east(101), north(50)) is None
    lon = np.array([east(50), east(29), east(101), east(30)])
    lat = np.array([north(50), north(50), north(50), north(50)])
    # (30, 50) lies on the shared edge: the first grid in the input wins.
    assert index.lookup_many(lon, lat).tolist() == [22, 11, -1, 11]


def test_unfilled_hole_is_outside() -> None:
    outer = [(0, 0), (100, 0), (100, 100), (0, 100)]
    hole = [(30, 30), (70, 30), (70, 70), (30, 70)]
    (ring,) = _lonlat(np.array([Polygon(outer, [hole])]))
    index = GridIndex([ring], [5])
    assert index.lookup(LON0 + 50 / M_LON, LAT0 + 50 / M_LAT) is None
    assert index.lookup(LON0 + 10 / M_LON, LAT0 + 50 / M_LAT) == 5


def test_empty_index() -> None:
    index = GridIndex([], [])
    assert len(index) == 0
    assert index.lookup(LON0, LAT0) is None
    assert index.lookup_many(np.array([LON0, np.nan]), np.array([LAT0, 1.0])).tolist() == [-1, -1]
    assert index.lookup_many(np.array([]), np.array([])).shape == (0,)
    assert index.nbytes > 0


def test_empty_geometries_are_ignored_and_ids_kept(tiling) -> None:
    geoms, _ = tiling
    mixed = np.concatenate([[Polygon()], geoms[:3], [None]])
    index = GridIndex(mixed, [1, 2, 3, 4, 5])
    x, y = shapely.get_coordinates(shapely.point_on_surface(geoms[:3])).T
    assert index.lookup_many(x, y).tolist() == [2, 3, 4]


def test_from_wkb_and_shape_preserved(tiling) -> None:
    geoms, ids = tiling
    index = GridIndex.from_wkb(shapely.to_wkb(geoms), ids)
    x, y = shapely.get_coordinates(shapely.point_on_surface(geoms[:6])).T
    got = index.lookup_many(x.reshape(2, 3), y.reshape(2, 3))
    assert got.shape == (2, 3)
    assert got.ravel().tolist() == ids[:6].tolist()


def test_mismatched_lengths_are_refused(tiling) -> None:
    geoms, ids = tiling
    with pytest.raises(ValueError):
        GridIndex(geoms, ids[:-1])
    index = GridIndex(geoms[:2], ids[:2])
    with pytest.raises(ValueError):
        index.lookup_many(np.zeros(3), np.zeros(2))


def test_nbytes_counts_the_raster(tiling) -> None:
    geoms, ids = tiling
    index = GridIndex(geoms, ids)
    assert index.nbytes > index._raster.nbytes


def test_edges_split_differently_on_each_side() -> None:
    # A long diagonal shared edge that grid 1 splits at an odd fraction and grid 2 does not, so
    # the two sides are densified at different points and their segment boxes differ: cells only
    # one side's boxes touch must still resolve exactly.
    a = Polygon([(0, 0), (300, 0), (300, 170), (0, 0)])
    b = Polygon([(0, 0), (300, 170), (0, 170)])
    a = shapely.segmentize(a, 7.3)
    tiles = _lonlat(np.array([a, b]))
    index = GridIndex(tiles, [1, 2])
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = shapely.total_bounds(tiles)
    x, y = rng.uniform(minx, maxx, 60_000), rng.uniform(miny, maxy, 60_000)
    np.testing.assert_array_equal(index.lookup_many(x, y), _brute(tiles, np.array([1, 2]), x, y))
