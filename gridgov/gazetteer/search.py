"""In-memory address search (地址匹配) over the gazetteer, and its per-database cache.

A :class:`Gazetteer` is built from entries (id, address, normalized, initials, lon, lat, kind)
and answers ``search(query)`` in three tiers, best first:

- ``exact``: the normalised query equals an entry's normalised address (score 100);
- ``prefix``: the normalised query starts an entry's normalised address, or, for a query of
  latin letters and digits, its pinyin initials (``how="pinyin"``); score 80–99 by how much of
  the entry the query covers;
- ``fuzzy``: rapidfuzz ``WRatio`` (handles partial addresses and typos) over the entries that
  share at least 40 % of the query's character pairs (a bigram index), then a house-number
  check: a query number that the entry does not have at the same position costs points, so
  "东四北大街12号" prefers 12号 over 21号. Latin queries are fuzzy-matched against the
  initials instead (``how="pinyin"``).

Ties (e.g. 人民路1号 in two districts, equal once the district prefix is dropped) are broken by
the similarity of the unstripped addresses, so "东华区人民路1号" prefers the 东华区 entry.

The index is a cache of the ``gazetteer_entry`` table (DESIGN §4.2): :func:`gazetteer_for`
keeps one per database and rebuilds it when the table's row count or largest id changes or when
:func:`invalidate` is called (the service does after every import).
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.gazetteer.models import GazetteerEntry
from gridgov.gazetteer.normalize import (
    house_numbers,
    is_initials_query,
    normalize_address,
)

__all__ = ["Entry", "Gazetteer", "Match", "Nearby", "gazetteer_for", "invalidate"]

# Fuzzy stage: at most this many candidates from the character-pair index are scored, and a
# candidate must share at least this share of the query's character pairs.
_MAX_CANDIDATES = 1500
_MIN_PAIR_SHARE = 0.4
_FUZZY_CUTOFF = 55.0
# Points lost per query number the entry has wrong, or does not have at all.
_WRONG_NUMBER_PENALTY = 12.0
_ABSENT_NUMBER_PENALTY = 5.0
# Prefix stage: entries looked at per query (in sorted order) before ranking them.
_MAX_PREFIX_SCAN = 2000
_TIER = {"exact": 0, "prefix": 1, "pinyin": 1, "fuzzy": 2}
#: Mean Earth radius (m) and metres per degree of latitude, for distances near a point.
_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = math.pi * _EARTH_RADIUS_M / 180.0


@dataclass(frozen=True, slots=True)
class Entry:
    """One gazetteer entry as the index needs it."""

    id: int
    address: str
    normalized: str
    initials: str
    lon: float
    lat: float
    kind: str


@dataclass(frozen=True, slots=True)
class Match:
    """A search result: the entry, a score 0–100 and how it matched."""

    id: int
    address: str
    kind: str
    lon: float
    lat: float
    score: float
    how: str  # "exact" | "prefix" | "fuzzy" | "pinyin"


@dataclass(frozen=True, slots=True)
class Nearby:
    """An entry near a point (反向地址匹配): the entry and its distance in metres."""

    id: int
    address: str
    kind: str
    lon: float
    lat: float
    distance_m: float


class _SortedKeys:
    """Strings sorted for prefix lookup, each with its entry position."""

    def __init__(self, keys: Sequence[str]) -> None:
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.pos = order
        self.key_of = keys.__getitem__

    def with_prefix(self, prefix: str, cap: int) -> list[int]:
        start = bisect.bisect_left(self.keys, prefix)
        out: list[int] = []
        for i in range(start, min(start + cap, len(self.keys))):
            if not self.keys[i].startswith(prefix):
                break
            out.append(self.pos[i])
        return out


def _pairs(text: str) -> set[str]:
    """Character pairs (bigrams) of a string; a one-character string is its own pair."""
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _number_penalty(query_numbers: tuple[str, ...], entry_numbers: tuple[str, ...]) -> float:
    """Points lost for query numbers the entry lacks: a different number at the same position
    (12号 vs 21号) costs more than a number the entry does not go down to (…3号楼 vs 12号)."""
    penalty = 0.0
    for i, number in enumerate(query_numbers):
        if i >= len(entry_numbers):
            penalty += _ABSENT_NUMBER_PENALTY
        elif entry_numbers[i] != number:
            penalty += _WRONG_NUMBER_PENALTY
    return penalty


class _PairIndex:
    """Strings indexed by their character pairs, for fuzzy matching a query against the few
    hundred entries that share enough pairs with it instead of against all of them."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = keys
        lists: dict[str, list[int]] = defaultdict(list)
        for pos, key in enumerate(keys):
            for pair in _pairs(key):
                lists[pair].append(pos)
        self._postings = {pair: np.asarray(p, dtype=np.int32) for pair, p in lists.items()}

    def candidates(self, query: str) -> np.ndarray:
        """Positions sharing at least 40 % of the query's pairs; the best-sharing 1,500 at most."""
        query_pairs = _pairs(query)
        postings = [self._postings[p] for p in query_pairs if p in self._postings]
        if not postings:
            return np.empty(0, dtype=np.int64)
        hits = np.bincount(np.concatenate(postings), minlength=len(self.keys))
        cand = np.flatnonzero(hits >= max(1, int(len(query_pairs) * _MIN_PAIR_SHARE)))
        if len(cand) > _MAX_CANDIDATES:
            cand = cand[np.argpartition(-hits[cand], _MAX_CANDIDATES)[:_MAX_CANDIDATES]]
        return cand

    def extract(self, query: str, scorer: Any, limit: int) -> list[tuple[int, float]]:
        """(position, rapidfuzz score) of the best candidates, best first."""
        cand = self.candidates(query)
        best = process.extract(
            query,
            [self.keys[i] for i in cand],
            scorer=scorer,
            processor=None,
            limit=limit,
            score_cutoff=_FUZZY_CUTOFF,
        )
        return [(int(cand[i]), score) for _, score, i in best]


class Gazetteer:
    """Address search over a fixed set of entries; see the module docstring."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._entries: list[Entry] = list(entries)
        self._normalized = [e.normalized for e in self._entries]
        self._initials = [e.initials for e in self._entries]
        self._numbers = [house_numbers(n) for n in self._normalized]
        self._exact: dict[str, list[int]] = defaultdict(list)
        for pos, norm in enumerate(self._normalized):
            self._exact[norm].append(pos)
        self._by_normalized = _SortedKeys(self._normalized)
        self._by_initials = _SortedKeys(self._initials)
        self._fuzzy_normalized = _PairIndex(self._normalized)
        self._fuzzy_initials = _PairIndex(self._initials)
        self._points: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    # ---------------------------------------------------------------------------------- search

    def search(self, query: str, limit: int = 10) -> list[Match]:
        """The best ``limit`` entries for ``query``, best first (see the module docstring)."""
        norm = normalize_address(query)
        if not norm or limit < 1 or not self._entries:
            return []
        found: dict[int, tuple[float, str]] = {}
        for pos in self._exact.get(norm, ()):
            found[pos] = (100.0, "exact")
        self._add(found, self._prefix(norm, self._by_normalized, limit), "prefix")
        if is_initials_query(norm):
            self._add(found, self._prefix(norm, self._by_initials, limit), "pinyin")
            if len(found) < limit:
                hits = self._fuzzy(norm, self._fuzzy_initials, fuzz.ratio, limit)
                self._add(found, hits, "pinyin")
        elif len(found) < limit:
            hits = self._fuzzy(norm, self._fuzzy_normalized, fuzz.WRatio, limit)
            self._add(found, hits, "fuzzy")
        return self._rank(query, found, limit)

    # --------------------------------------------------------------------------------- nearest

    def nearest(self, lon: float, lat: float, radius_m: float, limit: int = 5) -> list[Nearby]:
        """The entries within ``radius_m`` metres of the WGS84 point, nearest first (ties by
        id). A bounding box on the coordinate arrays picks the candidates; their great-circle
        distances decide."""
        if not self._entries or limit < 1 or radius_m <= 0:
            return []
        if self._points is None:
            self._points = (
                np.fromiter((e.lon for e in self._entries), dtype=float, count=len(self)),
                np.fromiter((e.lat for e in self._entries), dtype=float, count=len(self)),
            )
        lons, lats = self._points
        dlat = radius_m / _M_PER_DEG
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        near = np.flatnonzero((np.abs(lats - lat) <= dlat) & (np.abs(lons - lon) <= dlon))
        if not len(near):
            return []
        phi1, phi2 = math.radians(lat), np.radians(lats[near])
        dphi = phi2 - phi1
        dlam = np.radians(lons[near] - lon)
        a = np.sin(dphi / 2) ** 2 + math.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
        dist = 2 * _EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        keep = dist <= radius_m
        near, dist = near[keep], dist[keep]
        ids = np.fromiter((self._entries[i].id for i in near), dtype=np.int64, count=len(near))
        order = np.lexsort((ids, dist))[:limit]
        out = []
        for k in order:
            e = self._entries[int(near[k])]
            out.append(Nearby(e.id, e.address, e.kind, e.lon, e.lat, round(float(dist[k]), 1)))
        return out

    # ---------------------------------------------------------------------------------- helpers

    @staticmethod
    def _add(found: dict[int, tuple[float, str]], hits: list[tuple[int, float]], how: str) -> None:
        for pos, score in hits:
            if pos not in found or found[pos][0] < score:
                found[pos] = (score, how)

    def _prefix(self, norm: str, keys: _SortedKeys, limit: int) -> list[tuple[int, float]]:
        """Entries whose key starts with ``norm``; the more of the key typed, the higher."""
        scored = []
        for pos in keys.with_prefix(norm, _MAX_PREFIX_SCAN):
            key = keys.key_of(pos)
            scored.append((pos, 80.0 + 19.0 * len(norm) / len(key)))
        scored.sort(key=lambda ps: -ps[1])
        return scored[: max(limit * 5, 50)]

    def _fuzzy(
        self, norm: str, index: _PairIndex, scorer: Any, limit: int
    ) -> list[tuple[int, float]]:
        return self._adjust(norm, index.extract(norm, scorer, max(limit * 10, 100)))

    def _adjust(self, norm: str, hits: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Apply the house-number check; fuzzy scores stay below an exact match's 100."""
        numbers = house_numbers(norm)
        out = []
        for pos, score in hits:
            adjusted = score - _number_penalty(numbers, self._numbers[pos])
            if adjusted >= _FUZZY_CUTOFF:
                out.append((pos, min(adjusted, 99.0)))
        return out

    def _rank(self, query: str, found: dict[int, tuple[float, str]], limit: int) -> list[Match]:
        raw = normalize_address(query, strip_admin=False)

        def key(item: tuple[int, tuple[float, str]]) -> tuple[float, ...]:
            pos, (score, how) = item
            entry = self._entries[pos]
            tie = fuzz.ratio(raw, normalize_address(entry.address, strip_admin=False))
            return (-round(score, 1), _TIER[how], -tie, len(entry.normalized), entry.id)

        best = sorted(found.items(), key=key)[:limit]
        return [self._match(pos, score, how) for pos, (score, how) in best]

    def _match(self, pos: int, score: float, how: str) -> Match:
        e = self._entries[pos]
        return Match(e.id, e.address, e.kind, e.lon, e.lat, round(score, 1), how)


# ------------------------------------------------------------------------------------- cache

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int], Gazetteer]] = {}
_generation = 0


def invalidate() -> None:
    """Forget every cached index (call after writing gazetteer entries)."""
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def _cache_key(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _signature(session: Session) -> tuple[int, int, int]:
    # Two scalar subqueries: each is answered from the primary key alone (a combined
    # count(id), max(id) makes SQLite scan the table: 15 ms instead of 0.1 ms on 60,000 rows).
    count = select(func.count()).select_from(GazetteerEntry).scalar_subquery()
    max_id = select(func.max(GazetteerEntry.id)).scalar_subquery()
    count, max_id = session.execute(select(count, max_id)).one()
    return (_generation, int(count), int(max_id or 0))


def _load(session: Session) -> Gazetteer:
    rows = session.execute(
        select(
            GazetteerEntry.id,
            GazetteerEntry.address,
            GazetteerEntry.normalized,
            GazetteerEntry.initials,
            GazetteerEntry.lon,
            GazetteerEntry.lat,
            GazetteerEntry.kind,
        )
    )
    return Gazetteer(
        Entry(r.id, r.address, r.normalized, r.initials, r.lon, r.lat, str(r.kind)) for r in rows
    )


def gazetteer_for(session: Session) -> Gazetteer:
    """The cached index of this session's database, rebuilt when the table has changed.

    The check per call is one ``count(*), max(id)`` query. An UPDATE that keeps both (an edited
    address) is not seen by another process until the next import; in this process the service
    calls :func:`invalidate`.
    """
    key, sig = _cache_key(session), _signature(session)
    cached = _cache.get(key)
    if cached and cached[0] == sig:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == sig:
            return cached[1]
        index = _load(session)
        _cache[key] = (sig, index)
        return index
