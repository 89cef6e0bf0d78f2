"""The default taxonomy: size, completeness, the DESIGN examples, idempotent loading."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind, Step, Subclass, SubclassTimeLimit, TaxonomyClass
from gridgov.taxonomy.validation import SubclassRow, missing_limits


def _limit(sub: Subclass, step: Step, urgency: str | None = None) -> tuple[int, str]:
    found = next(t for t in sub.time_limits if t.step == step and t.urgency == urgency)
    return found.value, found.unit.value


def test_seed_has_both_trees_with_conditions_and_complete_limits(seeded: Session) -> None:
    subs = service.list_subclasses(seeded)
    by_kind = {k: [s for s in subs if s.kind == k] for k in Kind}
    assert len(by_kind[Kind.COMPONENT]) >= 60
    assert len(by_kind[Kind.EVENT]) >= 60
    for sub in subs:
        assert sub.register_condition and sub.close_condition, sub.code
        levels = list(sub.urgency_levels)
        row = SubclassRow(sub.kind, sub.code, sub.name, "", "", levels, False, True, 0)  # type: ignore[arg-type]
        row.time_limits = list(sub.time_limits)  # type: ignore[arg-type]
        assert missing_limits(row) == [], sub.code
        assert all(t.value > 0 for t in sub.time_limits)


def test_seed_major_classes(seeded: Session) -> None:
    names = {(c.kind.value, c.code): c.name for c in service.list_classes(seeded)}
    assert names[("component", "01")] == "公用设施"
    assert names[("component", "06")] == "其他设施"
    assert names[("event", "01")] == "市容环境"
    assert names[("event", "02")] == "宣传广告"
    assert names[("event", "06")] == "其他事件"
    social = next(c for c in service.list_classes(seeded, Kind.EVENT) if c.code == "07")
    assert (social.name, social.is_local) == ("社会治理", True)
    social_names = {s.name for s in service.list_subclasses(seeded, Kind.EVENT, "07")}
    assert {"矛盾纠纷", "安全隐患", "流动人口登记", "特殊人群服务", "消防隐患"} <= social_names


def test_seed_carries_the_design_examples(seeded: Session) -> None:
    def event(name: str) -> Subclass:
        return next(s for s in service.list_subclasses(seeded, Kind.EVENT, name) if s.name == name)

    assert _limit(event("暴露垃圾"), Step.HANDLE, "normal") == (4, "working_hours")
    assert _limit(event("道路不洁"), Step.HANDLE, "normal") == (2, "working_hours")
    assert _limit(event("井盖缺失"), Step.HANDLE, "normal") == (6, "natural_hours")
    assert _limit(event("私搭乱建"), Step.HANDLE, "normal") == (15, "working_days")
    cover = service.get_subclass(seeded, "0101", Kind.COMPONENT)
    assert cover.name == "上水井盖"
    assert cover.urgency_levels == ["normal", "urgent", "critical"]


def test_seed_file_says_cities_adjust_the_numbers() -> None:
    doc = json.loads(service.DEFAULT_FILE.read_text(encoding="utf-8"))
    assert "调整" in doc["note"] and "adjust" in doc["note"]


def test_load_default_is_idempotent_and_keeps_local_edits(seeded: Session) -> None:
    def counts() -> tuple[int, int, int]:
        return tuple(  # type: ignore[return-value]
            seeded.scalar(select(func.count()).select_from(t))
            for t in (TaxonomyClass, Subclass, SubclassTimeLimit)
        )

    before = counts()
    service.set_time_limit(
        seeded, kind=Kind.EVENT, code="0102", step=Step.HANDLE, urgency="normal",
        value=3, unit="working_hours",
    )  # fmt: skip
    again = service.load_default(seeded)
    assert again == dict.fromkeys(again, 0)
    assert counts() == before
    sub = service.get_subclass(seeded, "0102", Kind.EVENT)
    assert _limit(sub, Step.HANDLE, "normal") == (3, "working_hours")
