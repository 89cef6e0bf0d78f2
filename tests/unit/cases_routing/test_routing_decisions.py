"""The pure routing decision: 先属主后属地 for components, 先属地后属主 for events."""

from __future__ import annotations

from gridgov.cases.routing import (
    NO_MATCH,
    Basis,
    RoutingDepartment,
    RoutingRule,
    route,
)
from gridgov.taxonomy.models import Kind

GRID = "11018800100101"  # street 110188001, community 110188001001
OTHER_GRID = "11018800200101"  # street 110188002

DEPARTMENTS = {
    d.code: d
    for d in [
        RoutingDepartment("QCGW", "市政市容委", regions=("110188",)),
        RoutingDepartment("QCGZFJ", "城管执法局", regions=("110188",)),
        RoutingDepartment("QJTZD", "交通支队", regions=("110188",)),
        RoutingDepartment("ZLSJT", "自来水集团", regions=("110188",)),
        RoutingDepartment("PSJT", "排水集团", regions=("110188",)),
        RoutingDepartment("OLD", "已撤销单位", active=False, regions=("110188",)),
        RoutingDepartment("JD110188001", "东华门街道办事处", regions=("110188001",)),
        RoutingDepartment("JD110188002", "景山街道办事处", regions=("110188002",)),
    ]
}

RULES = [
    RoutingRule(Kind.COMPONENT, "0101", "ZLSJT", Basis.OWNER, id=1),
    RoutingRule(Kind.COMPONENT, "01", None, Basis.TERRITORY, id=2),
    RoutingRule(Kind.COMPONENT, "01", "QCGW", Basis.SUBCLASS, id=3),
    RoutingRule(Kind.EVENT, "05", None, Basis.TERRITORY, id=4),
    RoutingRule(Kind.EVENT, "05", "QCGZFJ", Basis.SUBCLASS, id=5),
    RoutingRule(Kind.EVENT, "0505", "QJTZD", Basis.SUBCLASS, id=6),
]


def test_component_with_owner_goes_to_owner_first() -> None:
    d = route(Kind.COMPONENT, "0101", GRID, "PSJT", RULES, DEPARTMENTS, subclass_name="上水井盖")
    assert d.department_code == "PSJT"
    assert d.reason.startswith("部件权属单位优先（先属主后属地）: 0101 上水井盖 → 排水集团")
    assert [c.department_code for c in d.candidates] == [
        "PSJT",
        "ZLSJT",
        "JD110188001",
        "QCGW",
    ]
    assert d.candidates[0].basis == "component_owner"


def test_component_without_owner_uses_matrix_owner_then_territory() -> None:
    d = route(Kind.COMPONENT, "0101", GRID, None, RULES, DEPARTMENTS)
    assert d.department_code == "ZLSJT"
    assert "规则#1" in d.reason and "ZLSJT" in d.reason
    # 0102 has no owner row: territory (the street office covering the grid) comes next.
    d = route(Kind.COMPONENT, "0102", OTHER_GRID, None, RULES, DEPARTMENTS)
    assert d.department_code == "JD110188002"
    assert "部件无登记权属单位" in d.reason and "属地" in d.reason and OTHER_GRID in d.reason
    assert [c.department_code for c in d.candidates] == ["JD110188002", "QCGW"]


def test_unknown_or_inactive_component_owner_falls_back() -> None:
    d = route(Kind.COMPONENT, "0101", GRID, "OLD", RULES, DEPARTMENTS)
    assert d.department_code == "ZLSJT"
    assert "部件权属单位 OLD 已停用" in d.reason
    d = route(Kind.COMPONENT, "0101", GRID, "NOPE", RULES, DEPARTMENTS)
    assert "未登记" in d.reason


def test_event_territorial_class_goes_to_street_office_first() -> None:
    d = route(Kind.EVENT, "0501", GRID, None, RULES, DEPARTMENTS, subclass_name="无照经营游商")
    assert d.department_code == "JD110188001"
    assert d.reason.startswith("事件按属地（先属地后属主")
    assert [c.department_code for c in d.candidates] == ["JD110188001", "QCGZFJ"]


def test_event_owner_is_ignored_for_events() -> None:
    d = route(Kind.EVENT, "0501", GRID, "ZLSJT", RULES, DEPARTMENTS)
    assert d.department_code == "JD110188001"


def test_event_with_only_subclass_rule() -> None:
    rules = [RoutingRule(Kind.EVENT, "0404", "ZLSJT", Basis.SUBCLASS, id=9)]
    d = route(Kind.EVENT, "0404", GRID, None, rules, DEPARTMENTS, subclass_name="自来水管破裂")
    assert d.department_code == "ZLSJT"
    assert d.reason.startswith("事件按主管（先属地后属主，规则#9 0404）: 0404 自来水管破裂 → ")


def test_exact_subclass_row_overrides_major_class_rows() -> None:
    d = route(Kind.EVENT, "0505", GRID, None, RULES, DEPARTMENTS)
    assert d.department_code == "QJTZD"
    assert [c.department_code for c in d.candidates] == ["QJTZD", "JD110188001", "QCGZFJ"]


def test_no_match_goes_to_coordination() -> None:
    d = route(Kind.EVENT, "0301", GRID, None, RULES, DEPARTMENTS)
    assert d.department_code is None
    assert d.reason.startswith(NO_MATCH) and d.reason.startswith("无匹配部门，转协调")
    assert d.candidates == []
    # a rule whose department is inactive does not count
    rules = [RoutingRule(Kind.EVENT, "03", "OLD", Basis.SUBCLASS)]
    assert route(Kind.EVENT, "0301", GRID, None, rules, DEPARTMENTS).department_code is None


def test_priority_orders_rows_of_the_same_basis() -> None:
    rules = [
        RoutingRule(Kind.EVENT, "06", "QCGZFJ", Basis.SUBCLASS, priority=20, id=1),
        RoutingRule(Kind.EVENT, "06", "QCGW", Basis.SUBCLASS, priority=10, id=2),
    ]
    d = route(Kind.EVENT, "0601", GRID, None, rules, DEPARTMENTS)
    assert [c.department_code for c in d.candidates] == ["QCGW", "QCGZFJ"]
    flipped = [
        RoutingRule(Kind.EVENT, "06", "QCGZFJ", Basis.SUBCLASS, priority=5, id=1),
        rules[1],
    ]
    assert route(Kind.EVENT, "0601", GRID, None, flipped, DEPARTMENTS).department_code == "QCGZFJ"


def test_basis_order_beats_priority_within_a_kind() -> None:
    rules = [
        RoutingRule(Kind.EVENT, "06", "QCGZFJ", Basis.SUBCLASS, priority=1),
        RoutingRule(Kind.EVENT, "06", None, Basis.TERRITORY, priority=999),
    ]
    assert route(Kind.EVENT, "0601", GRID, None, rules, DEPARTMENTS).department_code == (
        "JD110188001"
    )
    component_rules = [
        RoutingRule(Kind.COMPONENT, "01", None, Basis.TERRITORY, priority=1),
        RoutingRule(Kind.COMPONENT, "01", "QCGW", Basis.OWNER, priority=999),
    ]
    d = route(Kind.COMPONENT, "0105", GRID, None, component_rules, DEPARTMENTS)
    assert d.department_code == "QCGW"


def test_region_prefix_and_territory_coverage() -> None:
    rules = [
        RoutingRule(Kind.EVENT, "02", "QCGZFJ", Basis.SUBCLASS, region_prefix="110188002"),
        # a named territory department only counts where it covers the grid
        RoutingRule(Kind.EVENT, "02", "JD110188002", Basis.TERRITORY),
    ]
    assert route(Kind.EVENT, "0201", GRID, None, rules, DEPARTMENTS).department_code is None
    d = route(Kind.EVENT, "0201", OTHER_GRID, None, rules, DEPARTMENTS)
    assert [c.department_code for c in d.candidates] == ["JD110188002", "QCGZFJ"]


def test_kind_as_string_and_rules_of_other_kind_ignored() -> None:
    d = route("event", "0101", GRID, None, RULES, DEPARTMENTS)
    assert d.department_code is None  # only component rows name 01xx
