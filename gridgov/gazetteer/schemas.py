"""Pydantic shapes of the gazetteer API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class AddressMatchRead(BaseModel):
    """One address search result (地址匹配结果): a WGS84 point, a score 0–100 and how it matched."""

    id: int
    address: str
    kind: str
    lon: float
    lat: float
    score: float
    how: Literal["exact", "prefix", "fuzzy", "pinyin"]


class AddressSearchRead(BaseModel):
    query: str
    results: list[AddressMatchRead]


class NearbyAddressRead(BaseModel):
    """An address near a point (反向地址匹配): its WGS84 point and distance in metres."""

    id: int
    address: str
    kind: str
    lon: float
    lat: float
    distance_m: float


class PlaceRef(BaseModel):
    code: str
    name: str


class ReverseRead(BaseModel):
    """What is at a point: the nearest known addresses (nearest first; empty when none is
    within ``radius_m``) and the unit grid, community and street holding it (null outside
    every grid)."""

    point: dict[str, float]
    radius_m: float
    grid: PlaceRef | None
    community: PlaceRef | None
    street: PlaceRef | None
    results: list[NearbyAddressRead]
