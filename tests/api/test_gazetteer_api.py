"""Address search over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.gazetteer import service

ADDRESSES = [
    ("北京市东华区东四北大街12号", 116.4170, 39.9310),
    ("北京市东华区东四北大街21号", 116.4172, 39.9330),
    ("北京市东华区东四北大街1号", 116.4168, 39.9300),
    ("北京市东华区东四南大街12号", 116.4175, 39.9200),
    ("北京市东华区朝阳门北大街8号", 116.4340, 39.9260),
]


@pytest.fixture
def gazetteer(session: Session) -> None:
    rows = [{"address": a, "lon": lon, "lat": lat} for a, lon, lat in ADDRESSES]
    service.add_entries(session, rows)
    session.flush()


def _search(client: TestClient, q: str, **params: object) -> dict:
    r = client.get("/api/address/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    ("q", "how"),
    [
        ("东四北大街12号", "exact"),
        ("北京市东华区东四北大街十二号", "exact"),
        ("dsbdj12", "pinyin"),
        ("东四北大接12号", "fuzzy"),
    ],
)
def test_search_finds_the_door_plate(client: TestClient, gazetteer: None, q: str, how: str) -> None:
    body = _search(client, q)
    assert body["query"] == q
    best = body["results"][0]
    assert set(best) == {"id", "address", "kind", "lon", "lat", "score", "how"}
    assert (best["address"], best["kind"], best["lon"], best["lat"], best["how"]) == (
        "北京市东华区东四北大街12号",
        "door_plate",
        116.4170,
        39.9310,
        how,
    )
    assert 0 < best["score"] <= 100


def test_twelve_before_twenty_one(client: TestClient, gazetteer: None) -> None:
    addresses = [r["address"] for r in _search(client, "东四北大接12号")["results"]]
    assert addresses.index("北京市东华区东四北大街12号") < addresses.index(
        "北京市东华区东四北大街21号"
    )


def test_limit(client: TestClient, gazetteer: None) -> None:
    assert len(_search(client, "东四", limit=2)["results"]) == 2


def test_no_match_is_an_empty_list(client: TestClient, gazetteer: None) -> None:
    assert _search(client, "完全无关的地方99号")["results"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "q: the search text is empty"),
        ({}, "q: the search text is empty"),
        ({"q": "东" * 101}, "q: the search text is 101 characters long; at most 100 are allowed"),
        ({"q": "东四", "limit": 0}, "limit: must be 1..100, got 0"),
        ({"q": "东四", "limit": "ten"}, "limit: Input should be a valid integer"),
    ],
)
def test_bad_queries_are_422(client: TestClient, params: dict, message: str) -> None:
    r = client.get("/api/address/search", params=params)
    assert r.status_code == 422
    assert r.json()["message"].startswith(message)
