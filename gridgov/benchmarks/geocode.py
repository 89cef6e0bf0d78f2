"""Benchmark: point → unit grid geocoding at Beijing scale (about 31,700 grids).

Measures the in-memory :class:`~gridgov.geo.index.GridIndex` (build time and memory, batch and
single lookups) against the baseline a first implementation would write (one point at a time in
Python: scan every grid's bounding box, then ``polygon.contains(Point)``), and checks the index
against an STRtree ground truth.

    python bench/geocode.py                 # rich table + JSON line
    python bench/geocode.py --json          # JSON object on the last line only
    python bench/geocode.py --check         # exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely import Point, Polygon, STRtree

from gridgov.geo.index import GridIndex

# Targets from the design brief (2-core machine, 31,700 grids, 1,000,000 points).
TARGETS = {
    "batch_points_per_s": 700_000,
    "speedup": 20.0,
    "single_p99_us": 50.0,
    "index_build_s": 3.0,
    "index_mb": 300.0,
}
BEIJING_GRIDS = 31_700  # demo scale 20
BEIJING_SCALE = 20.0


# ------------------------------------------------------------------------------------ grid sets


def standin_grids(
    n: int,
    seed: int = 1,
    *,
    area_m2: float = 15_000.0,
    lon0: float = 116.4,
    lat0: float = 39.9,
    vertices: int = 16,
) -> np.ndarray:
    """A stand-in grid set: ``n`` jittered-lattice Voronoi cells of about ``area_m2`` each.

    The cells tile a near-square area centred on (lon0, lat0) with no gaps or overlaps and their
    boundaries are densified to about ``vertices`` vertices or more, like surveyed grids.
    """
    rng = np.random.default_rng(seed)
    side = math.sqrt(area_m2)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    ii, jj = np.meshgrid(np.arange(cols), np.arange(rows))
    ii, jj = ii.ravel()[:n], jj.ravel()[:n]
    # Jitter below half a cell keeps every seed inside its lattice square, hence inside the box.
    px = (ii + 0.5 + rng.uniform(-0.35, 0.35, n)) * side
    py = (jj + 0.5 + rng.uniform(-0.35, 0.35, n)) * side
    box = shapely.box(0, 0, cols * side, rows * side)
    seeds = shapely.multipoints(np.c_[px, py])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    cells = shapely.intersection(cells, box)
    # voronoi_polygons returns cells in its own order: put them back in seed order.
    seed_at, cell_at = STRtree(cells).query(shapely.points(px, py), predicate="intersects")
    order = np.empty(n, dtype=np.int64)
    order[seed_at] = cell_at
    cells = cells[order]
    cells = shapely.segmentize(cells, float(shapely.length(cells).mean()) / vertices)
    m_lat = 111_320.0
    m_lon = m_lat * math.cos(math.radians(lat0))
    x0 = lon0 - cols * side / 2 / m_lon
    y0 = lat0 - rows * side / 2 / m_lat
    return shapely.transform(cells, lambda xy: np.c_[x0 + xy[:, 0] / m_lon, y0 + xy[:, 1] / m_lat])


def load_grids(n: int, seed: int) -> tuple[np.ndarray, str]:
    """The demo district's grids when the demo generator exists, else the stand-in."""
    try:
        from gridgov.demo import generate_grids  # type: ignore[attr-defined]
    except ImportError:
        return standin_grids(n, seed), "standin-voronoi"
    scale = BEIJING_SCALE * n / BEIJING_GRIDS
    return np.asarray(generate_grids(scale, seed=seed), dtype=object), (
        f"gridgov.demo.generate_grids(scale={scale:g})"
    )


# ------------------------------------------------------------------------------------ baseline


class NaiveGeocoder:
    """What a first implementation would do: scan all bounding boxes, then test each candidate."""

    def __init__(self, polygons: np.ndarray, ids: np.ndarray) -> None:
        self.polygons: list[Polygon] = list(polygons)
        self.ids = [int(i) for i in ids]
        self.boxes: list[tuple[float, float, float, float]] = [
            tuple(b) for b in shapely.bounds(polygons).tolist()
        ]

    def lookup(self, lon: float, lat: float) -> int | None:
        point = Point(lon, lat)
        for k, (minx, miny, maxx, maxy) in enumerate(self.boxes):
            if minx <= lon <= maxx and miny <= lat <= maxy and self.polygons[k].contains(point):
                return self.ids[k]
        return None


# ------------------------------------------------------------------------------------- helpers


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def _truth(tree: STRtree, ids: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[set[int]]:
    """Ids of every grid whose closed area holds each point (several only on shared edges)."""
    point_at, grid_at = tree.query(shapely.points(x, y), predicate="intersects")
    hits: list[set[int]] = [set() for _ in range(len(x))]
    for p, g in zip(point_at.tolist(), ids[grid_at].tolist(), strict=True):
        hits[p].add(g)
    return hits


# ---------------------------------------------------------------------------------------- main


def run(grids: int, points: int, seed: int, baseline_points: int, agree_points: int) -> dict:
    """Run every measurement and return the result row."""
    polygons, source = load_grids(grids, seed)
    ids = np.arange(1, len(polygons) + 1, dtype=np.int64)
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    rng = np.random.default_rng(seed + 1)
    x = rng.uniform(minx, maxx, points)
    y = rng.uniform(miny, maxy, points)

    # Build: timed alone, then again under tracemalloc for the peak of the numpy temporaries
    # (tracemalloc slows allocation, so it must not be in the timed build).
    gc.collect()
    rss0 = _rss_mb()
    build_s, index = _timed(lambda: GridIndex(polygons, ids))
    gc.collect()
    rss_delta = _rss_mb() - rss0
    del index
    gc.collect()
    tracemalloc.start()
    index = GridIndex(polygons, ids)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    geos_estimate = index.nbytes - index.array_nbytes
    build_peak_mb = (traced_peak + geos_estimate) / 1e6

    # Batch: the first run also builds GEOS's lazy per-polygon point locators.
    cold_s, result = _timed(lambda: index.lookup_many(x, y))
    warm = [_timed(lambda: index.lookup_many(x, y))[0] for _ in range(3)]
    batch_s = statistics.median(warm)

    # Single lookups, one call at a time.
    lon_list, lat_list = x[:20_000].tolist(), y[:20_000].tolist()
    ns = np.empty(len(lon_list))
    lookup, clock = index.lookup, time.perf_counter_ns
    for k, (lo, la) in enumerate(zip(lon_list, lat_list, strict=True)):
        t = clock()
        lookup(lo, la)
        ns[k] = clock() - t
    single_p50, single_p99 = np.percentile(ns, [50, 99]) / 1e3

    # Baseline on a sample.
    naive = NaiveGeocoder(polygons, ids)
    nb = min(baseline_points, points)
    base_s, base_res = _timed(
        lambda: [
            naive.lookup(lo, la) for lo, la in zip(x[:nb].tolist(), y[:nb].tolist(), strict=True)
        ]
    )
    baseline_pps = nb / base_s
    base_agree = float(
        np.mean(
            [(r if r is not None else -1) == f for r, f in zip(base_res, result[:nb], strict=True)]
        )
    )

    # Agreement with the STRtree ground truth.
    na = min(agree_points, points)
    truth = _truth(STRtree(polygons), ids, x[:na], y[:na])
    fast = result[:na].tolist()
    agree = sum((f in t) if t else f == -1 for f, t in zip(fast, truth, strict=True))
    on_edge = sum(len(t) > 1 for t in truth)

    batch_pps = points / batch_s
    row = {
        "grids": len(polygons),
        "points": points,
        "grid_source": source,
        "batch_points_per_s": round(batch_pps),
        "batch_s": round(batch_s, 4),
        "batch_cold_s": round(cold_s, 4),
        "baseline_points_per_s": round(baseline_pps, 1),
        "baseline_points": nb,
        "speedup": round(batch_pps / baseline_pps, 1),
        "single_p50_us": round(float(single_p50), 2),
        "single_p99_us": round(float(single_p99), 2),
        "single_speedup": round(1e6 / float(np.mean(ns / 1e3)) / baseline_pps, 1),
        "index_build_s": round(build_s, 3),
        "index_mb": round(max(index.nbytes / 1e6, rss_delta), 1),
        "index_nbytes_mb": round(index.nbytes / 1e6, 1),
        "index_rss_delta_mb": round(rss_delta, 1),
        "build_peak_mb": round(build_peak_mb, 1),
        "agree_fraction": agree / na,
        "agree_points": na,
        "agree_on_edge_points": on_edge,
        "baseline_agree_fraction": base_agree,
        "raster_cells": int(index.raster_shape[0] * index.raster_shape[1]),
        "boundary_cells": index.boundary_cells,
    }
    row["targets_met"] = _targets_met(row)
    return row


def _targets_met(row: dict) -> bool:
    return (
        row["batch_points_per_s"] >= TARGETS["batch_points_per_s"]
        and row["speedup"] >= TARGETS["speedup"]
        and row["single_p99_us"] < TARGETS["single_p99_us"]
        and row["index_build_s"] < TARGETS["index_build_s"]
        and row["index_mb"] < TARGETS["index_mb"]
        and row["build_peak_mb"] < TARGETS["index_mb"]
        and row["agree_fraction"] == 1.0
    )


def _print_table(row: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Geocoding: {row['grids']:,} grids ({row['grid_source']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    lines = [
        ("batch lookup_many", f"{row['batch_points_per_s']:,} points/s", "≥ 700,000"),
        ("  of which points", f"{row['points']:,} in {row['batch_s']} s", ""),
        ("  first (cold) run", f"{row['batch_cold_s']} s", ""),
        ("baseline (bbox scan)", f"{row['baseline_points_per_s']:,} points/s", ""),
        ("speedup", f"{row['speedup']:,}×", "≥ 20×"),
        ("single lookup p50", f"{row['single_p50_us']} µs", ""),
        ("single lookup p99", f"{row['single_p99_us']} µs", "< 50 µs"),
        ("index build", f"{row['index_build_s']} s", "< 3 s"),
        ("index memory", f"{row['index_mb']} MB", "< 300 MB"),
        ("build peak memory", f"{row['build_peak_mb']} MB", "< 300 MB"),
        ("agreement with STRtree", f"{row['agree_fraction']:.6f}", "1.0"),
        ("raster / boundary cells", f"{row['raster_cells']:,} / {row['boundary_cells']:,}", ""),
    ]
    for line in lines:
        table.add_row(*line)
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=BEIJING_GRIDS, help="grid count")
    parser.add_argument("--points", type=int, default=1_000_000, help="points per batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline-points", type=int, default=5_000, help="sample size for the slow baseline"
    )
    parser.add_argument(
        "--agree-points", type=int, default=200_000, help="sample checked against the STRtree"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    row = run(args.grids, args.points, args.seed, args.baseline_points, args.agree_points)
    if not args.json:
        _print_table(row)
    print(json.dumps(row, ensure_ascii=False))
    return 1 if args.check and not row["targets_met"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
