"""Address normalisation and pinyin initials."""

from __future__ import annotations

import pytest

from gridgov.gazetteer.normalize import (
    chinese_numeral_to_int,
    house_numbers,
    is_initials_query,
    normalize_address,
    pinyin_initials,
    strip_admin_prefix,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("东四北大街12号", "东四北大街12号"),
        ("北京市东华区东四北大街12号", "东四北大街12号"),
        ("北京市东华区东四北大街十二号", "东四北大街12号"),
        ("东四北大街十二號", "东四北大街12号"),
        ("东四北大街１２号", "东四北大街12号"),
        (" 东四北大街　12 号。", "东四北大街12号"),
        ("三号楼", "3号楼"),
        ("一百零五号", "105号"),
        ("一〇五室", "105室"),
        ("二十单元", "20单元"),
        ("三里屯路１９号院３＃楼", "三里屯路19号院3号楼"),
        ("Ａ座", "a座"),
        ("文三路12－3号", "文三路12-3号"),
        ("浙江省杭州市西湖区文三路12-3号", "文三路12-3号"),
        ("上海市浦东新区世纪大道100号", "世纪大道100号"),
        ("内蒙古自治区呼和浩特市新城区中山路1号", "中山路1号"),
        ("长宁区愚园路1088弄", "愚园路1088弄"),
        ("杭州市小河巷3号", "小河巷3号"),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "name",
    [
        "三里屯路",
        "东四十二条",
        "菜市口大街1号",
        "城市花园2号",
        "阳光小区5号楼",
        "北京路8号",
        "两广路",
    ],
)
def test_place_names_are_not_rewritten(name: str) -> None:
    """Numerals that are part of a name, and words that only look like a city, stay."""
    assert normalize_address(name) == name


def test_admin_prefix_is_kept_when_nothing_would_remain() -> None:
    assert strip_admin_prefix("东华区") == "东华区"
    assert normalize_address("北京市") == "北京市"


def test_prefix_stripping_can_be_turned_off() -> None:
    assert normalize_address("北京市东华区东四北大街12号", strip_admin=False) == (
        "北京市东华区东四北大街12号"
    )


def test_empty_and_punctuation_only() -> None:
    assert normalize_address("") == ""
    assert normalize_address(" ！！，。 ") == ""


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十五", 25),
        ("一百零五", 105),
        ("一零五", 105),
        ("两千零一", 2001),
        ("一千零一十", 1010),
    ],
)
def test_chinese_numeral(numeral: str, value: int) -> None:
    assert chinese_numeral_to_int(numeral) == value


@pytest.mark.parametrize("numeral", ["", "十十", "一二十", "百十", "一百十", "北"])
def test_not_a_numeral(numeral: str) -> None:
    assert chinese_numeral_to_int(numeral) is None


def test_pinyin_initials_keep_digits() -> None:
    assert pinyin_initials("东四北大街12号") == "dsbdj12h"
    assert pinyin_initials("三里屯路19号院3号楼") == "sltl19hy3hl"
    assert pinyin_initials("a座") == "az"
    assert pinyin_initials("文三路12-3号") == "wsl12-3h"


def test_initials_query_and_house_numbers() -> None:
    assert is_initials_query("dsbdj12")
    assert not is_initials_query("东四12")
    assert house_numbers("东四北大街12号院3号楼") == ("12", "3")
    assert house_numbers("文三路12-3号") == ("12-3",)
