"""Topology checks for tilings: regions in their parent, unit grids in their community.

Every problem says what is wrong and where (codes, feature number, area in m², a point), so an
import or edit can be refused with a report the user can act on. Areas are measured in a local
projected CRS; gaps and overlaps below ``tolerance_m2`` are digitising noise and ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.projection import LocalProjection


@dataclass
class Problem:
    # empty | not_polygon | bad_coordinates | invalid_geometry | unknown_parent | outside_parent
    # | overlap | gap | bad_code | duplicate_code
    kind: str
    message: str
    codes: list[str] = field(default_factory=list)
    feature: int | None = None
    area_m2: float | None = None
    location: tuple[float, float] | None = None  # lon, lat of a point inside the problem area

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}


def geometry_problem(
    geom: BaseGeometry | None, *, code: str = "", feature: int | None = None
) -> Problem | None:
    """Empty, non-polygonal, self-intersecting or out-of-range geometry."""
    codes = [code] if code else []
    if geom is None or geom.is_empty:
        return Problem("empty", "geometry is empty", codes, feature)
    if not isinstance(geom, Polygon | MultiPolygon):
        return Problem("not_polygon", f"expected a polygon, got {geom.geom_type}", codes, feature)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return Problem(
            "bad_coordinates",
            "coordinates are outside lon −180..180 / lat −90..90: are they projected, or in "
            "lat/lon order instead of lon/lat?",
            codes,
            feature,
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        return Problem(
            "invalid_geometry",
            f"invalid polygon: {reason}",
            codes,
            feature,
            location=_reason_location(reason),
        )
    return None


def _reason_location(reason: str) -> tuple[float, float] | None:
    # GEOS reports e.g. "Self-intersection[116.4 39.9]"
    if "[" in reason and reason.endswith("]"):
        try:
            x, y = reason[reason.index("[") + 1 : -1].split()[:2]
            return (float(x), float(y))
        except ValueError:
            return None
    return None


# Overlay on a 1e-9° (≈ 0.1 mm) precision grid: GEOS's snap-rounding mode is robust, while
# floating-point overlay of nearly collinear shared edges can return pieces that are not there.
GRID = 1e-9


def _where(part: BaseGeometry) -> tuple[float, float]:
    pt = part.representative_point()
    return (round(pt.x, 7), round(pt.y, 7))


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    return polys


def check_tiling(
    parents: Sequence[tuple[str, BaseGeometry]],
    children: Sequence[tuple[str, str, BaseGeometry]],
    *,
    tolerance_m2: float = 1.0,
    child_label: str = "grid",
    feature_numbers: Sequence[int | None] | None = None,
    check_gaps: bool = True,
) -> list[Problem]:
    """Check that ``children`` (code, parent_code, geom) tile their ``parents`` (code, geom).

    Each child must lie inside its own parent (and no other), children must not overlap, and
    (``check_gaps``) the children of a parent must cover it. Geometries must already be valid.
    """
    problems: list[Problem] = []
    if not children:
        return problems
    # Set operations run on the stored lon/lat coordinates: projecting first would bend edges
    # differently for a polygon and its neighbour (chord vs curve) and invent slivers. Only the
    # resulting pieces are projected, to measure them.
    child_geoms = np.array([g for _, _, g in children], dtype=object)
    proj = LocalProjection.around(child_geoms)
    parent_g = dict(parents)
    feats = list(feature_numbers) if feature_numbers is not None else [None] * len(children)

    def area(geom: BaseGeometry) -> float:
        return float(shapely.area(proj.project(geom)))

    # 1. each child inside its declared parent
    for i, (code, parent_code, geom) in enumerate(children):
        pg = parent_g.get(parent_code)
        if pg is None:
            problems.append(
                Problem(
                    "unknown_parent",
                    f"{child_label} {code}: parent {parent_code} does not exist",
                    [code],
                    feats[i],
                )
            )
            continue
        if shapely.covers(pg, geom):
            continue
        outside = shapely.difference(geom, pg, grid_size=GRID)
        a = area(outside)
        if a > tolerance_m2:
            problems.append(
                Problem(
                    "outside_parent",
                    f"{child_label} {code}: {a:.1f} m² lies outside {parent_code}",
                    [code, parent_code],
                    feats[i],
                    round(a, 1),
                    _where(outside),
                )
            )

    # 2. no overlaps between children
    tree = shapely.STRtree(child_geoms)
    # "overlaps" misses a child lying wholly inside (or equal to) another: add "contains".
    pairs = np.concatenate(
        [
            tree.query(child_geoms, predicate="overlaps"),
            tree.query(child_geoms, predicate="contains"),
        ],
        axis=1,
    )
    pairs = np.unique(np.sort(pairs, axis=0), axis=1)
    for a_i, b_i in pairs[:, pairs[0] < pairs[1]].T:
        inter = shapely.intersection(child_geoms[a_i], child_geoms[b_i], grid_size=GRID)
        a = area(inter)
        if a > tolerance_m2:
            ca, cb = children[a_i][0], children[b_i][0]
            problems.append(
                Problem(
                    "overlap",
                    f"{child_label}s {ca} and {cb} overlap by {a:.1f} m²",
                    [ca, cb],
                    feats[b_i],
                    round(a, 1),
                    _where(inter),
                )
            )

    # 3. no gaps inside a parent
    if check_gaps:
        by_parent: dict[str, list[int]] = {}
        for i, (_, parent_code, _) in enumerate(children):
            by_parent.setdefault(parent_code, []).append(i)
        for parent_code, idx in by_parent.items():
            pg = parent_g.get(parent_code)
            if pg is None:
                continue
            gap = shapely.difference(
                pg, shapely.union_all(child_geoms[idx], grid_size=GRID), grid_size=GRID
            )
            for part in _parts(gap):
                a = area(part)
                if a > tolerance_m2:
                    problems.append(
                        Problem(
                            "gap",
                            f"gap of {a:.1f} m² inside {parent_code} "
                            f"not covered by any {child_label}",
                            [parent_code],
                            None,
                            round(a, 1),
                            _where(part),
                        )
                    )
    return problems
