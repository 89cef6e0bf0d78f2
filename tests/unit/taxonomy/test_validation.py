"""Validation of taxonomy rows, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from gridgov.errors import ImportRejected
from gridgov.taxonomy.validation import Loc, parse, raw_key


def _limits(urgencies: tuple[str, ...] = ("normal",)) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"step": s, "urgency": None, "value": 1, "unit": "working_hours"}
        for s in ("register", "dispatch", "check")
    ]
    rows += [
        {"step": "handle", "urgency": u, "value": 4, "unit": "working_hours"} for u in urgencies
    ]
    return rows


def _sub(**kw: Any) -> dict[str, Any]:
    base = {
        "kind": "event", "code": "0101", "name": "暴露垃圾", "register_condition": "有垃圾",
        "close_condition": "已清理", "urgency_levels": ["normal"],
    }  # fmt: skip
    return {**base, **kw}


def _parse(classes: list[Any], subs: list[dict[str, Any]], limits: list[list[Any]]) -> Any:
    return parse(
        [(Loc("classes", i), c) for i, c in enumerate(classes, 1)],
        [(Loc("subclasses", i), s) for i, s in enumerate(subs, 1)],
        [
            (Loc("time_limits", i), raw_key(s), t)
            for i, (s, rows) in enumerate(zip(subs, limits, strict=True), 1)
            for t in rows
        ],
    )


CLASS = {"kind": "event", "code": "01", "name": "市容环境"}


def test_a_good_row_parses_and_accepts_chinese_labels_and_excel_numbers() -> None:
    sub = _sub(code=101, urgency_levels="紧急、一般")
    extra = {"step": "处置", "urgency": "紧急", "value": 2.0, "unit": "自然时"}
    limits = [*_limits(("normal",)), extra]
    out = _parse([CLASS], [sub], [limits])
    [row] = out.subclasses
    assert row.code == "0101"
    assert row.urgency_levels == ["normal", "urgent"]
    assert ("handle", "urgent", 2, "natural_hours") in [
        (t.step, t.urgency, t.value, t.unit) for t in row.time_limits
    ]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"code": "0A01"}, "code", "4 digits"),
        ({"code": "0100"}, "code", "00"),
        ({"code": "0201"}, "code", "major class 02"),
        ({"name": " "}, "name", "required"),
        ({"close_condition": ""}, "close_condition", "required"),
        ({"kind": "thing"}, "kind", "not one of"),
        ({"urgency_levels": []}, "urgency_levels", "at least one"),
        ({"urgency_levels": ["normal", "asap"]}, "urgency_levels", "'asap'"),
        ({"is_local": "maybe"}, "is_local", "true or false"),
    ],
)
def test_bad_subclass_fields_are_named(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ImportRejected) as err:
        _parse([CLASS], [_sub(**change)], [_limits()])
    problem = next(p for p in err.value.problems if p["field"] == field)
    assert problem["sheet"] == "subclasses" and problem["row"] == 1
    assert reason in problem["reason"]


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"value": 0}, "value", "greater than 0"),
        ({"value": -3}, "value", "greater than 0"),
        ({"value": "soon"}, "value", "whole number"),
        ({"unit": "minutes"}, "unit", "not one of"),
        ({"step": "approve"}, "step", "not one of"),
        ({"urgency": "normal"}, "urgency", "handle"),
    ],
)
def test_bad_time_limit_fields_are_named(change: dict[str, Any], field: str, reason: str) -> None:
    limits = _limits()
    limits[0] = {**limits[0], **change}  # the register row
    with pytest.raises(ImportRejected) as err:
        _parse([CLASS], [_sub()], [limits])
    problem = next(p for p in err.value.problems if p["field"] == field)
    assert problem["sheet"] == "time_limits" and reason in problem["reason"]


def test_urgency_must_match_the_levels_and_every_limit_must_be_present() -> None:
    limits = _limits(("normal", "critical"))  # critical is not a level of this subclass
    limits = [t for t in limits if t["step"] != "check"]
    with pytest.raises(ImportRejected) as err:
        _parse([CLASS], [_sub(urgency_levels=["normal", "urgent"])], [limits])
    reasons = {(p["field"], p["reason"]) for p in err.value.problems}
    assert ("urgency", "critical is not among the levels (normal,urgent)") in reasons
    assert ("time_limits", "missing the check time limit") in reasons
    assert ("time_limits", "missing the handle time limit for urgency urgent") in reasons


def test_duplicates_are_refused_with_the_first_row_named() -> None:
    with pytest.raises(ImportRejected) as err:
        _parse([CLASS, CLASS], [_sub(), _sub(name="又一个")], [_limits(), _limits()])
    assert {(p["sheet"], p["row"], p["field"]) for p in err.value.problems} == {
        ("classes", 2, "code"),
        ("subclasses", 2, "code"),
    }
    assert "repeats row 1" in err.value.problems[0]["reason"]


def test_every_problem_is_listed_not_just_the_first() -> None:
    subs = [_sub(code="0101", name=""), _sub(code="0102", register_condition="")]
    with pytest.raises(ImportRejected) as err:
        _parse([CLASS], subs, [_limits(), _limits()])
    assert [(p["row"], p["field"]) for p in err.value.problems] == [
        (1, "name"),
        (2, "register_condition"),
    ]
