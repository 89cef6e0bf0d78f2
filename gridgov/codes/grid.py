"""Unit grid codes (单元网格编码, CJ/T 213): community code + sequence number.

The sequence has 2 digits (CJ/T 213) or 3 digits (Beijing-style deployments); it is a setting.
Grids are numbered west→east within rows, rows north→south.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridgov.codes.admin import Level, parse_region_code
from gridgov.errors import ValidationError


@dataclass(frozen=True)
class GridCode:
    code: str
    community_code: str
    seq: int


def format_grid_code(community_code: str, seq: int, digits: int) -> str:
    parse_region_code(community_code, Level.COMMUNITY)
    if not 1 <= seq < 10**digits:
        raise ValidationError(
            f"grid sequence {seq} does not fit in {digits} digits (1..{10**digits - 1}); "
            "raise grid_seq_digits or split the community",
            field="seq",
        )
    return f"{community_code}{seq:0{digits}d}"


def parse_grid_code(code: str, digits: int) -> GridCode:
    code = str(code).strip()
    if not code.isdigit() or len(code) != 12 + digits:
        raise ValidationError(
            f"grid code {code!r} must be {12 + digits} digits: 12-digit community code + "
            f"{digits}-digit sequence",
            field="code",
        )
    community = parse_region_code(code[:12], Level.COMMUNITY)
    seq = int(code[12:])
    if seq == 0:
        raise ValidationError(f"grid code {code!r}: sequence 0 is not allowed", field="code")
    return GridCode(code, community.code, seq)
