"""The division invariant: the grids tile the community with no gap, overlap or spill.

Not to be confused with :func:`gridgov.geo.topology.check_tiling`, which validates imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.projection import LocalProjection


def check_division(area: Polygon, grids: Sequence[Polygon], tolerance_m: float = 0.05) -> list[str]:
    """Problems that stop ``grids`` from tiling ``area`` (empty list when they do).

    Checks: every grid a valid non-empty Polygon; grids edge-matched; no part of a grid outside
    the area, no overlap between grids and no gap in the area wider than ``tolerance_m`` (a part's
    width is taken as 2·area/perimeter). Set operations run on the lon/lat coordinates, as a
    topology check on stored data does; only the resulting pieces are projected to measure them.
    """
    problems: list[str] = []
    proj = LocalProjection.around(area)
    geoms = np.asarray(grids, dtype=object)

    def too_wide(geom: BaseGeometry) -> float:
        """Area in m² of the parts of ``geom`` wider than the tolerance."""
        parts = proj.project(shapely.get_parts(geom))
        areas, lengths = shapely.area(parts), shapely.length(parts)
        return float(areas[2 * areas > tolerance_m * lengths].sum())

    for i, g in enumerate(geoms):
        if g.geom_type != "Polygon" or g.is_empty or not g.is_valid:
            problems.append(f"grid {i}: not a valid non-empty Polygon ({g.geom_type})")
        elif outside := too_wide(g.difference(area)):
            problems.append(f"grid {i}: {outside:.2f} m² outside the area")
    if not shapely.coverage_is_valid(geoms):
        problems.append("grids are not an edge-matched coverage")
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i < j and (overlap := too_wide(geoms[i].intersection(geoms[j]))):
            problems.append(f"grids {i} and {j} overlap by {overlap:.2f} m²")
    if gap := too_wide(area.difference(shapely.union_all(geoms))):
        problems.append(f"{gap:.2f} m² of the area is in no grid")
    return problems
