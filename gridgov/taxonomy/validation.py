"""Check a taxonomy file completely before anything is written.

JSON and Excel imports both arrive here as rows tagged with where they came from (sheet, row);
:func:`parse` returns clean rows or raises :class:`ImportRejected` listing every problem, each as
``{"sheet", "row", "field", "reason"}``. Nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from gridgov.errors import ImportRejected
from gridgov.taxonomy.models import (
    KIND_LABELS,
    STEP_LABELS,
    UNIT_LABELS,
    URGENCY_LABELS,
    Kind,
    Step,
    TimeUnit,
    Urgency,
)

E = TypeVar("E", bound=StrEnum)
NAME_MAX = 100
_SPLIT_RE = re.compile(r"[,，、;；\s]+")
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}


@dataclass(frozen=True)
class Loc:
    """Where a row came from: a sheet (or JSON list) name, a 1-based row, a field prefix."""

    sheet: str
    row: int
    prefix: str = ""


@dataclass(frozen=True)
class ClassRow:
    kind: Kind
    code: str
    name: str
    is_local: bool
    is_active: bool
    sort_order: int


@dataclass(frozen=True)
class LimitRow:
    step: Step
    urgency: Urgency | None
    value: int
    unit: TimeUnit


@dataclass
class SubclassRow:
    kind: Kind
    code: str
    name: str
    register_condition: str
    close_condition: str
    urgency_levels: list[Urgency]
    is_local: bool
    is_active: bool
    sort_order: int
    time_limits: list[LimitRow] = field(default_factory=list)


@dataclass
class Taxonomy:
    """A validated file: classes and subclasses (with their time limits), in file order."""

    classes: list[ClassRow]
    subclasses: list[SubclassRow]


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, loc: Loc, name: str, reason: str) -> None:
        self.items.append(
            {"sheet": loc.sheet, "row": loc.row, "field": loc.prefix + name, "reason": reason}
        )


class _Bad(Exception):
    """One field's value is unusable; the message is the reason."""


def _text(value: Any, *, required: bool = True, max_len: int | None = None) -> str:
    out = "" if value is None else str(value).strip()
    if required and not out:
        raise _Bad("required")
    if max_len is not None and len(out) > max_len:
        raise _Bad(f"longer than {max_len} characters")
    return out


def _code(value: Any, width: int) -> str:
    """Digits of exactly ``width``; an integer (Excel drops leading zeros) is zero-padded."""
    if isinstance(value, bool):
        raise _Bad(f"expected {width} digits")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        value = str(int(value)).zfill(width)
    out = _text(value)
    if not (len(out) == width and out.isascii() and out.isdigit()):
        raise _Bad(f"expected {width} digits, got {out!r}")
    if out.endswith("00"):
        raise _Bad(f"{out!r}: a serial of 00 is not allowed")
    return out


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Bad(f"expected true or false, got {value!r}")


def _int(value: Any, *, default: int | None = None, positive: bool = False) -> int:
    if (value is None or value == "") and default is not None:
        return default
    if isinstance(value, bool):
        raise _Bad("expected a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise _Bad(f"expected a whole number, got {value!r}")
    if positive and value <= 0:
        raise _Bad(f"must be greater than 0, got {value}")
    return value


def _enum(cls: type[E], labels: Mapping[E, str], value: Any) -> E:
    """An enum from its machine value or its Chinese label (立案, 工作日, 紧急 ...)."""
    word = _text(value)
    for member in cls:
        if word in (member.value, labels[member]):
            return member
    allowed = ", ".join(f"{m.value} ({labels[m]})" for m in cls)
    raise _Bad(f"{word!r} is not one of {allowed}")


def _levels(value: Any) -> list[Urgency]:
    items = _SPLIT_RE.split(value.strip()) if isinstance(value, str) else value
    if not isinstance(items, list) or not [i for i in items if i != ""]:
        raise _Bad("at least one urgency level is required")
    levels = [_enum(Urgency, URGENCY_LABELS, i) for i in items if i != ""]
    if len(set(levels)) != len(levels):
        raise _Bad("an urgency level is listed twice")
    order = list(Urgency)
    return sorted(levels, key=order.index)


class _Row:
    """Reads fields of one raw row, recording a problem for each bad one."""

    def __init__(self, loc: Loc, raw: Any, problems: _Problems) -> None:
        self.loc, self.problems, self.ok = loc, problems, True
        self.raw: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not isinstance(raw, Mapping):
            self.fail("", "expected an object with named fields")

    def fail(self, name: str, reason: str) -> None:
        self.ok = False
        self.problems.add(self.loc, name, reason)

    def get(self, name: str, read: Any, *args: Any, **kw: Any) -> Any:
        try:
            return read(self.raw.get(name), *args, **kw)
        except _Bad as exc:
            self.fail(name, str(exc))
            return None


def _parse_class(loc: Loc, raw: Any, problems: _Problems, position: int) -> ClassRow | None:
    r = _Row(loc, raw, problems)
    kind = r.get("kind", lambda v: _enum(Kind, KIND_LABELS, v))
    code = r.get("code", _code, 2)
    name = r.get("name", _text, max_len=NAME_MAX)
    is_local = r.get("is_local", _bool, False)
    is_active = r.get("is_active", _bool, True)
    sort_order = r.get("sort_order", _int, default=position)
    if not r.ok:
        return None
    return ClassRow(kind, code, name, is_local, is_active, sort_order)


def _parse_subclass(loc: Loc, raw: Any, problems: _Problems, position: int) -> SubclassRow | None:
    r = _Row(loc, raw, problems)
    kind = r.get("kind", lambda v: _enum(Kind, KIND_LABELS, v))
    code = r.get("code", _code, 4)
    name = r.get("name", _text, max_len=NAME_MAX)
    register = r.get("register_condition", _text)
    close = r.get("close_condition", _text)
    levels = r.get("urgency_levels", _levels)
    is_local = r.get("is_local", _bool, False)
    is_active = r.get("is_active", _bool, True)
    sort_order = r.get("sort_order", _int, default=position)
    if not r.ok:
        return None
    return SubclassRow(
        kind, code, name, register, close, levels, is_local, is_active, sort_order, []
    )


def _parse_limit(loc: Loc, raw: Any, problems: _Problems) -> LimitRow | None:
    r = _Row(loc, raw, problems)
    step = r.get("step", lambda v: _enum(Step, STEP_LABELS, v))
    urgency_raw = r.raw.get("urgency")
    urgency = None
    if urgency_raw not in (None, ""):
        urgency = r.get("urgency", lambda v: _enum(Urgency, URGENCY_LABELS, v))
    value = r.get("value", _int, positive=True)
    unit = r.get("unit", lambda v: _enum(TimeUnit, UNIT_LABELS, v))
    if step is not None and step != Step.HANDLE and urgency_raw not in (None, ""):
        r.fail("urgency", "an urgency applies to the handle (处置) step only; leave it empty")
    if step == Step.HANDLE and urgency_raw in (None, ""):
        r.fail("urgency", "the handle (处置) step needs an urgency level")
    if not r.ok:
        return None
    return LimitRow(step, urgency, value, unit)


def raw_key(raw: Any) -> tuple[str, str]:
    """A loose (kind, code) key of a raw subclass row, used to attach time-limit rows to it."""
    if not isinstance(raw, Mapping):
        return ("", "")
    kind, code = raw.get("kind"), raw.get("code")
    try:
        kind = _enum(Kind, KIND_LABELS, kind).value
    except _Bad:
        kind = str(kind or "").strip()
    try:
        code = _code(code, 4)
    except _Bad:
        code = str(code or "").strip()
    return (kind, code)


def parse(
    classes: Iterable[tuple[Loc, Any]],
    subclasses: Iterable[tuple[Loc, Any]],
    limits: Iterable[tuple[Loc, tuple[str, str], Any]],
    known_classes: Iterable[tuple[Kind, str]] = (),
) -> Taxonomy:
    """Validate every row; return the clean taxonomy or raise ImportRejected with all problems.

    ``limits`` rows name their subclass by ``raw_key``. ``known_classes`` are major classes
    already stored, which subclasses in the file may belong to.
    """
    problems = _Problems()
    out_classes: list[ClassRow] = []
    seen_classes: dict[tuple[Kind, str], Loc] = {}
    for position, (loc, raw) in enumerate(classes, start=1):
        row = _parse_class(loc, raw, problems, position)
        if row is None:
            continue
        if (row.kind, row.code) in seen_classes:
            first = seen_classes[(row.kind, row.code)]
            problems.add(loc, "code", f"{row.kind} class {row.code} repeats row {first.row}")
            continue
        seen_classes[(row.kind, row.code)] = loc
        out_classes.append(row)

    available = set(known_classes) | set(seen_classes)
    out_subs: list[SubclassRow] = []
    by_key: dict[tuple[str, str], tuple[Loc, SubclassRow | None]] = {}
    duplicated: set[tuple[str, str]] = set()  # their limits cannot be told apart: not checked
    incomplete: set[tuple[str, str]] = set()  # subclasses with a bad time-limit row
    for position, (loc, raw) in enumerate(subclasses, start=1):
        sub_row = _parse_subclass(loc, raw, problems, position)
        key = raw_key(raw)
        if key in by_key and key != ("", ""):
            duplicated.add(key)
            earlier = by_key[key][0].row
            problems.add(loc, "code", f"{key[0]} subclass {key[1]} repeats row {earlier}")
            continue
        by_key[key] = (loc, sub_row)
        if sub_row is None:
            continue
        if (sub_row.kind, sub_row.code[:2]) not in available:
            problems.add(
                loc, "code", f"major class {sub_row.code[:2]} of kind {sub_row.kind} does not exist"
            )
            by_key[key] = (loc, None)
            continue
        out_subs.append(sub_row)

    for loc, key, raw in limits:
        limit = _parse_limit(loc, raw, problems)
        if key not in by_key:
            problems.add(loc, "subclass_code", f"no subclass {key[1]!r} of kind {key[0]!r}")
            continue
        sub = by_key[key][1]
        if limit is None:
            incomplete.add(key)  # its completeness is checked once the bad row is fixed
        if limit is None or sub is None or key in duplicated:
            continue
        if limit.urgency is not None and limit.urgency not in sub.urgency_levels:
            levels = ",".join(sub.urgency_levels)
            problems.add(loc, "urgency", f"{limit.urgency} is not among the levels ({levels})")
            continue
        if any((t.step, t.urgency) == (limit.step, limit.urgency) for t in sub.time_limits):
            what = limit.step + (f"/{limit.urgency}" if limit.urgency else "")
            problems.add(loc, "step", f"a second time limit for {what}")
            continue
        sub.time_limits.append(limit)

    for key, (loc, sub) in by_key.items():
        if sub is not None and key not in duplicated | incomplete:
            for reason in missing_limits(sub):
                problems.add(Loc(loc.sheet, loc.row), "time_limits", reason)
    if problems.items:
        raise ImportRejected(
            f"taxonomy refused: {len(problems.items)} problem(s); nothing was imported",
            problems.items,
        )
    return Taxonomy(out_classes, out_subs)


def missing_limits(sub: SubclassRow) -> list[str]:
    """Reasons a subclass's time limits are incomplete (one per missing step/urgency)."""
    have = {(t.step, t.urgency) for t in sub.time_limits}
    wanted: list[tuple[Step, Urgency | None]]
    wanted = [(s, None) for s in (Step.REGISTER, Step.DISPATCH, Step.CHECK)]
    wanted += [(Step.HANDLE, u) for u in sub.urgency_levels]
    return [
        f"missing the {step} time limit" + (f" for urgency {u}" if u else "")
        for step, u in wanted
        if (step, u) not in have
    ]
