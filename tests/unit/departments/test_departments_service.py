"""Loading, validating, editing and exporting departments and the responsibility matrix."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.cases.routing import route
from gridgov.departments import service
from gridgov.departments.models import Department, DepartmentRegion, ResponsibilityRule
from gridgov.errors import Conflict, ImportRejected, NotFound, ValidationError
from gridgov.taxonomy import service as taxonomy

FIXED = len(json.loads(service.DEFAULT_FILE.read_text(encoding="utf-8"))["departments"])


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_default_load_counts_and_street_offices(district: Session) -> None:
    summary = service.load_default(district)
    assert FIXED == 18
    assert summary == {"departments_created": FIXED + 2, "departments_updated": 0, "rules": 87}
    assert _count(district, Department) == 20
    office = service.get_department(district, "JD110188001")
    assert office.name == "东华门街道办事处"
    assert office.region_codes == ["110188001"]
    assert office.parent_code == "QZF"
    assert service.get_department(district, "ZLSJT").region_codes == ["110188"]
    # loading again updates in place and replaces the matrix
    again = service.load_default(district)
    assert again == {"departments_created": 0, "departments_updated": 20, "rules": 87}
    assert _count(district, ResponsibilityRule) == 87


def test_default_matrix_matches_the_taxonomy(district: Session) -> None:
    taxonomy.load_default(district)
    assert service.load_default(district)["rules"] == 87  # every subclass code exists


def test_default_routes_like_a_beijing_district(loaded: Session) -> None:
    t = service.rules_for(loaded)
    grid = "11018800100101"

    def who(kind: str, code: str, owner: str | None = None) -> str | None:
        return route(kind, code, grid, owner, t.rules, t.departments).department_code

    assert who("component", "0101") == "ZLSJT"  # 上水井盖 → 自来水集团
    assert who("component", "0101", "PSJT") == "PSJT"  # the recorded owner wins
    assert who("component", "0309") == "JD110188001"  # 街头座椅: no owner row → territory
    assert who("event", "0501") == "JD110188001"  # 无照经营游商 → street office
    assert who("event", "0505") == "QJTZD"  # 机动车乱停放 → 交通支队
    assert who("event", "0404") == "ZLSJT"  # 自来水管破裂
    assert who("event", "0301") == "QZJW"  # 施工扰民 → 住建委


def test_default_needs_the_district_regions(session: Session) -> None:
    with pytest.raises(ImportRejected) as err:
        service.load_default(session)
    reasons = {p["reason"] for p in err.value.problems}
    assert "unknown region code 110188" in reasons
    assert _count(session, Department) == 0


def test_bad_document_lists_every_problem_and_writes_nothing(district: Session) -> None:
    doc = {
        "departments": [
            {"code": "A", "name": "甲", "parent_code": "B", "regions": ["110188"]},
            {"code": "B", "name": "乙", "parent_code": "A"},
            {"code": "C", "name": "丙", "parent_code": "NOPE"},
            {"code": "D", "name": "丁", "regions": ["999999"]},
            {"code": "E", "name": "", "level": "planet"},
            {"code": "D", "name": "丁二"},
        ],
        "rules": [
            {"kind": "event", "subclass_code": "01", "basis": "subclass", "department_code": "X"},
            {"kind": "event", "subclass_code": "011", "basis": "territory"},
            {"kind": "event", "subclass_code": "01", "basis": "owner"},
            {"kind": "thing", "basis": "nearby", "department_code": "A", "priority": -1},
            {"kind": "event", "basis": "territory", "region_prefix": "110199"},
        ],
    }
    with pytest.raises(ImportRejected) as err:
        service.import_json(district, doc)
    got = {(p["sheet"], p["row"], p["field"]) for p in err.value.problems}
    assert {
        ("departments", 1, "parent_code"),  # cycle A → B → A
        ("departments", 2, "parent_code"),
        ("departments", 3, "parent_code"),  # unknown parent
        ("departments", 4, "regions"),  # unknown region
        ("departments", 5, "name"),
        ("departments", 5, "level"),
        ("departments", 4, "code"),  # D twice
        ("rules", 1, "department_code"),
        ("rules", 2, "subclass_code"),
        ("rules", 3, "department_code"),  # owner rule without department
        ("rules", 4, "kind"),
        ("rules", 4, "basis"),
        ("rules", 4, "priority"),
        ("rules", 5, "region_prefix"),
    } <= got
    assert any("cycle" in p["reason"] for p in err.value.problems)
    assert _count(district, Department) == 0
    assert _count(district, ResponsibilityRule) == 0


def test_unknown_subclass_refused_when_taxonomy_loaded(loaded: Session) -> None:
    taxonomy.load_default(loaded)
    with pytest.raises(ValidationError, match="unknown event class 0199"):
        service.create_rule(
            loaded,
            {
                "kind": "event",
                "subclass_code": "0199",
                "basis": "subclass",
                "department_code": "QZF",
            },
        )


def test_export_import_round_trip(loaded: Session) -> None:
    doc = service.export_json(loaded)
    assert doc["format"] == "gridgov-departments"
    assert len(doc["departments"]) == 20 and len(doc["rules"]) == 87
    codes = [d["code"] for d in doc["departments"]]
    assert codes.index("QZF") < codes.index("QCGW") < codes.index("QHWZX")
    assert service.import_json(loaded, doc) == {
        "departments_created": 0,
        "departments_updated": 20,
        "rules": 87,
    }
    assert service.export_json(loaded) == doc


def test_crud(loaded: Session) -> None:
    dept = service.create_department(
        loaded,
        {"code": "QJYJ", "name": "区教育委员会", "parent_code": "QZF", "regions": ["110188"]},
    )
    assert dept.region_codes == ["110188"]
    with pytest.raises(Conflict):
        service.create_department(loaded, {"code": "QJYJ", "name": "重复"})
    updated = service.update_department(loaded, "QJYJ", {"regions": ["110188001"], "active": False})
    assert updated.region_codes == ["110188001"] and updated.active is False
    with pytest.raises(ValidationError, match="cycle"):
        service.update_department(loaded, "QZF", {"parent_code": "QCGW"})
    with pytest.raises(ValidationError, match="code cannot change"):
        service.update_department(loaded, "QJYJ", {"code": "X"})
    rule = service.create_rule(
        loaded,
        {"kind": "event", "subclass_code": "07", "basis": "subclass", "department_code": "QJYJ"},
    )
    assert service.update_rule(loaded, rule.id, {"priority": 5}).priority == 5
    with pytest.raises(Conflict):
        service.delete_department(loaded, "QJYJ")  # a rule names it
    with pytest.raises(Conflict):
        service.delete_department(loaded, "QZF")  # it has sub-departments
    service.delete_rule(loaded, rule.id)
    service.delete_department(loaded, "QJYJ")
    with pytest.raises(NotFound):
        service.get_department(loaded, "QJYJ")
    assert (
        loaded.scalar(select(func.count()).where(DepartmentRegion.region_code == "110188001")) == 1
    )
    snapshot = service.rules_for(loaded)
    assert "QJYJ" not in snapshot.departments and len(snapshot.rules) == 87
