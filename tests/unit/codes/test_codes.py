import pytest

from gridgov.codes.admin import Level, parse_region_code
from gridgov.codes.grid import format_grid_code, parse_grid_code
from gridgov.errors import ValidationError


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("110000", Level.CITY),
        ("110101", Level.DISTRICT),
        ("110101001", Level.STREET),
        ("110101001001", Level.COMMUNITY),
    ],
)
def test_levels_follow_length(code: str, level: Level) -> None:
    assert parse_region_code(code).level is level


def test_parent_code_is_the_prefix() -> None:
    assert parse_region_code("110101001001").parent_code == "110101001"
    assert parse_region_code("110101001").parent_code == "110101"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("11010", "has 5 digits"),
        ("11010a", "digits only"),
        ("110101000", "street part 000"),
        ("110101001000", "community part 000"),
        ("000101", "province 00"),
    ],
)
def test_malformed_region_codes_are_refused(code: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_region_code(code)


def test_district_code_cannot_end_in_00_when_asked_for_a_district() -> None:
    with pytest.raises(ValidationError, match="must not end in 00"):
        parse_region_code("110100", "district")


def test_grid_codes_two_and_three_digits() -> None:
    assert format_grid_code("110101001001", 7, 2) == "11010100100107"
    assert format_grid_code("110101001001", 7, 3) == "110101001001007"
    gc = parse_grid_code("110101001001007", 3)
    assert (gc.community_code, gc.seq) == ("110101001001", 7)


def test_grid_sequence_overflow_is_explained() -> None:
    with pytest.raises(ValidationError, match="does not fit in 2 digits"):
        format_grid_code("110101001001", 100, 2)


@pytest.mark.parametrize("code", ["1101010010010", "11010100100100", "110101001000001"])
def test_bad_grid_codes(code: str) -> None:
    with pytest.raises(ValidationError):
        parse_grid_code(code, 2 if len(code) == 14 else 3)
