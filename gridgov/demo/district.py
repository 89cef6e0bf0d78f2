"""Generate a realistic demo district (演示城区) at Beijing Dongcheng scale.

``generate_district(seed, scale)`` builds, deterministically for a seed:

* an irregular district of ~25 km² × ``scale`` around lon 116.41, lat 39.93 (北京市 110000,
  fictional 东华区 110188), 10 × ``scale`` streets (街道) and ~137 × ``scale`` communities (社区);
* a named road network (主干道, 次干道, 胡同/巷) whose faces are the blocks every boundary follows;
* building footprints (楼栋) with names, addresses, floors and use;
* a gazetteer of door plates (门牌) and buildings;
* unit grids (单元网格) cut from each community by :func:`gridgov.geo.division.divide`.

All construction happens in a local plane (metres, district centre at the origin); coordinates
are snapped to 1 cm so that neighbouring regions share edges exactly, and everything is
unprojected to WGS84 once at the end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from gridgov.demo import names
from gridgov.demo.addresses import Named, Plate, name_places, number_places
from gridgov.demo.buildings import RESIDENTIAL, Place, place_buildings
from gridgov.demo.regions import adjacency, grow_regions, split_counts
from gridgov.demo.roads import Network, build_network, parent_index
from gridgov.demo.shapes import GRID_SIZE
from gridgov.geo.division import divide, reading_order
from gridgov.geo.projection import LocalProjection, local_epsg

CENTRE = (116.41, 39.93)
SIDE_M = 5_000.0  # scale 1 ≈ 25 km², Dongcheng's 25.38 km²
STREETS = 10
COMMUNITIES = 137
GRID_TARGET_M2 = 15_000.0  # Dongcheng's average unit grid
# divide() snaps to tolerance/5; 5 mm (a 1 mm grid) keeps grid edges within ~0.1 m² of the
# community edge, which was built on a 1 cm grid in another origin.
GRID_TOLERANCE_M = 0.005
DISTRICT_CODE = "110188"
FLOOR_AREA_PER_PERSON_M2 = 25.0

Progress = Callable[[str, float], None]


@dataclass
class DemoRegion:
    code: str
    name: str
    level: str  # city | district | street | community
    parent_code: str | None
    geom: Polygon  # WGS84
    population: int


@dataclass
class DemoRoad:
    name: str
    road_class: str  # main | secondary | minor
    width_m: float
    geom: LineString  # WGS84


@dataclass
class DemoBuilding:
    name: str
    address: str
    floors: int
    use: str  # 住宅 / 商业 / 办公 / 学校 / 医院 / 公共服务
    geom: Polygon  # WGS84


@dataclass
class DemoAddress:
    kind: str  # door_plate | building
    address: str
    lon: float
    lat: float
    building_index: int | None


@dataclass
class DemoGrid:
    community_code: str
    seq: int  # 1-based, reading order within the community
    geom: Polygon  # WGS84


@dataclass
class DemoDistrict:
    city: DemoRegion
    district: DemoRegion
    streets: list[DemoRegion]
    communities: list[DemoRegion]
    roads: list[DemoRoad]
    buildings: list[DemoBuilding]
    addresses: list[DemoAddress]
    grids: list[DemoGrid]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def _rng(seed: int, stage: int) -> np.random.Generator:
    """An independent random stream per stage, so changing one stage leaves the others alone."""
    return np.random.default_rng([seed, stage])


class _Placer:
    """Local metres ↔ WGS84: the district centre is the origin of the local plane."""

    def __init__(self) -> None:
        self.proj = LocalProjection(local_epsg(*CENTRE))
        self.origin = self.proj.project(shapely.Point(CENTRE))
        self.offset = np.array([self.origin.x, self.origin.y])

    def to_wgs84(self, geoms: np.ndarray) -> np.ndarray:
        moved = shapely.transform(geoms, lambda xy: xy + self.offset)
        return self.proj.unproject(moved)


@dataclass
class _Regions:
    street_of_block: np.ndarray
    community_of_block: np.ndarray
    street_geoms: list[Polygon]  # local metres, in code order
    community_geoms: list[Polygon]
    community_street: list[int]


def generate_district(
    seed: int = 1, scale: float = 1.0, progress: Progress | None = None
) -> DemoDistrict:
    """A complete demo district: regions, roads, buildings, gazetteer and unit grids."""
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now
        report(stage, 1.0)

    report("roads", 0.0)
    net = build_network(SIDE_M * math.sqrt(scale), _rng(seed, 1))
    block_chars = [net.characters[i] for i in parent_index(net.blocks, net.secondary_faces)]
    block_roads = _block_roads(net)
    lap("roads")

    report("buildings", 0.0)
    classes = [{net.roads[r].road_class for r in rs} for rs in block_roads]
    drafts, places = place_buildings(net, block_chars, classes, _rng(seed, 2))
    lap("buildings")

    report("regions", 0.0)
    regions = _group_regions(net, scale, _rng(seed, 3))
    lap("regions")

    report("addresses", 0.0)
    district_name = names.DISTRICT_NAMES[0]
    prefix = names.CITY_NAME + district_name
    plates = number_places(places, net.roads, block_roads, _rng(seed, 4))
    named = name_places(places, drafts, plates, net.roads, district_name, _rng(seed, 4))
    lap("addresses")

    report("project", 0.0)
    placer = _Placer()
    road_geoms = placer.to_wgs84(np.array([r.geom for r in net.roads], dtype=object))
    bld_geoms = placer.to_wgs84(np.array([b.geom for b in drafts], dtype=object))
    street_geoms = placer.to_wgs84(np.array(regions.street_geoms, dtype=object))
    comm_geoms = placer.to_wgs84(np.array(regions.community_geoms, dtype=object))
    district_geom = placer.to_wgs84(
        np.array([shapely.coverage_union_all(np.array(regions.street_geoms))], dtype=object)
    )[0]
    plate_pts = placer.to_wgs84(shapely.points([(p.x, p.y) for p in plates]))
    bld_pts = shapely.point_on_surface(bld_geoms)
    lap("project")

    roads = [
        DemoRoad(r.name, r.road_class, r.width_m, g)
        for r, g in zip(net.roads, road_geoms, strict=True)
    ]
    buildings = [
        DemoBuilding(
            named.building_names[i],
            prefix + named.building_addresses[i],
            d.floors,
            d.use,
            bld_geoms[i],
        )
        for i, d in enumerate(drafts)
    ]
    addresses = _gazetteer(places, plates, net, named, prefix, plate_pts, bld_pts)

    # population from residential floor area (about 25 m² per person)
    comm_of_building = regions.community_of_block[[places[d.place].block for d in drafts]]
    floor_area = np.zeros(len(regions.community_geoms))
    for d, c in zip(drafts, comm_of_building, strict=True):
        if d.use == RESIDENTIAL:
            floor_area[c] += d.geom.area * d.floors
    comm_pop = np.round(floor_area / FLOOR_AREA_PER_PERSON_M2).astype(int)

    city, district, streets, communities = _regions(
        regions, street_geoms, comm_geoms, district_geom, comm_pop, district_name, seed
    )

    grids = _grids(communities, roads, buildings, comm_of_building, regions, report)
    lap("grids")
    return DemoDistrict(
        city, district, streets, communities, roads, buildings, addresses, grids, timings
    )


def _block_roads(net: Network) -> list[list[int]]:
    """For each block, the roads touching or entering it (sorted)."""
    tree = shapely.STRtree(np.array([r.geom for r in net.roads], dtype=object))
    bi, ri = tree.query(np.array(net.blocks, dtype=object), predicate="intersects")
    out: list[list[int]] = [[] for _ in net.blocks]
    for b, r in zip(bi, ri, strict=True):
        out[int(b)].append(int(r))
    return [sorted(x) for x in out]


def _group_regions(net: Network, scale: float, rng: np.random.Generator) -> _Regions:
    """Streets from arterial blocks (boundaries on main roads), communities from blocks."""
    n_streets = max(1, round(STREETS * scale))
    n_comms = max(n_streets, round(COMMUNITIES * scale))
    art = np.array(net.arterial_faces, dtype=object)
    art_label = grow_regions(
        shapely.get_coordinates(shapely.centroid(art)),
        shapely.area(art),
        adjacency(net.arterial_faces),
        n_streets,
        rng,
    )
    blocks = np.array(net.blocks, dtype=object)
    street_of_block = art_label[parent_index(net.blocks, net.arterial_faces)]
    centroids = shapely.get_coordinates(shapely.centroid(blocks))
    areas = shapely.area(blocks)
    neighbours = adjacency(net.blocks)

    street_parts = [np.flatnonzero(street_of_block == s) for s in range(n_streets)]
    street_parts = [p for p in street_parts if len(p)]
    street_geoms_raw = [_union(blocks[p]) for p in street_parts]
    order = _reading(street_geoms_raw)
    street_parts = [street_parts[i] for i in order]
    counts = split_counts(n_comms, np.array([areas[p].sum() for p in street_parts]))

    community_of_block = np.full(len(blocks), -1)
    street_of_block = np.full(len(blocks), -1)
    comm_geoms: list[Polygon] = []
    comm_street: list[int] = []
    for s, (part, k) in enumerate(zip(street_parts, counts, strict=True)):
        street_of_block[part] = s
        local = {int(b): i for i, b in enumerate(part)}
        sub_nb = [[local[j] for j in neighbours[b] if j in local] for b in part]
        labels = grow_regions(centroids[part], areas[part], sub_nb, k, rng)
        groups = [part[labels == c] for c in range(k) if (labels == c).any()]
        geoms = [_union(blocks[g]) for g in groups]
        for i in _reading(geoms):
            community_of_block[groups[i]] = len(comm_geoms)
            comm_geoms.append(geoms[i])
            comm_street.append(s)
    street_geoms = [
        _union(np.array([comm_geoms[c] for c in range(len(comm_geoms)) if comm_street[c] == s]))
        for s in range(len(street_parts))
    ]
    return _Regions(street_of_block, community_of_block, street_geoms, comm_geoms, comm_street)


def _union(geoms: np.ndarray) -> Polygon:
    """Exact union of edge-matched faces; the largest part if it somehow falls apart."""
    merged = shapely.coverage_union_all(np.asarray(geoms, dtype=object))
    merged = shapely.set_precision(merged, GRID_SIZE)
    parts = shapely.get_parts(merged)
    return max(parts, key=lambda p: p.area) if len(parts) > 1 else parts[0]


def _reading(geoms: list[Polygon]) -> list[int]:
    """North→south rows, west→east within a row (band = typical region size)."""
    if not geoms:
        return []
    xy = shapely.get_coordinates(shapely.centroid(np.array(geoms, dtype=object)))
    band = math.sqrt(float(np.median([g.area for g in geoms])))
    row = np.floor((xy[:, 1].max() + band / 2 - xy[:, 1]) / band)
    return [int(i) for i in np.lexsort((xy[:, 0], row))]


def _gazetteer(
    places: list[Place],
    plates: list[Plate],
    net: Network,
    named: Named,
    prefix: str,
    plate_pts: np.ndarray,
    bld_pts: np.ndarray,
) -> list[DemoAddress]:
    out: list[DemoAddress] = []
    for place, plate, pt in zip(places, plates, plate_pts, strict=True):
        door = f"{prefix}{net.roads[plate.road].name}{plate.number}号"
        single = place.buildings[0] if len(place.buildings) == 1 else None
        out.append(DemoAddress("door_plate", door, round(pt.x, 7), round(pt.y, 7), single))
    for i, pt in enumerate(bld_pts):
        text = prefix + named.building_entries[i]
        out.append(DemoAddress("building", text, round(pt.x, 7), round(pt.y, 7), i))
    return out


def _regions(
    regions: _Regions,
    street_geoms: np.ndarray,
    comm_geoms: np.ndarray,
    district_geom: Polygon,
    comm_pop: np.ndarray,
    district_name: str,
    seed: int,
) -> tuple[DemoRegion, DemoRegion, list[DemoRegion], list[DemoRegion]]:
    rng = _rng(seed, 5)
    street_pool, comm_pool = names.street_names(rng), names.community_names(rng)
    city = DemoRegion(
        names.CITY_CODE, names.CITY_NAME, "city", None, district_geom, names.CITY_POPULATION
    )
    district = DemoRegion(
        DISTRICT_CODE,
        district_name,
        "district",
        names.CITY_CODE,
        district_geom,
        int(comm_pop.sum()),
    )
    streets = []
    for s, geom in enumerate(street_geoms):
        pop = int(comm_pop[[c for c, st in enumerate(regions.community_street) if st == s]].sum())
        code = f"{DISTRICT_CODE}{s + 1:03d}"
        streets.append(DemoRegion(code, street_pool.take(), "street", DISTRICT_CODE, geom, pop))
    communities = []
    seq: dict[int, int] = {}
    for c, geom in enumerate(comm_geoms):
        s = regions.community_street[c]
        seq[s] = seq.get(s, 0) + 1
        street = streets[s].code
        communities.append(
            DemoRegion(
                f"{street}{seq[s]:03d}",
                comm_pool.take(),
                "community",
                street,
                geom,
                int(comm_pop[c]),
            )
        )
    return city, district, streets, communities


def _grids(
    communities: list[DemoRegion],
    roads: list[DemoRoad],
    buildings: list[DemoBuilding],
    comm_of_building: np.ndarray,
    regions: _Regions,
    report: Progress,
) -> list[DemoGrid]:
    """Unit grids per community, cut along its inner roads around its buildings."""
    road_geoms = np.array([r.geom for r in roads], dtype=object)
    tree = shapely.STRtree(road_geoms)
    by_comm: list[list[int]] = [[] for _ in communities]
    for b, c in enumerate(comm_of_building):
        by_comm[int(c)].append(b)
    out: list[DemoGrid] = []
    for c, comm in enumerate(communities):
        lines = list(road_geoms[tree.query(comm.geom, predicate="intersects")])
        blds = [buildings[b].geom for b in by_comm[c]]
        polys = divide(
            comm.geom,
            lines,
            target_area_m2=GRID_TARGET_M2,
            obstacles=blds,
            objects=blds,
            tolerance_m=GRID_TOLERANCE_M,
        )
        for seq, i in enumerate(reading_order(polys), start=1):
            out.append(DemoGrid(comm.code, seq, polys[i]))
        report("grids", (c + 1) / len(communities))
    return out


def generate_grids(scale: float, seed: int = 1) -> list[Polygon]:
    """Only the unit grid polygons (WGS84) of a demo area at ``scale``, for benchmarks.

    Up to scale 1 this is ``generate_district(seed, scale)``'s grids. Above it, the scale-1
    district's grids are repeated side by side (ceil(scale) copies on a square-ish layout, the
    last one partial) until there are ``scale`` times as many: division dominates the cost and a
    benchmark needs the volume and shapes, not new names.
    """
    if scale <= 1:
        return [g.geom for g in generate_district(seed, scale).grids]
    base = np.array([g.geom for g in generate_district(seed, 1.0).grids], dtype=object)
    # Copies are translated in lon/lat: a round trip through a projection would move vertices
    # by float noise and pinch some polygons into invalid ones.
    minx, miny, maxx, maxy = shapely.total_bounds(base)
    copies = math.ceil(scale)
    cols = math.ceil(math.sqrt(copies))
    rows = math.ceil(copies / cols)
    wanted = round(len(base) * scale)
    out: list[np.ndarray] = []
    for k in range(copies):
        take = min(len(base), wanted - sum(len(o) for o in out))
        r, c = divmod(k, cols)
        dx = (c - (cols - 1) / 2) * (maxx - minx)
        dy = ((rows - 1) / 2 - r) * (maxy - miny)
        out.append(_shift(base[:take], dx, dy))
    return list(np.concatenate(out))


def _shift(geoms: np.ndarray, dx: float, dy: float) -> np.ndarray:
    offset = np.array([dx, dy])
    return shapely.transform(geoms, lambda xy: xy + offset)
