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
