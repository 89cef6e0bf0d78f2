"""Group blocks into contiguous, compact, balanced regions (streets, communities).

Regions are grown on the block adjacency graph (blocks sharing an edge, i.e. a road centre line),
so every region is one connected piece whose boundary follows roads. Growth is balanced: the
smallest region takes its nearest free neighbouring block next. A few Lloyd rounds move each
seed to its region's middle to make regions compact.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon


def adjacency(polys: Sequence[Polygon], min_shared_m: float = 1.0) -> list[list[int]]:
    """Neighbours of each polygon: those sharing at least ``min_shared_m`` of boundary."""
    arr = np.asarray(polys, dtype=object)
    tree = shapely.STRtree(arr)
    a, b = tree.query(arr, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(arr[a]), shapely.boundary(arr[b]))
    )
    out: list[list[int]] = [[] for _ in polys]
    for i, j, s in zip(a, b, shared, strict=True):
        if s >= min_shared_m:
            out[int(i)].append(int(j))
            out[int(j)].append(int(i))
    return out


def grow_regions(
    centroids: np.ndarray,
    areas: np.ndarray,
    neighbours: list[list[int]],
    k: int,
    rng: np.random.Generator,
    rounds: int = 4,
) -> np.ndarray:
    """Labels 0..k-1 for the items, each label a connected set of roughly equal total area."""
    n = len(areas)
    k = max(1, min(k, n))
    seeds = _initial_seeds(centroids, areas, k, rng)
    labels = _grow(centroids, areas, neighbours, seeds)
    for _ in range(rounds):
        seeds = _recentre(centroids, areas, labels, k, seeds)
        labels = _grow(centroids, areas, neighbours, seeds)
    return labels


def _initial_seeds(
    centroids: np.ndarray, areas: np.ndarray, k: int, rng: np.random.Generator
) -> list[int]:
    """Farthest-point seeds (the first one random), which spreads them across the area."""
    first = int(rng.integers(len(areas)))
    seeds = [first]
    d = np.hypot(*(centroids - centroids[first]).T)
    for _ in range(k - 1):
        nxt = int(np.argmax(d))
        seeds.append(nxt)
        d = np.minimum(d, np.hypot(*(centroids - centroids[nxt]).T))
    return seeds


def _recentre(
    centroids: np.ndarray, areas: np.ndarray, labels: np.ndarray, k: int, seeds: list[int]
) -> list[int]:
    out = []
    for r in range(k):
        idx = np.flatnonzero(labels == r)
        if not len(idx):
            out.append(seeds[r])
            continue
        mid = np.average(centroids[idx], axis=0, weights=areas[idx])
        best = idx[np.argmin(np.hypot(*(centroids[idx] - mid).T))]
        out.append(int(best))
    # two regions may pick the same block: keep the old seed for the later one
    seen: set[int] = set()
    for r, s in enumerate(out):
        if s in seen:
            out[r] = seeds[r] if seeds[r] not in seen else s
        seen.add(out[r])
    return out


def _grow(
    centroids: np.ndarray, areas: np.ndarray, neighbours: list[list[int]], seeds: list[int]
) -> np.ndarray:
    n, k = len(areas), len(seeds)
    labels = np.full(n, -1)
    size = np.zeros(k)
    frontier: list[list[tuple[float, int]]] = [[] for _ in range(k)]
    for r, s in enumerate(dict.fromkeys(seeds)):
        labels[s] = r
        size[r] = areas[s]
    for r in range(k):
        if labels[seeds[r]] == r:
            _push_neighbours(frontier[r], seeds[r], neighbours, labels, centroids, seeds[r])
    order = [(size[r], r) for r in range(k)]
    heapq.heapify(order)
    while order:
        _, r = heapq.heappop(order)
        while frontier[r] and labels[frontier[r][0][1]] != -1:
            heapq.heappop(frontier[r])
        if not frontier[r]:
            continue  # enclosed: this region is done
        _, item = heapq.heappop(frontier[r])
        labels[item] = r
        size[r] += areas[item]
        _push_neighbours(frontier[r], item, neighbours, labels, centroids, seeds[r])
        heapq.heappush(order, (size[r], r))
    _attach_orphans(labels, neighbours, areas)
    return labels


def _push_neighbours(
    heap: list[tuple[float, int]],
    item: int,
    neighbours: list[list[int]],
    labels: np.ndarray,
    centroids: np.ndarray,
    seed: int,
) -> None:
    for j in neighbours[item]:
        if labels[j] == -1:
            d = float(np.hypot(*(centroids[j] - centroids[seed])))
            heapq.heappush(heap, (d, j))


def _attach_orphans(labels: np.ndarray, neighbours: list[list[int]], areas: np.ndarray) -> None:
    """Items no region reached (islands in the graph) join a labelled neighbour or region 0."""
    changed = True
    while changed and (labels == -1).any():
        changed = False
        for i in np.flatnonzero(labels == -1):
            got = [labels[j] for j in neighbours[i] if labels[j] != -1]
            if got:
                labels[i] = got[0]
                changed = True
    labels[labels == -1] = 0


def split_counts(total: int, weights: np.ndarray) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), at least 1 each."""
    raw = weights / weights.sum() * total
    counts = np.maximum(1, np.floor(raw)).astype(int)
    rest = total - counts.sum()
    order = np.argsort(-(raw - np.floor(raw)), kind="stable")
    for i in order[: max(0, rest)]:
        counts[i] += 1
    return [int(c) for c in counts]
