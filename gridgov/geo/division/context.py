"""What every division step needs: tuning constants, the community and its objects (metres)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.division.parts import polygonal, polygons
from gridgov.geo.projection import LocalProjection

# Sizes are in "grids": 1.0 is one target grid (see Context.size).
SPLIT_ABOVE = 1.5
MERGE_BELOW = 0.5
# By area alone a piece counts as at least area / (AREA_CAP × target) grids, so that heavily
# object-balanced divisions (balance → 1) still split empty land before it grows past ~4.5 targets.
AREA_CAP = 3.0
# Pieces under this share of the target area are slivers: they always merge, whatever the size.
SLIVER_SHARE = 0.02
# How far a cut that avoids an obstacle keeps from its wall, where there is room.
CLEARANCE_M = 0.5
# Pieces whose mean width (2·area/perimeter) is below this are strips, merged like slivers.
THIN_M = 12.0
# An obstacle-free cut may move the balance point by this many grids (divided by the piece count).
OBSTACLE_SLACK = 0.35


@dataclass
class Context:
    """What every step needs: the target, the balancing objects and the obstacles (metres)."""

    target: float
    balance: float
    per_grid: float  # objects per target grid; 0 when there are no objects to balance
    grid: float  # precision grid size in metres
    points: np.ndarray  # (n, 2) representative points of the objects
    point_tree: shapely.STRtree
    obstacles: np.ndarray  # obstacle polygons, clipped to the community
    obstacle_tree: shapely.STRtree

    @property
    def sliver(self) -> float:
        return SLIVER_SHARE * self.target

    def count(self, poly: BaseGeometry) -> int:
        """Objects whose representative point lies in ``poly``."""
        return len(self.inside(poly))

    def inside(self, poly: BaseGeometry) -> np.ndarray:
        """Indices (into ``points``) of the objects inside ``poly``."""
        return self.point_tree.query(poly, predicate="contains")

    def weight(self, area: float, count: float) -> float:
        """Balanced weight in grids: a blend of area share and object share."""
        if self.per_grid <= 0:
            return area / self.target
        return (1 - self.balance) * area / self.target + self.balance * count / self.per_grid

    def size(self, poly: BaseGeometry) -> float:
        """How many grids ``poly`` is worth: its weight, floored by its area over the cap."""
        return max(self.weight(poly.area, self.count(poly)), poly.area / (AREA_CAP * self.target))


def clean_area(area_m: BaseGeometry, grid: float) -> Polygon:
    """The community as one valid polygon on the precision grid (largest part if it falls apart)."""
    parts = polygons(shapely.set_precision(shapely.make_valid(area_m), grid))
    return max(parts, key=lambda p: p.area) if parts else Polygon()


def build_context(
    area_m: Polygon,
    proj: LocalProjection,
    obstacles: Sequence[Polygon],
    objects: Sequence[BaseGeometry],
    target: float,
    balance: float,
    grid: float,
) -> Context:
    shapely.prepare(area_m)
    points = np.zeros((0, 2))
    if len(objects):
        reps = shapely.point_on_surface(proj.project(np.asarray(objects, dtype=object)))
        points = shapely.get_coordinates(reps[shapely.contains(area_m, reps)])
    obs = np.zeros(0, dtype=object)
    if len(obstacles):
        obs = shapely.make_valid(proj.project(np.asarray(obstacles, dtype=object)))
        obs = obs[shapely.intersects(area_m, obs)]
        # Only the part inside the community matters; outside parts can't be helped.
        inside = shapely.contains_properly(area_m, obs)
        obs[~inside] = shapely.intersection(obs[~inside], area_m, grid_size=grid)
        obs = polygonal(obs)
        obs = obs[shapely.area(obs) > grid * grid]
    expected_grids = max(area_m.area / target, 1.0)
    return Context(
        target=target,
        balance=balance,
        per_grid=len(points) / expected_grids,
        grid=grid,
        points=points,
        point_tree=shapely.STRtree(shapely.points(points)),
        obstacles=obs,
        obstacle_tree=shapely.STRtree(obs),
    )
