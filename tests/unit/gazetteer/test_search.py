"""In-memory address search: exact, prefix, pinyin initials and fuzzy matching."""

from __future__ import annotations

import pytest

from gridgov.gazetteer.normalize import normalize_address, pinyin_initials
from gridgov.gazetteer.search import Entry, Gazetteer

ADDRESSES = [
    "北京市东华区东四北大街12号",
    "北京市东华区东四北大街21号",
    "北京市东华区东四北大街1号",
    "北京市东华区东四北大街2号",
    "北京市东华区东四北大街120号",
    "北京市东华区东四北大街12号院3号楼",
    "北京市东华区东四南大街12号",
    "北京市东华区朝阳门北大街8号",
    "北京市东华区人民路1号",
    "北京市西城区人民路1号",
    "北京市东华区长安街5号",
    "北京市东华区平安里西大街3号",
]


def _entry(i: int, address: str) -> Entry:
    norm = normalize_address(address)
    return Entry(i, address, norm, pinyin_initials(norm), 116.4 + i / 1000, 39.9, "door_plate")


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(_entry(i, a) for i, a in enumerate(ADDRESSES, start=1))


def _top(gazetteer: Gazetteer, query: str) -> tuple[str, str, float]:
    best = gazetteer.search(query)[0]
    return best.address, best.how, best.score


def test_exact_match_comes_first_with_score_100(gazetteer: Gazetteer) -> None:
    results = gazetteer.search("东四北大街12号")
    assert (results[0].address, results[0].how, results[0].score) == (
        "北京市东华区东四北大街12号",
        "exact",
        100.0,
    )
    assert results[0].id == 1
    assert (results[0].lon, results[0].lat) == (pytest.approx(116.401), 39.9)
    assert all(r.score < 100 for r in results[1:])


def test_full_address_with_chinese_numerals_is_exact(gazetteer: Gazetteer) -> None:
    assert _top(gazetteer, "北京市东华区东四北大街十二号") == (
        "北京市东华区东四北大街12号",
        "exact",
        100,
    )


def test_initials_prefix_finds_the_door_plate(gazetteer: Gazetteer) -> None:
    address, how, score = _top(gazetteer, "dsbdj12")
    assert (address, how) == ("北京市东华区东四北大街12号", "pinyin")
    assert 90 < score < 100


def test_initials_are_case_and_space_insensitive(gazetteer: Gazetteer) -> None:
    assert _top(gazetteer, "DSBDJ 12")[0] == "北京市东华区东四北大街12号"


def test_typo_still_finds_the_address(gazetteer: Gazetteer) -> None:
    address, how, score = _top(gazetteer, "东四北大接12号")
    assert (address, how) == ("北京市东华区东四北大街12号", "fuzzy")
    assert 80 <= score < 100


def test_house_number_decides_between_similar_entries(gazetteer: Gazetteer) -> None:
    """12号 and 21号 have the same characters; the number check puts 12号 first."""
    results = gazetteer.search("东四北大接12号", limit=10)
    addresses = [r.address for r in results]
    assert addresses.index("北京市东华区东四北大街12号") < addresses.index(
        "北京市东华区东四北大街21号"
    )
    assert _top(gazetteer, "东四北大接21号")[0] == "北京市东华区东四北大街21号"


def test_prefix_prefers_the_shortest_completion(gazetteer: Gazetteer) -> None:
    results = gazetteer.search("东四北大街12")
    assert [r.how for r in results[:3]] == ["prefix"] * 3
    assert results[0].address == "北京市东华区东四北大街12号"
    assert {r.address for r in results[:3]} == {
        "北京市东华区东四北大街12号",
        "北京市东华区东四北大街120号",
        "北京市东华区东四北大街12号院3号楼",
    }


def test_district_in_the_query_breaks_a_tie(gazetteer: Gazetteer) -> None:
    assert _top(gazetteer, "西城区人民路1号")[0] == "北京市西城区人民路1号"
    assert _top(gazetteer, "东华区人民路1号")[0] == "北京市东华区人民路1号"


def test_limit_and_scores_are_ordered(gazetteer: Gazetteer) -> None:
    results = gazetteer.search("东四北大街", limit=3)
    assert len(results) == 3
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 100 for s in scores)


def test_nothing_similar_gives_no_results(gazetteer: Gazetteer) -> None:
    assert gazetteer.search("完全无关的地方99号") == []
    assert gazetteer.search("！！") == []
    assert gazetteer.search("zzzzqqq") == []


def test_empty_gazetteer() -> None:
    assert Gazetteer([]).search("东四北大街12号") == []
