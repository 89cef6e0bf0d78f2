"""Input records for regions and grids (service layer; importers and the API build these)."""

from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry


@dataclass
class RegionIn:
    code: str
    name: str
    geom: BaseGeometry | None
    level: str | None = None
    parent_code: str | None = None
    population: int | None = None
    feature: int | None = None  # row / feature number in the source file, for error reports


@dataclass
class GridIn:
    geom: BaseGeometry | None
    code: str | None = None
    community_code: str | None = None
    name: str = ""
    feature: int | None = None
