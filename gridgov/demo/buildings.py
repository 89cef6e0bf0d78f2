"""Building footprints (楼栋) inside the blocks of the demo network, in local metres.

Each block is laid out in its own frame (aligned with its roads, ``u`` roughly east–west):

* hutong blocks: courtyard lots (四合院) of 13–24 × 26–38 m, each with a north house (正房),
  wings (厢房) and a south house (倒座房), some crowded (大杂院), some rebuilt as a small block;
* compound blocks (小区): rows of slab buildings (板楼) or towers (塔楼), a few L-shaped;
* special blocks: schools, hospitals, offices and shops along main roads, parks left empty.

Buildings keep a setback from every road (more from wide roads) and never leave their block.
Buildings are grouped into addressable *places* (a courtyard, a compound, an institution) that
:mod:`gridgov.demo.addresses` numbers along the roads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from gridgov.demo.roads import COMPOUND, HUTONG, MAIN, MINOR, Network, RoadDraft
from gridgov.demo.shapes import GRID_SIZE, Frame, block_frame, rectangles

RESIDENTIAL, SHOP, OFFICE, SCHOOL, HOSPITAL, PUBLIC = (
    "住宅",
    "商业",
    "办公",
    "学校",
    "医院",
    "公共服务",
)

COURTYARD, ESTATE, INSTITUTION = "courtyard", "estate", "institution"

_IDENTITY = Frame(0.0, 0.0, 0.0)


@dataclass
class BuildingDraft:
    geom: Polygon
    use: str
    floors: int
    place: int  # index into the places list
    label: str  # 正房, 东厢房 … for courtyards; empty otherwise


@dataclass
class Place:
    """An addressable group of buildings: a courtyard (院), a compound (小区), an institution."""

    kind: str
    block: int
    anchor: tuple[float, float]  # a point inside, used to find its road and door number
    use: str = RESIDENTIAL
    name: str = ""  # compound or institution name; filled by the caller
    buildings: list[int] = field(default_factory=list)


def setback(road: RoadDraft) -> float:
    """Distance from the road edge to the nearest facade."""
    if road.road_class == MAIN:
        return 6.0
    if road.road_class == MINOR and road.width_m <= 7:
        return 0.6  # courtyard walls line the hutong
    return 3.5


def buildable_areas(net: Network) -> list[Polygon]:
    """Each block minus its roads (half width + setback), as polygons in local metres."""
    bufs = np.array(
        [r.geom.buffer(r.width_m / 2 + setback(r), quad_segs=4) for r in net.roads], dtype=object
    )
    tree = shapely.STRtree(bufs)
    blocks = np.asarray(net.blocks, dtype=object)
    bi, ri = tree.query(blocks, predicate="intersects")
    hits: dict[int, list[int]] = defaultdict(list)
    for b, r in zip(bi, ri, strict=True):
        hits[int(b)].append(int(r))
    out = []
    for b, block in enumerate(net.blocks):
        if b in hits:
            cut = shapely.difference(block, shapely.union_all(bufs[hits[b]]))
            out.append(cut)
        else:
            out.append(block)
    return out


def place_buildings(
    net: Network,
    block_characters: list[str],
    block_roads: list[set[str]],
    rng: np.random.Generator,
) -> tuple[list[BuildingDraft], list[Place]]:
    """Buildings and places for every block of ``net``."""
    areas = buildable_areas(net)
    buildings: list[BuildingDraft] = []
    places: list[Place] = []
    for b, area in enumerate(areas):
        if area.is_empty or area.area < 150:
            continue
        kind = _block_use(block_characters[b], block_roads[b], net.blocks[b].area, rng)
        frame, _, _ = block_frame(net.blocks[b], prefer_east_west=True)
        local = frame.to_local(area)
        shapely.prepare(local)
        _add(b, list(_LAYOUTS[kind](local, rng)), local, frame, buildings, places)
    return buildings, places


def _block_use(character: str, roads: set[str], area: float, rng: np.random.Generator) -> str:
    r = rng.random()
    if area > 12_000 and r < 0.035:
        return "school"
    if area > 15_000 and r < 0.05:
        return "hospital"
    if area > 8_000 and r < 0.075:
        return "park"
    if MAIN in roads and rng.random() < (0.08 if character == HUTONG else 0.18):
        return "office"
    return "courtyards" if character == HUTONG else "estate"


Boxes = list[tuple[tuple[float, float, float, float], str, int, str]]  # box, use, floors, label


def _add(
    block: int,
    laid_out: list[tuple[Place, Boxes]],
    local: Polygon,
    frame: Frame,
    buildings: list[BuildingDraft],
    places: list[Place],
) -> None:
    """Keep the boxes that fit in the block's buildable area; register places that keep any."""
    owner = [i for i, (_, boxes) in enumerate(laid_out) for _ in boxes]
    flat = [box for _, boxes in laid_out for box in boxes]
    if not flat:
        return
    arr = np.array([b[0] for b in flat], dtype=float)
    ok = shapely.contains(local, rectangles(_IDENTITY, arr))
    if not ok.any():
        return
    world = rectangles(frame, arr[ok], snap=GRID_SIZE)
    kept = np.flatnonzero(ok)
    owners = np.asarray(owner)[kept]
    place_of: dict[int, int] = {}
    for geom, k in zip(world, kept, strict=True):
        i = owner[k]
        if i not in place_of:
            place = laid_out[i][0]
            place.block = block
            place_of[i] = len(places)
            places.append(place)
        p = place_of[i]
        _, use, floors, label = flat[k]
        places[p].buildings.append(len(buildings))
        buildings.append(BuildingDraft(geom, use, floors, p, label))
    # anchor: the middle of the place's kept buildings
    centre = np.column_stack([arr[ok][:, [0, 2]].mean(1), arr[ok][:, [1, 3]].mean(1)])
    uniq, counts = np.unique(owners, return_counts=True)
    sums = np.zeros((len(laid_out), 2))
    np.add.at(sums, owners, centre)
    mids = frame.to_world(sums[uniq] / counts[:, None])
    for i, (x, y) in zip(uniq, mids, strict=True):
        places[place_of[int(i)]].anchor = (float(x), float(y))


# -- layouts: each yields (place, boxes in the block frame) ------------------------------------


def _courtyards(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    """Courtyard lots (四合院) in rows, back to back between the hutongs."""
    u0, v0, u1, v1 = local.bounds
    v = v0 + rng.uniform(0, 3)
    while v < v1 - 12:
        depth = rng.uniform(26, 38)
        u = u0 + rng.uniform(0, 4)
        while u < u1 - 8:
            width = rng.uniform(13, 24)
            yield Place(COURTYARD, -1, (0, 0)), _courtyard((u, v, u + width, v + depth), rng)
            u += width
        v += depth


def _courtyard(lot: tuple[float, float, float, float], rng: np.random.Generator) -> Boxes:
    a, b, c, d = lot
    w, h = c - a, d - b
    r = rng.random()
    if r < 0.15:  # rebuilt as one small modern building
        return [((a + 1.5, b + 1.5, c - 1.5, d - 1.5), RESIDENTIAL, int(rng.integers(2, 4)), "")]
    north = ((a + 0.8, d - 0.8 - rng.uniform(6, 8), c - 0.8, d - 0.8), RESIDENTIAL, 1, "正房")
    out: Boxes = [north]
    if h > 22:
        out.append(
            ((a + 0.8, b + 0.8, c - 0.8, b + 0.8 + rng.uniform(4.5, 5.5)), RESIDENTIAL, 1, "倒座房")
        )
    mid0, mid1 = b + 8, d - 10
    if w > 15.5 and mid1 - mid0 > 6:
        wing = rng.uniform(4, 5)
        out.append(((c - 0.8 - wing, mid0, c - 0.8, mid1), RESIDENTIAL, 1, "东厢房"))
        out.append(((a + 0.8, mid0, a + 0.8 + wing, mid1), RESIDENTIAL, 1, "西厢房"))
    if r > 0.88 and w > 15:  # 大杂院: a shed built into the courtyard
        cx = (a + c) / 2
        out.append(((cx - 2.5, mid0 + 1, cx + 2.5, mid0 + 4), RESIDENTIAL, 1, "加建房"))
    if rng.random() < 0.12:  # a shop on the lane
        out[0] = (out[0][0], SHOP, 1, out[0][3])
    return out


def _estate(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    """A residential compound (小区): slab rows (板楼) or towers (塔楼)."""
    u0, v0, u1, v1 = local.bounds
    style = rng.choice(["old_slab", "high_slab", "tower"], p=[0.5, 0.3, 0.2])
    boxes: Boxes = []
    if style == "tower":
        size, pitch_u, pitch_v = rng.uniform(20, 26), rng.uniform(40, 55), rng.uniform(45, 60)
        floors = (16, 30)
        length, depth = size, size
    elif style == "high_slab":
        length, depth = rng.uniform(50, 80), rng.uniform(13, 16)
        pitch_u, pitch_v = length + rng.uniform(12, 20), depth + rng.uniform(26, 36)
        floors = (9, 19)
    else:
        length, depth = rng.uniform(40, 66), rng.uniform(10, 12.5)
        pitch_u, pitch_v = length + rng.uniform(8, 16), depth + rng.uniform(16, 24)
        floors = (5, 7)
    v = v0 + rng.uniform(1, 6)
    while v + depth < v1:
        u = u0 + rng.uniform(1, 10)
        while u + length < u1 + length * 0.5:
            ln = min(length * rng.uniform(0.8, 1.1), u1 - u - 0.5)
            if ln > 0.45 * length:
                boxes.append(
                    ((u, v, u + ln, v + depth), RESIDENTIAL, int(rng.integers(*floors)), "")
                )
            u += pitch_u
        v += pitch_v
    if boxes and rng.random() < 0.6:  # a low service building (配套) in a corner
        boxes.append(((u0 + 1, v1 - 13, u0 + 21, v1 - 1), PUBLIC, 2, ""))
    yield Place(ESTATE, -1, (0, 0)), boxes


def _office(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    """Offices and shops along a main road: big footprints, one place each."""
    u0, v0, u1, v1 = local.bounds
    v = v0 + 1
    while v < v1 - 15:
        depth = rng.uniform(18, 40)
        u = u0 + 1
        while u < u1 - 15:
            width = rng.uniform(25, 60)
            use = SHOP if rng.random() < 0.45 else OFFICE
            floors = int(rng.integers(3, 8)) if use == SHOP else int(rng.integers(6, 26))
            yield (
                Place(INSTITUTION, -1, (0, 0), use),
                [((u, v, u + width, v + depth), use, floors, "")],
            )
            u += width + rng.uniform(10, 25)
        v += depth + rng.uniform(12, 25)


def _school(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    """A school: teaching building, a second block, the rest is playground."""
    u0, v0, u1, v1 = local.bounds
    boxes: Boxes = [
        ((u0 + 2, v1 - 18, u0 + 2 + min(70, u1 - u0 - 4), v1 - 2), SCHOOL, 4, ""),
        ((u0 + 2, v0 + 2, u0 + 20, v0 + 40), SCHOOL, 3, ""),
        ((u1 - 32, v0 + 2, u1 - 2, v0 + 20), SCHOOL, 2, ""),
    ]
    yield Place(INSTITUTION, -1, (0, 0), SCHOOL), boxes


def _hospital(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    u0, v0, u1, v1 = local.bounds
    cu = (u0 + u1) / 2
    boxes: Boxes = [
        ((cu - 35, v1 - 30, cu + 35, v1 - 4), HOSPITAL, int(rng.integers(6, 14)), ""),
        ((cu - 25, v0 + 4, cu + 5, v0 + 40), HOSPITAL, int(rng.integers(4, 9)), ""),
        ((cu + 12, v0 + 4, cu + 40, v0 + 24), HOSPITAL, 3, ""),
    ]
    yield Place(INSTITUTION, -1, (0, 0), HOSPITAL), boxes


def _park(local: Polygon, rng: np.random.Generator) -> Iterator[tuple[Place, Boxes]]:
    c = local.representative_point()
    yield (
        Place(INSTITUTION, -1, (0, 0), PUBLIC),
        [((c.x - 5, c.y - 4, c.x + 5, c.y + 4), PUBLIC, 1, "")],
    )


_LAYOUTS = {
    "courtyards": _courtyards,
    "estate": _estate,
    "office": _office,
    "school": _school,
    "hospital": _hospital,
    "park": _park,
}

__all__ = ["COMPOUND", "BuildingDraft", "Place", "buildable_areas", "place_buildings"]
