"""What the map layers share: levels by zoom, roll-ups by code prefix, small caches, ETags.

A map showing a whole city cannot receive every unit grid (31,681 in Beijing) or every component
(millions). Its layers answer a bounding box and a zoom instead, with the unit grids (or points)
when zoomed in and one feature per community or street further out. Both the grid layer
(:mod:`gridgov.regions.grid_layer`) and the components layer
(:mod:`gridgov.components.mapping`) use these pieces:

* :func:`level_for_zoom`: the level a zoom draws, from a layer's own thresholds;
* :data:`PREFIX_LENGTH` and :func:`prefix_of`: a unit grid code starts with its community's code
  (12 digits), which starts with its street's (9), so counts roll up by prefix;
* :class:`LRU`: a small thread-safe per-process cache;
* :func:`regions_version`: what region-level answers depend on (count, newest id, total area);
* :func:`weak_etag` and :func:`etag_matches`: revalidation (a panning map gets 304s).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.codes.admin import Level
from gridgov.regions.models import Region

RegionLevel = Literal["street", "community"]
#: Digits of a unit grid code that name its street (6 district + 3) and community (+ 3).
PREFIX_LENGTH: dict[str, int] = {"street": 9, "community": 12}
REGION_LEVEL: dict[str, Level] = {"street": Level.STREET, "community": Level.COMMUNITY}


def prefix_of(code: str, level: str) -> str:
    """The street or community code a unit grid code belongs to (the code itself for grids)."""
    n = PREFIX_LENGTH.get(level)
    return code[:n] if n else code


def level_for_zoom(zoom: float | None, bands: Sequence[tuple[float, str]], default: str) -> str:
    """The level of the first band whose minimum zoom ``zoom`` reaches (bands finest first,
    e.g. ``[(13, "grid"), (11, "community"), (0, "street")]``); ``default`` without a zoom."""
    if zoom is None:
        return default
    for minimum, level in bands:
        if zoom >= minimum:
            return level
    return bands[-1][1]


class LRU:
    """A small thread-safe LRU map (values are computed outside the lock)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def engine_key(session: Session) -> str:
    """A cache key part naming the database (tests run SQLite and PostgreSQL in one process)."""
    return str(session.get_bind().engine.url)


def regions_version(session: Session) -> tuple[Any, ...]:
    """The streets' and communities' count, newest id and total area: changes on an import,
    a new region or an in-place re-import of a boundary."""
    row = session.execute(
        select(func.count(), func.max(Region.id), func.sum(Region.area_m2)).where(
            Region.level.in_((Level.STREET, Level.COMMUNITY))
        )
    ).one()
    return tuple(row)


def weak_etag(*parts: Any) -> str:
    """A weak ETag from the parts an answer depends on."""
    key = repr(parts).encode()
    return f'W/"{hashlib.sha1(key, usedforsecurity=False).hexdigest()[:24]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match holds ``etag`` (weak comparison) or is ``*``."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False
