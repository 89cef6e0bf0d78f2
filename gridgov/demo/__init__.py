"""A deterministic generator of a realistic demo district (演示城区) for ``gridgov demo``."""

from gridgov.demo.district import (
    DemoAddress,
    DemoBuilding,
    DemoDistrict,
    DemoGrid,
    DemoRegion,
    DemoRoad,
    generate_district,
    generate_grids,
)

__all__ = [
    "DemoAddress",
    "DemoBuilding",
    "DemoDistrict",
    "DemoGrid",
    "DemoRegion",
    "DemoRoad",
    "generate_district",
    "generate_grids",
]
