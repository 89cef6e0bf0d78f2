"""Step 3 of division: merge small pieces, slivers and thin strips into a neighbour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.division.context import MERGE_BELOW, SPLIT_ABOVE, THIN_M, Context
from gridgov.geo.division.parts import polygons
from gridgov.geo.division.split import split


def merge_small(pieces: Sequence[Polygon], ctx: Context, *, resplit: bool) -> list[Polygon]:
    """Merge pieces under MERGE_BELOW grids (and all slivers) into a neighbour.

    The neighbour is the one sharing the longest boundary among those that keep the result within
    SPLIT_ABOVE grids, else the longest overall. With ``resplit`` (before re-noding) an oversized
    merge is split again, so a small block next to a full one becomes two balanced grids; without
    it the pieces are taken to be edge-matched already.
    """
    board = _Board(ctx)
    for p in pieces:
        board.put(len(board.polys), p)
    stuck: set[int] = set()
    for _ in range(4 * len(pieces) + 16):  # each pass merges one piece; the cap is a safety net
        small = [n for n in board.small() if n not in stuck]
        if not small:
            break
        i = min(small, key=lambda n: (board.sizes[n], n))
        neighbours = _neighbours(i, board.polys, board.bounds, ctx.grid)
        if not neighbours:
            stuck.add(i)
            continue
        sizes = board.sizes
        fitting = [(length, j) for length, j in neighbours if sizes[i] + sizes[j] <= SPLIT_ABOVE]
        _, j = max(fitting or neighbours, key=lambda lj: (lj[0], -lj[1]))
        merged = polygons(_union(board.polys[i], board.polys[j], ctx.grid, matched=not resplit))
        oversized = ctx.size(merged[0]) > SPLIT_ABOVE and len(merged) == 1
        if resplit and oversized and not board.slivers[i]:
            merged = split(merged[0], ctx)
        board.put(i, None)
        for n, part in enumerate(merged):
            slot = j if n == 0 else len(board.polys)
            board.put(slot, part)
            stuck.discard(slot)
    return [p for p in board.polys if p is not None]


def _union(a: BaseGeometry, b: BaseGeometry, grid: float, *, matched: bool) -> BaseGeometry:
    """Union of two neighbours. Once edges match exactly (after re-noding) a coverage union keeps
    every vertex, where a general overlay may drop one a third grid still has (a T-junction)."""
    if matched:
        return shapely.coverage_union(a, b)
    return shapely.union(a, b, grid_size=grid)


class _Board:
    """The pieces being merged, with their sizes, sliver flags and bounds kept in step."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.polys: list[Polygon | None] = []
        self.sizes: list[float] = []
        self.slivers: list[bool] = []
        self.bounds = np.zeros((0, 4))

    def put(self, slot: int, poly: Polygon | None) -> None:
        """Set ``slot`` (appending if it is one past the end) to ``poly``; None removes it."""
        if slot == len(self.polys):
            self.polys.append(None)
            self.sizes.append(0.0)
            self.slivers.append(False)
            self.bounds = np.vstack([self.bounds, np.full((1, 4), np.nan)])
        self.polys[slot] = poly
        if poly is not None:
            self.sizes[slot] = self.ctx.size(poly)
            self.slivers[slot] = _is_sliver(poly, self.ctx)
            self.bounds[slot] = poly.bounds
        else:
            self.bounds[slot] = np.nan  # never near anything

    def small(self) -> list[int]:
        return [
            n
            for n, p in enumerate(self.polys)
            if p is not None and (self.sizes[n] < MERGE_BELOW or self.slivers[n])
        ]


def _is_sliver(poly: Polygon, ctx: Context) -> bool:
    """Tiny, or a thin strip (e.g. between two carriageways) far too narrow to patrol as a grid."""
    width = 2 * poly.area / poly.length  # ~ the strip width for long thin shapes
    return poly.area < ctx.sliver or (width < THIN_M and poly.area < ctx.target)


def _neighbours(
    i: int, polys: Sequence[Polygon | None], bounds: np.ndarray, grid: float
) -> list[tuple[float, int]]:
    """(shared boundary length, index) of the pieces sharing an edge with piece ``i``."""
    me = polys[i]
    assert me is not None
    b = bounds[i]
    near = (
        (bounds[:, 0] <= b[2] + grid)
        & (bounds[:, 2] >= b[0] - grid)
        & (bounds[:, 1] <= b[3] + grid)
        & (bounds[:, 3] >= b[1] - grid)
    )
    candidates = [j for j in map(int, np.flatnonzero(near)) if j != i and polys[j] is not None]
    if not candidates:
        return []
    others = np.asarray([polys[j] for j in candidates], dtype=object)
    shared = shapely.length(
        shapely.intersection(me.boundary, shapely.boundary(others), grid_size=grid)
    )
    return [
        (float(length), j) for length, j in zip(shared, candidates, strict=True) if length > grid
    ]
