"""A small synthetic district: 1 city, 1 district, 2 streets, 2 communities each, 4 grids each.

Coordinates are near Beijing; each grid is a 0.001° × 0.001° square (≈ 85 m × 111 m).
"""

from __future__ import annotations

from shapely.geometry import box
from sqlalchemy.orm import Session

from gridgov.regions import service
from gridgov.regions.schemas import GridIn, RegionIn

X0, Y0 = 116.400, 39.900
D = 0.001  # grid size in degrees
DISTRICT = "110188"
STREETS = ["110188001", "110188002"]
COMMUNITIES = ["110188001001", "110188001002", "110188002001", "110188002002"]


def community_box(i: int):  # type: ignore[no-untyped-def]
    """Communities are 2×2 grids, laid out west→east: 0,1 in street 1, 2,3 in street 2."""
    return box(X0 + 2 * D * i, Y0, X0 + 2 * D * (i + 1), Y0 + 2 * D)


def grid_boxes(i: int) -> list:  # type: ignore[type-arg]
    """The four grids of community i in reading order (north row first, west→east)."""
    x = X0 + 2 * D * i
    return [
        box(x, Y0 + D, x + D, Y0 + 2 * D),
        box(x + D, Y0 + D, x + 2 * D, Y0 + 2 * D),
        box(x, Y0, x + D, Y0 + D),
        box(x + D, Y0, x + 2 * D, Y0 + D),
    ]


def region_items() -> list[RegionIn]:
    items = [
        RegionIn("110000", "北京市", box(X0 - D, Y0 - D, X0 + 9 * D, Y0 + 3 * D), level="city"),
        RegionIn(DISTRICT, "东华区", box(X0, Y0, X0 + 8 * D, Y0 + 2 * D), parent_code="110000"),
        RegionIn(STREETS[0], "东华门街道", box(X0, Y0, X0 + 4 * D, Y0 + 2 * D)),
        RegionIn(STREETS[1], "景山街道", box(X0 + 4 * D, Y0, X0 + 8 * D, Y0 + 2 * D)),
    ]
    names = ["多福巷社区", "韶九社区", "景山东社区", "吉祥社区"]
    items += [RegionIn(c, names[i], community_box(i)) for i, c in enumerate(COMMUNITIES)]
    return items


def grid_items(digits: int = 2) -> list[GridIn]:
    out = []
    for i, c in enumerate(COMMUNITIES):
        for seq, g in enumerate(grid_boxes(i), 1):
            out.append(GridIn(geom=g, code=f"{c}{seq:0{digits}d}"))
    return out


def make_district(session: Session, *, with_grids: bool = True, digits: int = 2) -> None:
    service.import_regions(session, region_items())
    if with_grids:
        service.save_grids(session, grid_items(digits), digits=digits, source="test")
