"""Pinyin initials (拼音首字母) of subclass names, so a phone user can type ``blj`` for 暴露垃圾."""

from __future__ import annotations

import itertools
import re

from pypinyin import Style, lazy_pinyin, pinyin

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
MAX_VARIANTS = 8
MAX_LEN = 200


def initials(name: str) -> str:
    """Space-separated initials variants, the phrase-dictionary reading first.

    Polyphonic characters add variants (乱堆物堆料 → ``ldwdl lzwzl ...``), at most
    :data:`MAX_VARIANTS`; latin letters and digits are kept, everything else dropped.
    """
    primary = _clean("".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")))
    variants = [primary] if primary else []
    per_char = pinyin(name, style=Style.FIRST_LETTER, heteronym=True, errors="default")
    for combo in itertools.islice(itertools.product(*per_char), 64):
        if len(variants) >= MAX_VARIANTS:
            break
        v = _clean("".join(combo))
        if v and v not in variants:
            variants.append(v)
    out = " ".join(variants)
    return out[:MAX_LEN].rsplit(" ", 1)[0] if len(out) > MAX_LEN else out


def _clean(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())
