"""The demo district's outline and road network, in local metres.

Three layers, each drawn inside the faces of the one above, the way old Beijing grew:

* main roads (主干道): a perturbed, slightly curving net every 600–1000 m, some ending at a
  T-junction, plus a few diagonal or curving roads (斜街);
* secondary roads (次干道) cutting each arterial block into pieces of ~350 m;
* minor roads: east–west hutongs (胡同) every 60–95 m with short north–south lanes between them
  in the old core (some dead ends), wider estate roads in the periphery.

Blocks (街坊) are the faces of the noded network; every boundary above follows them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gridgov.demo import names
from gridgov.demo.shapes import GRID_SIZE, Frame, bezier, block_frame, wobbly_line

MAIN, SECONDARY, MINOR = "main", "secondary", "minor"

# Block characters (街坊类型) decide minor roads and buildings.
HUTONG = "hutong"  # 胡同四合院
COMPOUND = "compound"  # 小区
CORE_RADIUS = 0.72  # share of the half-size inside which hutongs dominate


@dataclass
class RoadDraft:
    name: str
    road_class: str
    width_m: float
    geom: LineString


@dataclass
class Network:
    outline: Polygon
    roads: list[RoadDraft]
    arterial_faces: list[Polygon]
    secondary_faces: list[Polygon]
    characters: list[str]  # per secondary face
    blocks: list[Polygon] = field(default_factory=list)


def build_network(side: float, rng: np.random.Generator) -> Network:
    """Outline, roads of every class and the blocks they cut, for a district ``side`` m across."""
    outline = make_outline(side, rng)
    main = main_roads(outline, side, rng)
    arterial = faces(outline, [r.geom for r in main])
    art_chars = [block_character(f, side, rng) for f in arterial]
    secondary: list[RoadDraft] = []
    for face, character in zip(arterial, art_chars, strict=True):
        secondary += secondary_roads(face, character, rng)
    sec_faces = faces(outline, [r.geom for r in main + secondary])
    parent = parent_index(sec_faces, arterial)
    characters = [_flip(art_chars[i], rng) for i in parent]
    minor: list[RoadDraft] = []
    for face, character in zip(sec_faces, characters, strict=True):
        minor += minor_roads(face, character, rng)
    roads = main + secondary + minor
    name_roads(roads, rng)
    net = Network(outline, roads, arterial, sec_faces, characters)
    net.blocks = faces(outline, [r.geom for r in roads])
    return net


def parent_index(children: list[Polygon], parents: list[Polygon]) -> list[int]:
    """For each child face, the index of the parent face holding its representative point."""
    tree = shapely.STRtree(parents)
    pts = shapely.point_on_surface(children)
    child_idx, parent_idx = tree.query(pts, predicate="within")
    out = [0] * len(children)
    for c, p in zip(child_idx, parent_idx, strict=True):
        out[int(c)] = int(p)
    return out


def _flip(character: str, rng: np.random.Generator) -> str:
    """A few blocks differ from their arterial block (a modern estate among the hutongs)."""
    if rng.random() < 0.1:
        return COMPOUND if character == HUTONG else HUTONG
    return character


def make_outline(side: float, rng: np.random.Generator) -> Polygon:
    """An irregular, roughly square outline ``side`` m across (about side² in area)."""
    n = 72
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    # a squircle, perturbed by a few smooth harmonics
    p = 6.0
    c, s = np.cos(theta), np.sin(theta)
    r = (np.abs(c) ** p + np.abs(s) ** p) ** (-1 / p)
    for k, amp in ((2, 0.05), (3, 0.04), (5, 0.025), (9, 0.012)):
        r *= 1 + amp * np.sin(k * theta + rng.uniform(0, 2 * math.pi))
    # rescale so the area is side²
    xy = np.column_stack([r * c, r * s])
    poly = Polygon(xy)
    xy *= side / math.sqrt(poly.area)
    return shapely.set_precision(Polygon(xy), GRID_SIZE)


def _positions(lo: float, hi: float, rng: np.random.Generator, gap: tuple[float, float]) -> list:
    out, x = [], lo + rng.uniform(0.3, 0.8) * gap[0]
    while x < hi:
        out.append(x)
        x += rng.uniform(*gap)
    return out


def main_roads(outline: Polygon, side: float, rng: np.random.Generator) -> list[RoadDraft]:
    """The arterial net: perturbed north–south and east–west lines plus diagonals."""
    half = side / 2 + 400
    gap = (620.0, 980.0)
    ns = [
        wobbly_line(
            (x, -half),
            (x + rng.normal(0, 150), half),
            rng,
            amplitude=rng.uniform(15, 60),
            wavelength=rng.uniform(1500, 4000),
            step=100,
        )
        for x in _positions(-half, half, rng, gap)
    ]
    ew = [
        wobbly_line(
            (-half, y),
            (half, y + rng.normal(0, 150)),
            rng,
            amplitude=rng.uniform(15, 60),
            wavelength=rng.uniform(1500, 4000),
            step=100,
        )
        for y in _positions(-half, half, rng, gap)
    ]
    ns = [_maybe_truncate(line, ew, rng) for line in ns]
    ew = [_maybe_truncate(line, ns, rng) for line in ew]
    diag = [_diagonal(side, ns + ew, rng) for _ in range(max(2, round(2 * side / 5000)))]
    out = []
    for line in ns + ew + diag:
        width = float(rng.choice([20.0, 24.0, 26.0, 30.0]))
        out += [RoadDraft("", MAIN, width, part) for part in _clip(line, outline, 200)]
    return out


def _maybe_truncate(
    line: LineString, crossing: list[LineString], rng: np.random.Generator
) -> LineString:
    """One line in five stops at a crossing main road (a T-junction)."""
    if rng.random() > 0.2 or len(crossing) < 3:
        return line
    k = int(rng.integers(1, len(crossing) - 1))
    hit = line.intersection(crossing[k])
    if not isinstance(hit, Point):
        return line
    s = line.project(hit)
    return substring(line, 0, s) if rng.random() < 0.5 else substring(line, s, line.length)


def _diagonal(side: float, net: list[LineString], rng: np.random.Generator) -> LineString:
    """A gently curving road (斜街) from beyond the outline to a T-junction with a main road."""
    angle = rng.uniform(math.radians(25), math.radians(60)) * rng.choice([-1, 1])
    angle += rng.choice([0, math.pi / 2])
    length = side * 1.6
    c = rng.uniform(-0.4, 0.4, 2) * side
    d = np.array([math.cos(angle), math.sin(angle)])
    nrm = np.array([-d[1], d[0]])
    bend = rng.uniform(-0.1, 0.1) * length
    curve = bezier(np.array([c - d * length / 2, c + nrm * bend, c + d * length / 2]), 80)
    # stop at the first main road after a random share of the way
    stop = curve.length * rng.uniform(0.45, 0.65)
    hits = [
        curve.project(p)
        for p in shapely.get_parts(curve.intersection(shapely.MultiLineString(net)))
        if isinstance(p, Point)
    ]
    after = sorted(h for h in hits if h > stop)
    end = after[0] if after else curve.length
    return substring(curve, 0, end)


def _clip(line: BaseGeometry, area: Polygon, min_length: float) -> list[LineString]:
    clipped = line.intersection(area)
    parts = [g for g in shapely.get_parts(shapely.line_merge(clipped)) if g.length >= min_length]
    return [g for g in parts if isinstance(g, LineString)]


def faces(outline: Polygon, lines: list[LineString]) -> list[Polygon]:
    """The faces cut out of ``outline`` by ``lines`` (noded on a 1 cm grid), largest first."""
    noded = shapely.union_all([outline.exterior, *lines], grid_size=GRID_SIZE)
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inside = shapely.contains(outline, shapely.point_on_surface(polys))
    keep = [p for p, ok in zip(polys, inside, strict=True) if ok and p.area > 1.0]
    return sorted(keep, key=lambda p: (-round(p.area, 3), p.centroid.x, p.centroid.y))


def secondary_roads(face: Polygon, character: str, rng: np.random.Generator) -> list[RoadDraft]:
    """Secondary roads across an arterial block: irregular spacing, some ending at a T.

    Hutong blocks only get roads across the hutongs (north–south), far apart; estate blocks get
    both directions every ~250–500 m.
    """
    frame, length, width = block_frame(face, prefer_east_west=character == HUTONG)
    out: list[RoadDraft] = []
    directions = [(True, length, width)]
    if character != HUTONG:
        directions.append((False, width, length))
    spacing = (380.0, 650.0) if character == HUTONG else (250.0, 500.0)
    for along, span, other in directions:
        n = max(0, round(span / rng.uniform(*spacing)) - 1)
        for k in range(n):
            pos = ((k + 1) / (n + 1) - 0.5) * span + rng.normal(0, span / (n + 1) / 5)
            reach = other / 2 + 300
            lo, hi = -reach, reach
            if rng.random() < 0.3:  # stops halfway: a T-junction with another road
                cut = rng.uniform(0.45, 0.7) * 2 * reach
                lo, hi = (lo, lo + cut) if rng.random() < 0.5 else (hi - cut, hi)
            tilt = rng.normal(0, 0.08) * (hi - lo)
            local = wobbly_line(
                (pos, lo),
                (pos + tilt, hi),
                rng,
                amplitude=rng.uniform(3, 15),
                wavelength=600,
                step=40,
            )
            xy = np.asarray(local.coords)
            if not along:
                xy = xy[:, ::-1]
            world = LineString(frame.to_world(xy))
            width_m = float(rng.choice([12.0, 14.0, 16.0]))
            out += [RoadDraft("", SECONDARY, width_m, g) for g in _clip(world, face, 80)]
    return out


def block_character(face: Polygon, side: float, rng: np.random.Generator) -> str:
    """Hutongs in the old core, compounds (小区) outside, with a soft, noisy border."""
    c = face.centroid
    r = max(abs(c.x), abs(c.y) * 1.15) / (side / 2)
    p_hutong = 1 / (1 + math.exp((r - CORE_RADIUS) / 0.06))
    p_hutong = 0.05 + 0.9 * p_hutong
    return HUTONG if rng.random() < p_hutong else COMPOUND


def minor_roads(face: Polygon, character: str, rng: np.random.Generator) -> list[RoadDraft]:
    if face.area < 8_000:
        return []
    frame, length, width = block_frame(face, prefer_east_west=character == HUTONG)
    if character == HUTONG:
        return list(_hutongs(face, frame, length, width, rng))
    return list(_estate_roads(face, frame, length, width, rng))


def _local_line(frame: Frame, pts: list[tuple[float, float]]) -> LineString:
    return LineString(frame.to_world(np.asarray(pts, dtype=float)))


def _hutongs(
    face: Polygon, frame: Frame, length: float, width: float, rng: np.random.Generator
) -> Iterator[RoadDraft]:
    """East–west hutongs every 60–95 m, some dead ends, short lanes joining neighbours."""
    half_u, half_v = length / 2 + 30, width / 2
    vs, v = [], -half_v + rng.uniform(45, 80)
    while v < half_v - 40:
        vs.append(v)
        v += rng.uniform(60, 95)
    lines: list[LineString | None] = []
    for v in vs:
        xs = np.linspace(-half_u, half_u, max(3, int(2 * half_u / 45)))
        ys = v + np.cumsum(rng.normal(0, 1.6, len(xs)))
        ys -= ys.mean() - v
        pts = list(zip(xs, ys, strict=True))
        if rng.random() < 0.22:  # dead end (死胡同) entered from one side
            cut = int(len(pts) * rng.uniform(0.35, 0.75))
            pts = pts[:cut] if rng.random() < 0.5 else pts[-cut:]
        if rng.random() < 0.06 or len(pts) < 2:
            lines.append(None)
            continue
        line = _local_line(frame, pts)
        lines.append(line)
        width_m = float(rng.choice([4.0, 5.0, 6.0, 7.0]))
        yield from (RoadDraft("", MINOR, width_m, g) for g in _clip(line, face, 25))
    # north–south lanes (巷) between neighbouring hutongs
    for a, b in itertools.pairwise(lines):
        if a is None or b is None:
            continue
        for _ in range(int(rng.poisson(length / 260))):
            u = rng.uniform(-length / 2 + 20, length / 2 - 20)
            probe = _local_line(frame, [(u, -half_v - 200), (u, half_v + 200)])
            pa, pb = probe.intersection(a), probe.intersection(b)
            if isinstance(pa, Point) and isinstance(pb, Point) and face.contains(pa):
                lane = LineString([pa, pb])
                if face.contains(lane.interpolate(0.5, normalized=True)):
                    yield RoadDraft("", MINOR, float(rng.choice([3.0, 4.0])), lane)


def _estate_roads(
    face: Polygon, frame: Frame, length: float, width: float, rng: np.random.Generator
) -> Iterator[RoadDraft]:
    """Estate roads every ~150–220 m in the periphery; a quarter are cul-de-sacs."""
    for along, span, other in ((True, length, width), (False, width, length)):
        n = max(0, round(span / rng.uniform(150, 230)) - 1)
        for k in range(n):
            pos = (k + 1) / (n + 1) * span - span / 2 + rng.normal(0, 12)
            reach = other / 2 + 50
            lo, hi = -reach, reach
            if rng.random() < 0.25:
                cut = rng.uniform(0.3, 0.7) * 2 * reach
                lo, hi = (lo, lo + cut) if rng.random() < 0.5 else (hi - cut, hi)
            pts = [(pos, lo), (pos, hi)] if along else [(lo, pos), (hi, pos)]
            line = _local_line(frame, pts)
            width_m = float(rng.choice([7.0, 8.0, 10.0]))
            yield from (RoadDraft("", MINOR, width_m, g) for g in _clip(line, face, 40))


def name_roads(roads: list[RoadDraft], rng: np.random.Generator) -> None:
    """Give every road a unique Chinese name; long main roads change name every ~2.5 km."""
    bases = names.main_road_bases(rng)
    secondary = names.secondary_road_names(rng)
    minor = names.minor_road_names(rng)
    split: list[RoadDraft] = []
    for road in roads:
        if road.road_class == MAIN:
            split += _name_main(road, bases, rng)
        else:
            pool = secondary if road.road_class == SECONDARY else minor
            road.name = pool.take()
            split.append(road)
    roads[:] = split


def _name_main(road: RoadDraft, bases: names.NamePool, rng: np.random.Generator) -> list:
    line = road.geom
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    dx, dy = x1 - x0, y1 - y0
    straight = abs(dx) < 0.35 * abs(dy) or abs(dy) < 0.35 * abs(dx)
    n = max(1, round(line.length / 2500))
    if n == 1 and line.length > 1500 and straight:
        n = 2
    cuts = np.linspace(0, line.length, n + 1)
    # walk north→south or west→east so 北/西 come first
    forward = (dy < 0) if abs(dy) > abs(dx) else (dx > 0)
    pair_bases = [bases.take() for _ in range((n + 1) // 2)]
    out = []
    for i in range(n):
        piece = substring(line, cuts[i], cuts[i + 1])
        k = i if forward else n - 1 - i
        base = pair_bases[k // 2]
        if not straight:
            name = base + str(rng.choice(names.MAIN_SUFFIXES_OTHER))
            if i:
                name = bases.take() + str(rng.choice(names.MAIN_SUFFIXES_OTHER))
        elif n == 1:
            name = base + "大街"
        else:
            pair = names.MAIN_SUFFIXES_NS if abs(dy) > abs(dx) else names.MAIN_SUFFIXES_EW
            name = base + pair[k % 2]
        out.append(RoadDraft(name, MAIN, road.width_m, piece))
    return out


__all__ = ["COMPOUND", "HUTONG", "MAIN", "MINOR", "SECONDARY", "Network", "RoadDraft"]
