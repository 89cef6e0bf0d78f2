"""The division pipeline: blocks, split, merge, clean, then numbering order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.division.blocks import blocks
from gridgov.geo.division.clean import reattach_parts, renode, unproject_onto
from gridgov.geo.division.context import build_context, clean_area
from gridgov.geo.division.merge import merge_small
from gridgov.geo.division.order import reading_order
from gridgov.geo.division.split import split
from gridgov.geo.projection import LocalProjection


def divide(
    area: Polygon,
    lines: Sequence[BaseGeometry] = (),
    *,
    target_area_m2: float = 10_000,
    obstacles: Sequence[Polygon] = (),
    objects: Sequence[BaseGeometry] = (),
    balance: float = 0.5,
    tolerance_m: float = 0.05,
) -> list[Polygon]:
    """Cut the community ``area`` into unit grids; return them in reading order.

    All geometry is WGS84 lon/lat. ``lines`` (roads, rivers, walls) form the first boundaries and
    may extend beyond the area or dangle. ``obstacles`` (building footprints) are never cut unless
    they already straddle a line or the community edge. ``objects`` are balanced between grids by
    their representative points; ``balance`` weighs object count (1.0) against area (0.0).
    ``tolerance_m`` bounds how far vertices may move: coordinates are snapped to a grid of
    ``tolerance_m / 5`` metres so that neighbouring grids share edges exactly, and vertices on the
    community's edge are put back on its lon/lat edges, so the grids tile ``area`` itself.
    An invalid ``area`` is repaired with ``make_valid``; if it falls apart, only its largest part
    is divided.
    """
    if target_area_m2 <= 0:
        raise ValueError("target_area_m2 must be positive")
    if not 0.0 <= balance <= 1.0:
        raise ValueError("balance must lie in [0, 1]")
    proj = LocalProjection.around(area)
    grid = tolerance_m / 5
    area_m = clean_area(proj.project(area), grid)
    if area_m.is_empty:
        return []
    ctx = build_context(area_m, proj, obstacles, objects, target_area_m2, balance, grid)

    pieces: list[Polygon] = []
    lines_m = proj.project(np.asarray(lines, dtype=object))
    for block in blocks(area_m, lines_m, grid):
        pieces.extend(split(block, ctx))
    pieces = merge_small(pieces, ctx, resplit=True)
    pieces = renode(pieces, area_m, grid)
    pieces = merge_small(pieces, ctx, resplit=False)  # parts the re-noding cut off (rare)

    out = reattach_parts(list(unproject_onto(area, pieces, proj, 3 * grid)))
    return [out[i] for i in reading_order(out)]
