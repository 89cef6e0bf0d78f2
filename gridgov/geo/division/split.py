"""Step 2 of division: balanced straight cuts across the long axis that avoid obstacles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.division.context import (
    AREA_CAP,
    CLEARANCE_M,
    OBSTACLE_SLACK,
    SPLIT_ABOVE,
    Context,
)
from gridgov.geo.division.parts import polygonal, polygons

_MAX_DEPTH = 40


def split(poly: Polygon, ctx: Context, depth: int = 0) -> list[Polygon]:
    """Recursively bisect ``poly`` until no piece is worth more than SPLIT_ABOVE grids."""
    size = ctx.size(poly)
    if size <= SPLIT_ABOVE or depth > _MAX_DEPTH:
        return [poly]
    k = max(2, round(size))
    left, right = _bisect(poly, ctx, (k // 2) / k, k)
    if left.area < ctx.grid or right.area < ctx.grid:
        return [poly]  # nowhere to cut: one building fills the block, keep it whole and big
    out: list[Polygon] = []
    for part in polygons(left) + polygons(right):
        out.extend(split(part, ctx, depth + 1))
    return out


@dataclass(frozen=True)
class _Frame:
    """Axis frame of one piece: ``u`` along its long axis, ``v`` across; extents in metres."""

    u: np.ndarray
    v: np.ndarray
    s0: float
    s1: float
    t0: float
    t1: float

    @classmethod
    def of(cls, poly: Polygon) -> _Frame:
        rect = np.asarray(shapely.oriented_envelope(poly).exterior.coords)
        e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
        axis = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        u = axis / np.hypot(*axis)
        if u[0] < 0 or (u[0] == 0 and u[1] < 0):
            u = -u  # one canonical direction: cuts are found west → east
        v = np.array([-u[1], u[0]])
        xy = shapely.get_coordinates(poly)
        s, t = xy @ u, xy @ v
        return cls(u, v, float(s.min()), float(s.max()), float(t.min()), float(t.max()))

    def before(self, s: float) -> Polygon:
        """A rectangle covering the part of the piece whose offset along ``u`` is below ``s``."""
        pad = 1.0
        corners = [(self.s0 - pad, self.t0 - pad), (s, self.t0 - pad), (s, self.t1 + pad)]
        corners.append((self.s0 - pad, self.t1 + pad))
        return Polygon([a * self.u + b * self.v for a, b in corners])


def _bisect(poly: Polygon, ctx: Context, share: float, k: int) -> tuple[BaseGeometry, BaseGeometry]:
    """Cut ``poly`` across its long axis so that ``share`` of its weight lies before the cut."""
    frame = _Frame.of(poly)
    share_before = _share_function(poly, ctx, frame)
    s = _solve(share_before, share, frame.s0, frame.s1, ctx.grid)

    parts, lo, hi = _obstacle_extents(poly, ctx, frame)
    s = _avoid_obstacles(s, lo, hi, frame, share_before, share, OBSTACLE_SLACK / k, ctx.grid)

    half = frame.before(s)
    cut = [shapely.intersection(poly, half, grid_size=ctx.grid)]
    cut.append(shapely.difference(poly, half, grid_size=ctx.grid))
    before, after = polygonal(np.asarray(cut, dtype=object))
    crossed = parts[(lo < s - ctx.grid) & (hi > s + ctx.grid)]
    return _keep_whole(before, after, crossed, ctx.grid)


def _share_function(poly: Polygon, ctx: Context, frame: _Frame) -> Callable[[float], float]:
    """Share of ``poly``'s weight lying before offset ``s`` along the frame's long axis."""
    area_before = _area_profile(poly, frame.u)
    total_area = poly.area
    offsets = np.sort(ctx.points[ctx.inside(poly)] @ frame.u)
    total_weight = ctx.weight(total_area, len(offsets))
    # When the area cap drives the size (few objects, high balance), balance area instead.
    by_area = total_weight <= total_area / (AREA_CAP * ctx.target) or total_weight <= 0

    def share_before(s: float) -> float:
        area = area_before(s)
        if by_area:
            return area / total_area
        count = int(np.searchsorted(offsets, s))
        return ctx.weight(area, count) / total_weight

    return share_before


def _area_profile(poly: Polygon, u: np.ndarray) -> Callable[[float], float]:
    """Area of the part of ``poly`` whose offset along ``u`` is below ``s``, in closed form.

    Clipping the polygon at every bisection step was most of the running time. Instead: the
    polygon's width across ``u`` at offset ``s`` is a sum of linear terms, one per edge spanning
    ``s`` (+t on upper edges, −t on lower ones for counter-clockwise rings), so the area before
    ``s`` is piecewise quadratic between vertex offsets and integrates exactly.
    """
    v = np.array([-u[1], u[0]])
    oriented = shapely.orient_polygons(poly, exterior_cw=False)  # CCW shell, CW holes
    rings = [oriented.exterior, *oriented.interiors]
    origin = np.asarray(poly.bounds[:2])  # offsets near zero keep s² terms precise
    p_list, q_list = [], []
    for ring in rings:
        xy = np.asarray(ring.coords) - origin
        p_list.append(xy[:-1])
        q_list.append(xy[1:])
    p, q = np.vstack(p_list), np.vstack(q_list)
    sp, sq, tp, tq = p @ u, q @ u, p @ v, q @ v
    # Edges (almost) across the axis add no width; skipping them also avoids huge slopes.
    moving = np.abs(sq - sp) > 1e-6
    sp, sq, tp, tq = sp[moving], sq[moving], tp[moving], tq[moving]
    sign = -np.sign(sq - sp)  # moving backwards along u = upper edge of a CCW ring
    slope = (tq - tp) / (sq - sp)
    alpha, beta = sign * (tp - slope * sp), sign * slope  # width term = alpha + beta·s
    lo, hi = np.minimum(sp, sq), np.maximum(sp, sq)
    breaks = np.unique(np.concatenate([lo, hi]))
    d_alpha, d_beta = np.zeros(len(breaks)), np.zeros(len(breaks))
    i_lo, i_hi = np.searchsorted(breaks, lo), np.searchsorted(breaks, hi)
    np.add.at(d_alpha, i_lo, alpha)
    np.add.at(d_alpha, i_hi, -alpha)
    np.add.at(d_beta, i_lo, beta)
    np.add.at(d_beta, i_hi, -beta)
    a, b = np.cumsum(d_alpha)[:-1], np.cumsum(d_beta)[:-1]  # width on [breaks[k], breaks[k+1]]
    b0, b1 = breaks[:-1], breaks[1:]
    cumulative = np.concatenate([[0.0], np.cumsum(a * (b1 - b0) + b * (b1**2 - b0**2) / 2)])
    shift = float(origin @ u)

    def area_before(s: float) -> float:
        x = min(max(s - shift, breaks[0]), breaks[-1])
        k = min(int(np.searchsorted(breaks, x, side="right")) - 1, len(b0) - 1)
        return float(cumulative[k] + a[k] * (x - b0[k]) + b[k] * (x * x - b0[k] ** 2) / 2)

    return area_before


def _solve(fn: Callable[[float], float], goal: float, lo: float, hi: float, tol: float) -> float:
    """Bisection for ``fn(s) = goal`` on [lo, hi], ``fn`` non-decreasing, to within ``tol``."""
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if fn(mid) < goal:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _obstacle_extents(
    poly: Polygon, ctx: Context, frame: _Frame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Obstacle parts inside ``poly`` and their extent [lo, hi] along the long axis."""
    if not len(ctx.obstacles):
        return np.zeros(0, dtype=object), np.zeros(0), np.zeros(0)
    idx = np.sort(ctx.obstacle_tree.query(poly, predicate="intersects"))
    parts = ctx.obstacles[idx].copy()
    shapely.prepare(poly)
    straddling = ~shapely.contains_properly(poly, parts)
    if straddling.any():
        parts[straddling] = shapely.intersection(parts[straddling], poly, grid_size=ctx.grid)
        parts = polygonal(parts)
    parts = parts[shapely.area(parts) > ctx.grid * ctx.grid]
    if not len(parts):
        return parts, np.zeros(0), np.zeros(0)
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    offsets = coords @ frame.u
    lo = np.full(len(parts), np.inf)
    hi = np.full(len(parts), -np.inf)
    np.minimum.at(lo, owner, offsets)
    np.maximum.at(hi, owner, offsets)
    return parts, lo, hi


def _avoid_obstacles(
    s: float,
    lo: np.ndarray,
    hi: np.ndarray,
    frame: _Frame,
    share_before: Callable[[float], float],
    share: float,
    slack: float,
    grid: float,
) -> float:
    """Move the cut ``s`` to the nearest offset that crosses no obstacle, if balance allows.

    Obstacles blocking ``s`` are chained into one blocked stretch [a, b] (buildings sharing a
    wall block together); the cut may move to either end if the share stays within ``slack``.
    """
    blocked = (lo < s) & (hi > s)
    if not blocked.any():
        return s
    a, b = lo[blocked].min(), hi[blocked].max()
    while True:
        touching = (lo < b + grid) & (hi > a - grid)
        na, nb = min(a, lo[touching].min()), max(b, hi[touching].max())
        if (na, nb) == (a, b):
            break
        a, b = na, nb
    # Keep clear of the walls (up to CLEARANCE_M, never past half the gap to the next obstacle)
    # so that snapping to the precision grid cannot nick them.
    below, above = hi[hi <= a], lo[lo >= b]
    gap_below = a - (below.max() if len(below) else frame.s0)
    gap_above = (above.min() if len(above) else frame.s1) - b
    options = [a - min(CLEARANCE_M, gap_below / 2), b + min(CLEARANCE_M, gap_above / 2)]
    options = [c for c in options if frame.s0 < c < frame.s1]
    if not options:
        return s
    errors = [abs(share_before(c) - share) for c in options]
    best = int(np.argmin(errors))
    return float(options[best]) if errors[best] <= slack else s


def _keep_whole(
    before: BaseGeometry, after: BaseGeometry, crossed: np.ndarray, grid: float
) -> tuple[BaseGeometry, BaseGeometry]:
    """Give each obstacle the cut crossed wholly to the side that holds most of it."""
    for part in crossed:
        in_before = shapely.intersection(part, before).area
        in_after = part.area - in_before
        if min(in_before, in_after) <= grid * grid:
            continue  # an earlier move already put it on one side
        if in_before >= in_after:
            before, after = _move(part, after, before, grid)
        else:
            after, before = _move(part, before, after, grid)
    return before, after


def _move(
    part: BaseGeometry, source: BaseGeometry, target: BaseGeometry, grid: float
) -> tuple[BaseGeometry, BaseGeometry]:
    """Move ``part`` from ``source`` to ``target``; return (new target, new source)."""
    pair = np.asarray(
        [
            shapely.union(target, part, grid_size=grid),
            shapely.difference(source, part, grid_size=grid),
        ],
        dtype=object,
    )
    new_target, new_source = polygonal(pair)
    return new_target, new_source
