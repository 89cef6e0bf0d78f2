"""Unit-grid numbering order (CJ/T 213): rows north→south, west→east in a row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from gridgov.geo.projection import LocalProjection


def reading_order(polygons: Sequence[Polygon], band_m: float | None = None) -> list[int]:
    """Indices of ``polygons`` in CJ/T 213 numbering order: rows north→south, west→east in a row.

    Centroids are banded into rows of height ``band_m`` metres (default: the square root of the
    median area, i.e. one typical grid), the first band centred on the northernmost centroid.
    """
    if not polygons:
        return []
    geoms = np.asarray(polygons, dtype=object)
    projected = LocalProjection.around(geoms).project(geoms)
    xy = shapely.get_coordinates(shapely.centroid(projected))
    if band_m is None:
        band_m = float(np.sqrt(np.median(shapely.area(projected)))) or 1.0
    row = np.floor((xy[:, 1].max() + band_m / 2 - xy[:, 1]) / band_m).astype(int)
    # lexsort: last key first → row, then x, then north first, then input order.
    return [int(i) for i in np.lexsort((np.arange(len(xy)), -xy[:, 1], xy[:, 0], row))]
