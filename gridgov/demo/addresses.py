"""Door plates (门牌) and building names for the demo district, in local metres.

Every place (courtyard, compound, institution) gets a number on the nearest road bordering its
block: odd numbers on the left of the road's direction, even on the right, increasing along the
road (with the odd skipped number, as in real streets). The plate point lies on the road side.
Buildings are named after their place: ``炒豆胡同12号院正房``, ``和平北里3号楼``,
``东华区第三中学2号楼``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point

from gridgov.demo import names
from gridgov.demo.buildings import (
    COURTYARD,
    ESTATE,
    HOSPITAL,
    PUBLIC,
    SCHOOL,
    SHOP,
    BuildingDraft,
    Place,
)
from gridgov.demo.roads import RoadDraft

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 23 → 二十三; Arabic digits from 1000 on."""
    if n >= 1000:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        head = "" if tens == 1 else _DIGITS[tens]
        return head + "十" + (_DIGITS[ones] if ones else "")
    hundreds, rest = divmod(n, 100)
    tail = "" if not rest else ("零" if rest < 10 else "") + chinese_number(rest)
    if 10 <= rest < 20:
        tail = "一" + tail
    return _DIGITS[hundreds] + "百" + tail


@dataclass
class Plate:
    road: int
    number: int
    x: float
    y: float


@dataclass
class Named:
    """Names and addresses produced for the buildings and places."""

    plates: list[Plate]  # one per place
    building_names: list[str]
    building_addresses: list[str]  # without the city/district prefix
    building_entries: list[str]  # gazetteer text of each building, without the prefix


def number_places(
    places: list[Place],
    roads: list[RoadDraft],
    block_roads: list[list[int]],
    rng: np.random.Generator,
) -> list[Plate]:
    """A door plate for each place on the nearest road bordering its block."""
    picks: list[tuple[int, float, int]] = []  # road, distance along, side (+1 left / -1 right)
    for place in places:
        candidates = block_roads[place.block] or list(range(len(roads)))
        anchor = Point(place.anchor)
        dists = [roads[r].geom.distance(anchor) for r in candidates]
        road = candidates[int(np.argmin(dists))]
        line = roads[road].geom
        s = line.project(anchor)
        picks.append((road, s, _side(line, s, anchor)))
    by_side: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, (road, _, side) in enumerate(picks):
        by_side[(road, side)].append(i)
    numbers = [0] * len(places)
    for (_, side), members in sorted(by_side.items()):
        members.sort(key=lambda i: (picks[i][1], i))
        n = 1 if side > 0 else 2
        for i in members:
            numbers[i] = n
            n += 2 * (2 if rng.random() < 0.08 else 1)
    plates = []
    for i, (road, s, side) in enumerate(picks):
        x, y = _offset_point(roads[road], s, side)
        plates.append(Plate(road, numbers[i], x, y))
    return plates


def _side(line: shapely.LineString, s: float, p: Point) -> int:
    a = line.interpolate(max(0.0, s - 1.0))
    b = line.interpolate(min(line.length, s + 1.0))
    cross = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
    return 1 if cross >= 0 else -1


def _offset_point(road: RoadDraft, s: float, side: int) -> tuple[float, float]:
    line = road.geom
    a = line.interpolate(max(0.0, s - 1.0))
    b = line.interpolate(min(line.length, s + 1.0))
    dx, dy = b.x - a.x, b.y - a.y
    norm = math.hypot(dx, dy) or 1.0
    off = road.width_m / 2 + 1.5
    p = line.interpolate(s)
    return p.x - side * dy / norm * off, p.y + side * dx / norm * off


def name_places(
    places: list[Place],
    buildings: list[BuildingDraft],
    plates: list[Plate],
    roads: list[RoadDraft],
    district_name: str,
    rng: np.random.Generator,
) -> Named:
    """Place names, building names, building addresses and building gazetteer texts."""
    compounds = names.compound_names(rng)
    institutions = {
        use: names.NamePool([w + s for w in names.PLACE_WORDS for s in suffixes], rng)
        for use, suffixes in (
            (SHOP, names.SHOP_NAMES),
            ("office", names.OFFICE_NAMES),
            (PUBLIC, ("公园",)),
            (HOSPITAL, ("医院",)),
        )
    }
    counters: dict[str, int] = defaultdict(int)
    b_names = [""] * len(buildings)
    b_addr = [""] * len(buildings)
    for place, plate in zip(places, plates, strict=True):
        door = f"{roads[plate.road].name}{plate.number}号"
        members = _reading_order(place.buildings, buildings)
        if place.kind == COURTYARD:
            place.name = door
            for b in members:
                label = buildings[b].label
                b_names[b] = f"{door}院{label}" if label else door
                b_addr[b] = door
            continue
        if place.kind == ESTATE:
            place.name = compounds.take()
        else:
            place.name = _institution_name(place.use, district_name, institutions, counters, rng)
        for k, b in enumerate(members, start=1):
            if len(members) == 1:
                b_names[b] = place.name
                b_addr[b] = door
            else:
                b_names[b] = f"{place.name}{k}号楼"
                b_addr[b] = f"{door}院{k}号楼"
    return Named(plates, b_names, b_addr, list(b_names))


def _reading_order(members: list[int], buildings: list[BuildingDraft]) -> list[int]:
    """Buildings of a place numbered north→south, west→east (rows of 20 m)."""
    pts = [buildings[b].geom.centroid for b in members]
    return [
        b
        for _, _, b in sorted((-round(p.y / 20), p.x, b) for p, b in zip(pts, members, strict=True))
    ]


def _institution_name(
    use: str,
    district_name: str,
    pools: dict[str, names.NamePool],
    counters: dict[str, int],
    rng: np.random.Generator,
) -> str:
    if use in (SCHOOL, HOSPITAL):
        counters[use] += 1
        n = chinese_number(counters[use])
        if use == SCHOOL:
            kind = "中学" if rng.random() < 0.5 else "小学"
            return f"{district_name}第{n}{kind}"
        if counters[use] % 3:
            return f"{district_name}第{n}人民医院"
        return pools[HOSPITAL].take()
    return pools.get(use, pools["office"]).take()
