"""Geometry helpers for division: the polygon parts of overlay results."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def polygons(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygon parts of ``geom`` (collections flattened), largest first."""
    parts: list[Polygon] = []
    for g in shapely.get_parts(geom):
        if g.geom_type == "Polygon":
            if g.area > 0:
                parts.append(g)
        elif g.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(polygons(g))
    return sorted(parts, key=lambda g: -g.area)


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop the points and lines that fixed-precision overlays can leave in a collection."""
    out = geoms.copy()
    for n, g in enumerate(geoms):
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            parts = polygons(g)
            out[n] = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return out
