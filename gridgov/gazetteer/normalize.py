"""Address normalisation (地址标准化) for matching, and pinyin initials (拼音首字母).

Both the stored ``normalized`` column and every query go through :func:`normalize_address`, so
what matters is that the two sides agree; the steps are chosen so that the ways people write
the same door plate (门牌) end up as the same string:

1. full-width → half-width (NFKC: ``１２号`` → ``12号``, ``Ａ座`` → ``A座``), latin letters
   lower-cased;
2. traditional variants of address words unified (``號`` → ``号``, ``樓`` → ``楼`` …); ``弄`` and
   ``巷`` are different things and are kept as written; ``#`` after a number means ``号``;
3. whitespace and punctuation removed, except a hyphen between two digits (``12-3号``);
4. Chinese numerals directly before a numbering unit (号, 号楼, 楼, 栋, 单元, 层, 室 …) become
   digits (``十二号`` → ``12号``, ``一百零五号`` → ``105号``, ``一〇五室`` → ``105室``). Numerals
   elsewhere are place names and stay (``三里屯``, ``东四十二条``);
5. optionally, a leading province / city / district prefix is dropped (``北京市东华区``), so a
   full address and the short form used in a district's own gazetteer compare equal.

Known limit: a numeral run that could belong to the name before it is read as one number
(``东四十二号`` → ``东42号``); the same happens to entries and queries, so they still agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

__all__ = [
    "chinese_numeral_to_int",
    "house_numbers",
    "is_initials_query",
    "normalize_address",
    "pinyin_initials",
    "strip_admin_prefix",
]

# Traditional / variant characters seen in address data, mapped to the simplified form.
_VARIANTS = str.maketrans(
    {
        "號": "号",
        "樓": "楼",
        "棟": "栋",
        "單": "单",
        "區": "区",
        "縣": "县",
        "門": "门",
        "東": "东",
        "園": "园",
        "層": "层",
        "衚": "胡",
        "衕": "同",
        "○": "〇",
    }
)

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_UNITS)
# Units that number things in an address; longest first so 号楼 wins over 号.
_NUMBERING_UNITS = (
    "号楼",
    "号院",
    "单元",
    "号",
    "楼",
    "栋",
    "幢",
    "层",
    "室",
    "座",
    "弄",
    "期",
    "区",
)
_NUMERAL_RE = re.compile(f"([{_NUMERAL_CHARS}]+)(?=(?:{'|'.join(_NUMBERING_UNITS)}))")
# A number followed by '#' is a house or building number: 3#楼 = 3号楼.
_HASH_RE = re.compile(r"(?<=\d)#")
# Hyphen-like characters between digits are kept (as '-'), everything else that is not a
# letter, digit or CJK character goes.
_DASH_RE = re.compile(r"(?<=\d)[-‐‑‒–—―~～](?=\d)")
_DASH_MARK = "\x00"

_CJK = "\u4e00-\u9fff\u3400-\u4dbf"
# Province, city and district prefixes: at least two characters before the suffix so that
# 菜市口 or 城市花园 are not taken for a city.
_PROVINCE_RE = re.compile(f"^[{_CJK}]{{2,8}}?(?:省|自治区|特别行政区)")
_CITY_RE = re.compile(f"^[{_CJK}]{{2,8}}?(?:市|自治州|地区|盟)")
_DISTRICT_RE = re.compile(f"^[{_CJK}]{{2,8}}?(?:区|县|旗|市)")
# Words ending in 区 that name something inside a district, not a district.
_NOT_DISTRICT = (
    "小区",
    "社区",
    "园区",
    "街区",
    "校区",
    "景区",
    "厂区",
    "矿区",
    "营区",
    "片区",
    "院区",
    "商区",
    "住宅区",
    "生活区",
    "办公区",
    "宿舍区",
)

_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_RUN_RE = re.compile(f"[{_CJK}]+|[^{_CJK}]+")
_HOUSE_NUMBER_RE = re.compile(r"\d+(?:-\d+)*")
_INITIALS_QUERY_RE = re.compile(r"^[a-z0-9-]+$")


def chinese_numeral_to_int(text: str) -> int | None:
    """Read a Chinese numeral: 十二 → 12, 一百零五 → 105, 二十 → 20, 一零五 → 105.

    Without 十/百/千 the characters are digits read one by one (一零五 → 105). Returns None when
    the text is not a well-formed numeral (e.g. 十十, 百五).
    """
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    if not any(ch in _UNITS for ch in text):
        return int("".join(str(_DIGITS[ch]) for ch in text))
    total, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch in _DIGITS:
            if digit is not None and _DIGITS[ch] != 0 and digit != 0:
                return None  # two digits in a row inside a unit numeral: 一二十
            digit = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        if unit >= last_unit:
            return None  # units must decrease: 十百 is not a number
        if digit is None:
            if total:  # 一百十 is not written (一百一十 is)
                return None
            digit = 1  # 十二 = 一十二, 百五 = 一百零五
        total += digit * unit
        digit, last_unit = None, unit
    return total + (digit or 0)


def _numerals_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        value = chinese_numeral_to_int(m.group(1))
        return m.group(1) if value is None else str(value)

    return _NUMERAL_RE.sub(repl, text)


def _strip_punctuation(text: str) -> str:
    text = _DASH_RE.sub(_DASH_MARK, text)
    kept = (ch for ch in text if ch == _DASH_MARK or ch.isalnum())
    return "".join(kept).replace(_DASH_MARK, "-")


def _strip_one(text: str, pattern: re.Pattern[str], *, exclude: tuple[str, ...] = ()) -> str:
    m = pattern.match(text)
    if not m or m.end() >= len(text) or m.group(0).endswith(exclude):
        return text
    return text[m.end() :]


def strip_admin_prefix(text: str) -> str:
    """Drop a leading province, city and district (北京市东华区东四北大街 → 东四北大街).

    Works on normalised text. Nothing is dropped when it would leave the address empty.
    """
    text = _strip_one(text, _PROVINCE_RE)
    text = _strip_one(text, _CITY_RE)
    return _strip_one(text, _DISTRICT_RE, exclude=_NOT_DISTRICT)


@lru_cache(maxsize=4096)
def normalize_address(text: str, *, strip_admin: bool = True) -> str:
    """The matching form of an address; see the module docstring for the steps.

    >>> normalize_address("北京市东华区 东四北大街十二號")
    '东四北大街12号'
    """
    text = unicodedata.normalize("NFKC", text).lower().translate(_VARIANTS)
    text = _HASH_RE.sub("号", text)
    text = _strip_punctuation(text)
    text = _numerals_to_digits(text)
    return strip_admin_prefix(text) if strip_admin else text


def pinyin_initials(text: str) -> str:
    """Lower-case pinyin initials of each Chinese character; digits and latin letters kept.

    ``东四北大街12号`` → ``dsbdj12h``. Digits stay digits (a user types "12", not "sy"), and the
    units after them (号, 楼) give their initial like any other character, so "dsbdj12" is a
    prefix of the entry's initials and finds it. Give it normalised text. For characters with
    several readings pypinyin's phrase dictionary picks one (长安街 → "caj").
    """
    return "".join(_run_initials(run) for run in _RUN_RE.findall(text))


@lru_cache(maxsize=65_536)
def _run_initials(run: str) -> str:
    """Initials of a run of Chinese characters, or the run itself cleaned (cached: street
    names and 号/号楼 repeat across thousands of entries)."""
    if _CJK_RUN_RE.fullmatch(run):
        run = "".join(lazy_pinyin(run, style=Style.FIRST_LETTER, errors="default"))
    return "".join(ch for ch in run.lower() if ch.isascii() and (ch.isalnum() or ch == "-"))


def is_initials_query(normalized: str) -> bool:
    """True for a query made only of latin letters, digits and hyphens (e.g. "dsbdj12")."""
    return bool(_INITIALS_QUERY_RE.match(normalized))


def house_numbers(normalized: str) -> tuple[str, ...]:
    """The numbers in a normalised address, in order (东四北大街12号院3号楼 → ('12', '3'))."""
    return tuple(_HOUSE_NUMBER_RE.findall(normalized))
