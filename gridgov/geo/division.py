"""Cut a community into unit grids (单元网格划分) and number them in reading order.

The cut follows CJ/T 213's rules of thumb: grids follow roads, rivers and walls first, are about
``target_area_m2`` each, are balanced by the objects they hold (buildings, components), never cut a
building, and tile the community with no gaps and no overlaps.

Pipeline, all in the community's local projected CRS (metres):

1. blocks: polygonize the community boundary noded with the dividing lines;
2. split blocks that are too big with straight cuts across their long axis, at the offset that
   balances area and object count; shift the cut into a gap between buildings when that costs
   little balance, else move each building the cut crosses wholly to the side holding most of it;
3. merge pieces that are too small, tiny slivers and thin strips (e.g. between two carriageways)
   into the neighbour sharing the longest boundary;
4. re-node all pieces on a fixed precision grid so shared edges match exactly, then unproject
   and sort in numbering order.

Everything here is pure: no database, deterministic for a given input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gridgov.geo.projection import LocalProjection

# Sizes are in "grids": 1.0 is one target grid (see _Context.size).
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
_MAX_DEPTH = 40


@dataclass
class _Context:
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


# ---------------------------------------------------------------------------------------------
# Public API


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
    area_m = _clean_area(proj.project(area), grid)
    if area_m.is_empty:
        return []
    ctx = _context(area_m, proj, obstacles, objects, target_area_m2, balance, grid)

    pieces: list[Polygon] = []
    lines_m = proj.project(np.asarray(lines, dtype=object))
    for block in _blocks(area_m, lines_m, grid):
        pieces.extend(_split(block, ctx))
    pieces = _merge_small(pieces, ctx, resplit=True)
    pieces = _renode(pieces, area_m, grid)
    pieces = _merge_small(pieces, ctx, resplit=False)  # parts the re-noding cut off (rare)

    out = [_as_polygon(g) for g in _unproject_onto(area, pieces, proj, 3 * grid)]
    return [out[i] for i in reading_order(out)]


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


def check_tiling(area: Polygon, grids: Sequence[Polygon], tolerance_m: float = 0.05) -> list[str]:
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


# ---------------------------------------------------------------------------------------------
# Inputs


def _clean_area(area_m: BaseGeometry, grid: float) -> Polygon:
    """The community as one valid polygon on the precision grid (largest part if it falls apart)."""
    parts = _polygons(shapely.set_precision(shapely.make_valid(area_m), grid))
    return max(parts, key=lambda p: p.area) if parts else Polygon()


def _context(
    area_m: Polygon,
    proj: LocalProjection,
    obstacles: Sequence[Polygon],
    objects: Sequence[BaseGeometry],
    target: float,
    balance: float,
    grid: float,
) -> _Context:
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
        obs = _polygonal(obs)
        obs = obs[shapely.area(obs) > grid * grid]
    expected_grids = max(area_m.area / target, 1.0)
    return _Context(
        target=target,
        balance=balance,
        per_grid=len(points) / expected_grids,
        grid=grid,
        points=points,
        point_tree=shapely.STRtree(shapely.points(points)),
        obstacles=obs,
        obstacle_tree=shapely.STRtree(obs),
    )


def _blocks(area_m: Polygon, lines_m: Sequence[BaseGeometry], grid: float) -> list[Polygon]:
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


# ---------------------------------------------------------------------------------------------
# Step 2: split


def _split(poly: Polygon, ctx: _Context, depth: int = 0) -> list[Polygon]:
    """Recursively bisect ``poly`` until no piece is worth more than SPLIT_ABOVE grids."""
    size = ctx.size(poly)
    if size <= SPLIT_ABOVE or depth > _MAX_DEPTH:
        return [poly]
    k = max(2, round(size))
    left, right = _bisect(poly, ctx, (k // 2) / k, k)
    if left.area < ctx.grid or right.area < ctx.grid:
        return [poly]  # nowhere to cut: one building fills the block, keep it whole and big
    out: list[Polygon] = []
    for part in _polygons(left) + _polygons(right):
        out.extend(_split(part, ctx, depth + 1))
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


def _bisect(
    poly: Polygon, ctx: _Context, share: float, k: int
) -> tuple[BaseGeometry, BaseGeometry]:
    """Cut ``poly`` across its long axis so that ``share`` of its weight lies before the cut."""
    frame = _Frame.of(poly)
    share_before = _share_function(poly, ctx, frame)
    s = _solve(share_before, share, frame.s0, frame.s1, ctx.grid)

    parts, lo, hi = _obstacle_extents(poly, ctx, frame)
    s = _avoid_obstacles(s, lo, hi, frame, share_before, share, OBSTACLE_SLACK / k, ctx.grid)

    half = frame.before(s)
    cut = [shapely.intersection(poly, half, grid_size=ctx.grid)]
    cut.append(shapely.difference(poly, half, grid_size=ctx.grid))
    before, after = _polygonal(np.asarray(cut, dtype=object))
    crossed = parts[(lo < s - ctx.grid) & (hi > s + ctx.grid)]
    return _keep_whole(before, after, crossed, ctx.grid)


def _share_function(poly: Polygon, ctx: _Context, frame: _Frame) -> Callable[[float], float]:
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
    poly: Polygon, ctx: _Context, frame: _Frame
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
        parts = _polygonal(parts)
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
    new_target, new_source = _polygonal(pair)
    return new_target, new_source


# ---------------------------------------------------------------------------------------------
# Step 3: merge


def _merge_small(pieces: Sequence[Polygon], ctx: _Context, *, resplit: bool) -> list[Polygon]:
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
        merged = _polygons(_union(board.polys[i], board.polys[j], ctx.grid, matched=not resplit))
        oversized = ctx.size(merged[0]) > SPLIT_ABOVE and len(merged) == 1
        if resplit and oversized and not board.slivers[i]:
            merged = _split(merged[0], ctx)
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

    def __init__(self, ctx: _Context) -> None:
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


def _is_sliver(poly: Polygon, ctx: _Context) -> bool:
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


# ---------------------------------------------------------------------------------------------
# Step 4: clean


def _renode(pieces: Sequence[Polygon], area_m: Polygon, grid: float) -> list[Polygon]:
    """Rebuild the pieces from one snap-rounded noding of all their edges.

    Cuts end on a neighbour's edge without a vertex there (a T-junction); after snapping to the
    precision grid such a vertex sits a few millimetres off the edge. Noding every edge together
    on the grid puts the vertex into both pieces, so shared edges match exactly.
    """
    arr = np.asarray(pieces, dtype=object)
    edges = shapely.union_all([*shapely.boundary(arr), area_m.boundary], grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    reps = shapely.point_on_surface(faces)
    keep = shapely.contains(area_m, reps)
    faces, reps = faces[keep], reps[keep]

    tree = shapely.STRtree(arr)
    owner = np.full(len(faces), -1)
    face_idx, piece_idx = tree.query(reps, predicate="within")
    for f, p in sorted(zip(face_idx, piece_idx, strict=True), reverse=True):
        owner[f] = p  # reverse order: the lowest piece index wins an overlap
    orphans = np.flatnonzero(owner < 0)
    if len(orphans):
        # Gaps from snapping go to the nearest piece.
        f_idx, p_idx = tree.query_nearest(reps[orphans], all_matches=False)
        owner[orphans[f_idx]] = p_idx

    out: list[Polygon] = []
    for p in range(len(arr)):
        mine = faces[owner == p]
        if len(mine):
            # Coverage union: faces share noded edges exactly, and unlike a general overlay it
            # keeps the vertex where a neighbour's edge ends, so neighbours stay edge-matched.
            out.extend(_polygons(shapely.coverage_union_all(mine)))
    return out


def _unproject_onto(
    area: Polygon, pieces: Sequence[Polygon], proj: LocalProjection, tol: float
) -> np.ndarray:
    """Unproject ``pieces``, putting vertices on the community's edge back onto its lon/lat edges.

    An edge straight in lon/lat is slightly curved in metres, so vertices unprojected from the
    straight metric edge miss the community polygon by centimetres: square metres of "gap" and
    "outside" for a topology check run in lon/lat. Each vertex within ``tol`` of the projected
    edge is placed at the same fraction along the original lon/lat edge instead. The mapping
    depends on the coordinates alone, so neighbours sharing a vertex still share it.
    """
    rings = [area.exterior, *area.interiors] if area.geom_type == "Polygon" else []
    if not rings:
        return np.asarray(proj.unproject(np.asarray(pieces, dtype=object)))
    ll_a = np.vstack([np.asarray(r.coords)[:-1] for r in rings])
    ll_b = np.vstack([np.asarray(r.coords)[1:] for r in rings])
    m_a = shapely.get_coordinates(proj.project(shapely.points(ll_a)))
    m_b = shapely.get_coordinates(proj.project(shapely.points(ll_b)))
    edges = shapely.STRtree(shapely.linestrings(np.stack([m_a, m_b], axis=1)))

    corners = shapely.STRtree(shapely.points(m_a))

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lonlat = shapely.get_coordinates(proj.unproject(shapely.points(xy)))
        points = shapely.points(xy)
        # Along an edge: the same fraction of the lon/lat edge.
        vertex, edge = edges.query_nearest(points, max_distance=tol)
        vertex, first = np.unique(vertex, return_index=True)  # one edge per vertex
        edge = edge[first]
        d = m_b[edge] - m_a[edge]
        length2 = np.einsum("ij,ij->i", d, d)
        along = np.einsum("ij,ij->i", xy[vertex] - m_a[edge], d) / np.where(length2, length2, 1)
        t = np.clip(along, 0, 1)[:, None]
        lonlat[vertex] = ll_a[edge] + t * (ll_b[edge] - ll_a[edge])
        # At a corner: the corner itself (snapping moved it a few mm off both edges).
        vertex, corner = corners.query_nearest(points, max_distance=tol, all_matches=False)
        lonlat[vertex] = ll_a[corner]
        return lonlat

    return np.asarray(shapely.transform(np.asarray(pieces, dtype=object), to_lonlat))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygon parts of ``geom`` (collections flattened), largest first."""
    parts: list[Polygon] = []
    for g in shapely.get_parts(geom):
        if g.geom_type == "Polygon":
            if g.area > 0:
                parts.append(g)
        elif g.geom_type in ("MultiPolygon", "GeometryCollection"):
            parts.extend(_polygons(g))
    return sorted(parts, key=lambda g: -g.area)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop the points and lines that fixed-precision overlays can leave in a collection."""
    out = geoms.copy()
    for n, g in enumerate(geoms):
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            parts = _polygons(g)
            out[n] = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return out


def _as_polygon(geom: BaseGeometry) -> Polygon:
    """``geom`` as one valid Polygon (its largest part if unprojecting made it invalid)."""
    if geom.geom_type == "Polygon" and geom.is_valid:
        return geom
    return _polygons(shapely.make_valid(geom))[0]
