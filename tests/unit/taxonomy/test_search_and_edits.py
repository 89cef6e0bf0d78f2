"""Lookup, search (name, code, pinyin initials) and local edits."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.errors import Conflict, NotFound, ValidationError
from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind, Step, TimeUnit, Urgency
from gridgov.taxonomy.pinyin import initials


def _names(session: Session, q: str, kind: Kind | None = None) -> list[str]:
    return [s.name for s in service.list_subclasses(session, kind, q)]


def test_initials_keep_variants_for_polyphonic_characters() -> None:
    assert initials("暴露垃圾") == "bllj"
    assert initials("乱堆物堆料").split()[0] == "ldwdl"
    assert initials("5G基站") == "5gjz"


def test_search_by_chinese_name(seeded: Session) -> None:
    assert _names(seeded, "垃圾", Kind.EVENT) == [
        "暴露垃圾",
        "积存垃圾渣土",
        "焚烧垃圾树叶",
        "垃圾满溢",
    ]
    assert "上水井盖" in _names(seeded, "井盖", Kind.COMPONENT)


def test_search_by_pinyin_initials(seeded: Session) -> None:
    assert _names(seeded, "bllj") == ["暴露垃圾"]
    assert _names(seeded, "BLLJ") == ["暴露垃圾"]
    assert _names(seeded, "ssjg") == ["上水井盖"]
    assert _names(seeded, "ldwd", Kind.EVENT) == ["乱堆物堆料"]
    assert "行道树" in _names(seeded, "xds")


def test_search_by_code_prefix_and_kind(seeded: Session) -> None:
    assert [s.code for s in service.list_subclasses(seeded, Kind.EVENT, "040")][:2] == [
        "0401",
        "0402",
    ]
    assert _names(seeded, "nothing-like-this") == []
    assert _names(seeded, "100%") == []


def test_get_subclass_needs_kind_when_both_trees_use_the_code(seeded: Session) -> None:
    with pytest.raises(ValidationError) as err:
        service.get_subclass(seeded, "0101")
    assert err.value.code == "ambiguous"
    assert service.get_subclass(seeded, "0101", Kind.EVENT).name == "私搭乱建"
    with pytest.raises(NotFound):
        service.get_subclass(seeded, "9999", Kind.EVENT)


def test_set_time_limit_changes_one_row(seeded: Session) -> None:
    limit = service.set_time_limit(
        seeded, kind=Kind.EVENT, code="0104", step=Step.HANDLE, urgency=Urgency.URGENT,
        value=30, unit=TimeUnit.NATURAL_HOURS,
    )  # fmt: skip
    assert (limit.value, limit.unit) == (30, TimeUnit.NATURAL_HOURS)
    again = service.get_subclass(seeded, "0104", Kind.EVENT)
    assert len(again.time_limits) == 5


@pytest.mark.parametrize(
    ("step", "urgency", "value", "reason"),
    [
        (Step.HANDLE, Urgency.CRITICAL, 1, "not among the levels"),
        (Step.REGISTER, None, 0, "greater than 0"),
        (Step.CHECK, Urgency.NORMAL, 1, "handle"),
    ],
)
def test_set_time_limit_refuses_bad_values(
    seeded: Session, step: Step, urgency: Urgency | None, value: int, reason: str
) -> None:
    before = service.subclass_dict(service.get_subclass(seeded, "0104", Kind.EVENT))
    with pytest.raises(ValidationError) as err:
        service.set_time_limit(
            seeded, kind=Kind.EVENT, code="0104", step=step, urgency=urgency,
            value=value, unit=TimeUnit.WORKING_HOURS,
        )  # fmt: skip
    assert reason in err.value.message
    after = service.subclass_dict(service.get_subclass(seeded, "0104", Kind.EVENT))
    assert after == before


def test_local_class_and_subclass(seeded: Session) -> None:
    cls = service.add_local_class(seeded, kind=Kind.EVENT, code="08", name="生态环境")
    assert (cls.is_local, cls.sort_order) == (True, 8)
    with pytest.raises(Conflict):
        service.add_local_class(seeded, kind=Kind.EVENT, code="08", name="重复")
    with pytest.raises(ValidationError):
        service.add_local_class(seeded, kind=Kind.EVENT, code="8", name="")
    limits = [
        {"step": "register", "value": 1, "unit": "working_hours"},
        {"step": "dispatch", "value": 1, "unit": "working_hours"},
        {"step": "handle", "urgency": "normal", "value": 3, "unit": "working_days"},
        {"step": "check", "value": 4, "unit": "working_hours"},
    ]
    sub = service.add_local_subclass(
        seeded, kind=Kind.EVENT, code="0801", name="秸秆焚烧", register_condition="发现焚烧",
        close_condition="明火熄灭并清理", urgency_levels=[Urgency.NORMAL], time_limits=limits,
    )  # fmt: skip
    assert (sub.is_local, sub.major_code, len(sub.time_limits)) == (True, "08", 4)
    assert _names(seeded, "jgfs") == ["秸秆焚烧"]
    with pytest.raises(ValidationError) as err:
        service.add_local_subclass(
            seeded, kind=Kind.EVENT, code="0901", name="无大类", register_condition="x",
            close_condition="y", urgency_levels=[Urgency.NORMAL], time_limits=limits,
        )  # fmt: skip
    assert "major class 09" in err.value.message
