"""Administrative division codes.

city / district: 6-digit GB/T 2260 code (a city-level code ends in ``00``); street (街道/乡镇): the
district code + 3 digits; community (社区/村): the street code + 3 digits = the 12-digit national
statistics code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from gridgov.errors import ValidationError


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY]
LEVEL_LENGTH = {Level.CITY: 6, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
PARENT_LEVEL = {
    Level.DISTRICT: Level.CITY,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
}

_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class RegionCode:
    code: str
    level: Level

    @property
    def district(self) -> str | None:
        return None if self.level is Level.CITY else self.code[:6]

    @property
    def parent_code(self) -> str | None:
        """The code of the parent's level when it is derivable from this code."""
        if self.level is Level.COMMUNITY:
            return self.code[:9]
        if self.level is Level.STREET:
            return self.code[:6]
        return None  # a district's city is not always its prefix (直辖市, 省直辖县)


def parse_region_code(code: str, level: Level | str | None = None) -> RegionCode:
    """Validate a region code and return it with its level.

    A 6-digit code is a city if it ends in ``00`` and a district otherwise, unless ``level`` says.
    """
    code = str(code).strip()
    if not _DIGITS.match(code):
        raise ValidationError(f"region code {code!r} must contain digits only", field="code")
    wanted = Level(level) if level else None
    by_len = {6: None, 9: Level.STREET, 12: Level.COMMUNITY}
    if len(code) not in by_len:
        raise ValidationError(
            f"region code {code!r} has {len(code)} digits; expected 6 (city/district), "
            "9 (street) or 12 (community)",
            field="code",
        )
    inferred = by_len[len(code)] or (Level.CITY if code.endswith("00") else Level.DISTRICT)
    if wanted and wanted is not inferred:
        if not (len(code) == 6 and wanted in (Level.CITY, Level.DISTRICT)):
            raise ValidationError(
                f"region code {code!r} is a {inferred} code, not a {wanted} code", field="code"
            )
        inferred = wanted
    if code[:2] == "00":
        raise ValidationError(f"region code {code!r}: province 00 does not exist", field="code")
    if inferred is Level.DISTRICT and code.endswith("00"):
        raise ValidationError(f"district code {code!r} must not end in 00", field="code")
    if inferred is Level.STREET and code[6:9] == "000":
        raise ValidationError(f"street code {code!r}: street part 000 is not allowed", field="code")
    if inferred is Level.COMMUNITY and code[9:12] == "000":
        raise ValidationError(
            f"community code {code!r}: community part 000 is not allowed", field="code"
        )
    return RegionCode(code, inferred)


def level_of(code: str) -> Level:
    return parse_region_code(code).level
