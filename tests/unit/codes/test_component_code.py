"""Component ids (部件编码): 6 admin + 2 major + 2 sub + 6 serial."""

from __future__ import annotations

import pytest

from gridgov.codes.admin import Level
from gridgov.codes.component import format_component_id, parse_component_id
from gridgov.errors import ValidationError


def test_format_and_parse_round_trip() -> None:
    cid = format_component_id("320508", "0101", 1)
    assert cid == "3205080101000001"
    parsed = parse_component_id(cid)
    assert parsed.admin_code == "320508"
    assert parsed.admin_level is Level.DISTRICT
    assert parsed.subclass_code == "0101"
    assert parsed.major_code == "01"
    assert parsed.serial == 1
    assert parsed.prefix == "3205080101"
    assert format_component_id("320500", "0203", 999999) == "3205000203999999"
    assert parse_component_id(" 3205000203999999 ").admin_level is Level.CITY


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("320508010100001", "has 15 digits; expected 16"),
        ("32050801010000011", "has 17 digits"),
        ("32050801010000a1", "digits only"),
        ("３２０５０８０１０１０００００１", "digits only"),
        ("0005080101000001", "unknown administrative level"),
        ("3205080001000001", "must not be 00"),
        ("3205080100000001", "must not be 00"),
        ("3205080101000000", "serial 000000 is not allowed"),
    ],
)
def test_parse_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_component_id(text)
    assert fragment in exc.value.message
    assert exc.value.code == "bad_id"


@pytest.mark.parametrize(
    ("admin", "sub", "serial", "fragment"),
    [
        ("32050", "0101", 1, "must be 6 digits"),
        ("320508", "101", 1, "must be 4 digits"),
        ("320508", "0101", 0, "from 1 to 999999"),
        ("320508", "0101", 1_000_000, "from 1 to 999999"),
        ("000508", "0101", 1, "unknown administrative level"),
    ],
)
def test_format_refuses(admin: str, sub: str, serial: int, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        format_component_id(admin, sub, serial)
    assert fragment in exc.value.message
