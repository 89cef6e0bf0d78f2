"""Time limits (处置时限 and the other step limits) and their text form."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = ["TimeLimit", "TimeUnit", "UnitValue"]


class TimeUnit(StrEnum):
    """The unit a limit counts in: 工作时 (office hours on working days), 工作日 (working days)
    or 自然时 (plain clock hours, e.g. 井盖缺失 6 natural hours)."""

    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_HOURS = "natural_hours"


# Unit words accepted by TimeLimit.parse, compared after removing spaces and lower-casing.
_UNIT_WORDS: dict[str, TimeUnit] = {
    **dict.fromkeys(
        (
            "工作时",
            "工作小时",
            "个工作时",
            "个工作小时",
            "workinghour",
            "workinghours",
            "working_hours",
            "wh",
        ),
        TimeUnit.WORKING_HOURS,
    ),
    **dict.fromkeys(
        (
            "工作日",
            "个工作日",
            "workingday",
            "workingdays",
            "working_days",
            "wd",
        ),
        TimeUnit.WORKING_DAYS,
    ),
    **dict.fromkeys(
        (
            "自然时",
            "自然小时",
            "小时",
            "个小时",
            "个自然时",
            "个自然小时",
            "naturalhour",
            "naturalhours",
            "natural_hours",
            "hour",
            "hours",
            "h",
        ),
        TimeUnit.NATURAL_HOURS,
    ),
}

_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(.+?)\s*$")
_MAX_VALUE = 100_000.0  # about 40 years of working days: anything larger is a typo


UnitValue = TimeUnit | Literal["working_hours", "working_days", "natural_hours"]


@dataclass(frozen=True, slots=True, init=False)
class TimeLimit:
    """A time limit such as ``TimeLimit(4, "working_hours")`` (4工作时).

    ``value`` is finite and ≥ 0 (fractions allowed; 0 means due at once). ``unit`` accepts the
    string values of :class:`TimeUnit`.
    """

    value: float
    unit: TimeUnit

    def __init__(self, value: float, unit: UnitValue) -> None:
        try:
            unit = TimeUnit(unit)
        except ValueError:
            choices = ", ".join(u.value for u in TimeUnit)
            raise ValueError(f"unknown time unit {unit!r} (expected one of {choices})") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"time limit value must be a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"time limit value must be a finite number ≥ 0, got {value!r}")
        if number > _MAX_VALUE:
            raise ValueError(f"time limit value {value!r} is implausibly large")
        object.__setattr__(self, "value", number)
        object.__setattr__(self, "unit", unit)

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Parse ``"4工作时"``, ``"2 working days"``, ``"6自然时"``, ``"15个工作日"``, ``"1.5 h"``.

        A bare ``小时`` / ``hours`` means natural hours. Raises ``ValueError`` naming the text
        when it is not a number followed by a known unit.
        """
        m = _TEXT.match(text) if isinstance(text, str) else None
        if m:
            unit = _UNIT_WORDS.get(re.sub(r"[\s\-]+", "", m[2]).lower())
            if unit is not None:
                return cls(float(m[1]), unit)
        raise ValueError(
            f"cannot read time limit {text!r}: expected a number and a unit such as "
            "'4工作时', '2 working days' or '6自然时'"
        )

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return {
            TimeUnit.WORKING_HOURS: f"{number}工作时",
            TimeUnit.WORKING_DAYS: f"{number}工作日",
            TimeUnit.NATURAL_HOURS: f"{number}自然时",
        }[self.unit]
