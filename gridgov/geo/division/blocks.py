"""Step 1 of division: polygonize the community boundary noded with the dividing lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry


def blocks(area_m: Polygon, lines_m: Sequence[BaseGeometry], grid: float) -> list[Polygon]:
    """Faces of the community boundary noded with the lines (街区, the first-level blocks)."""
    minx, miny, maxx, maxy = area_m.bounds
    pad = 10.0  # keep lines a little past the edge so crossings are noded, not near-missed
    geoms = np.asarray(lines_m, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    areal = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms[areal] = shapely.boundary(geoms[areal])  # a river or wall given as an area: its outline
    clipped = shapely.clip_by_rect(geoms, minx - pad, miny - pad, maxx + pad, maxy + pad)
    parts = shapely.get_parts(clipped)
    linework = [area_m.boundary, *parts[np.isin(shapely.get_type_id(parts), (1, 2))]]
    noded = shapely.union_all(linework, grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(faces):
        return [area_m]
    inside = shapely.contains(area_m, shapely.point_on_surface(faces))
    return [f for f in faces[inside] if f.area > 0]
