"""Component ids (部件编码, CJ/T 214): 16 digits.

``AAAAAA`` 6-digit administrative code (city or district, GB/T 2260) + ``MM`` major class +
``SS`` subclass + ``NNNNNN`` serial, e.g. ``3205080101000001`` is the first 上水井盖 (subclass
0101) of district 320508. The 4 digits ``MMSS`` are the component subclass code of the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridgov.codes.admin import Level, parse_region_code
from gridgov.errors import ValidationError

ID_LENGTH = 16
SERIAL_DIGITS = 6
MAX_SERIAL = 10**SERIAL_DIGITS - 1


@dataclass(frozen=True)
class ComponentId:
    """A parsed component id."""

    code: str
    admin_code: str  # 6 digits, city or district
    admin_level: Level
    subclass_code: str  # 4 digits: major class + subclass
    serial: int

    @property
    def major_code(self) -> str:
        return self.subclass_code[:2]

    @property
    def prefix(self) -> str:
        """The first 10 digits: admin code + subclass code (the serial's numbering space)."""
        return self.code[:10]


def _check_admin(admin6: str, field: str, whole: str | None = None) -> Level:
    what = f"component id {whole!r}: " if whole else ""
    if len(admin6) != 6 or not admin6.isdigit():
        raise ValidationError(
            f"{what}administrative code {admin6!r} must be 6 digits", field=field, code="bad_id"
        )
    try:
        return parse_region_code(admin6).level
    except ValidationError as exc:
        raise ValidationError(
            f"{what}unknown administrative level: {exc.message}", field=field, code="bad_id"
        ) from None


def _check_subclass(subclass4: str, field: str, whole: str | None = None) -> None:
    what = f"component id {whole!r}: " if whole else ""
    if len(subclass4) != 4 or not subclass4.isdigit():
        raise ValidationError(
            f"{what}subclass code {subclass4!r} must be 4 digits (major class + subclass)",
            field=field,
            code="bad_id",
        )
    if subclass4[:2] == "00" or subclass4[2:] == "00":
        raise ValidationError(
            f"{what}subclass code {subclass4!r}: major class and subclass must not be 00",
            field=field,
            code="bad_id",
        )


def format_component_id(admin6: str, subclass4: str, serial: int) -> str:
    """The 16-digit id of serial ``serial`` (1..999999) of a subclass in an admin area."""
    admin6, subclass4 = str(admin6).strip(), str(subclass4).strip()
    _check_admin(admin6, "admin_code")
    _check_subclass(subclass4, "subclass_code")
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= MAX_SERIAL:
        raise ValidationError(
            f"component serial {serial!r} must be a whole number from 1 to {MAX_SERIAL}",
            field="serial",
            code="bad_id",
        )
    return f"{admin6}{subclass4}{serial:0{SERIAL_DIGITS}d}"


def parse_component_id(text: str) -> ComponentId:
    """Validate a 16-digit component id and split it; raises ValidationError naming the part."""
    code = str(text).strip()
    if not code.isdigit() or not code.isascii():
        raise ValidationError(
            f"component id {code!r} must contain digits only", field="id", code="bad_id"
        )
    if len(code) != ID_LENGTH:
        raise ValidationError(
            f"component id {code!r} has {len(code)} digits; expected {ID_LENGTH}: 6 admin code "
            "+ 2 major class + 2 subclass + 6 serial",
            field="id",
            code="bad_id",
        )
    level = _check_admin(code[:6], "id", code)
    _check_subclass(code[6:10], "id", code)
    serial = int(code[10:])
    if serial == 0:
        raise ValidationError(
            f"component id {code!r}: serial 000000 is not allowed", field="id", code="bad_id"
        )
    return ComponentId(code, code[:6], level, code[6:10], serial)
