"""Departments, their territory and the responsibility matrix: validation, CRUD, import/export.

Every write goes through :func:`_validate`, which checks a whole document against itself and the
database (unknown parent, cycles, unknown region or department codes, bad subclass codes) and
refuses it listing every problem as ``{"sheet", "row", "field", "reason"}``; nothing is written
then. :func:`rules_for` gives the detached snapshot :func:`gridgov.cases.routing.route` reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gridgov.cases.routing import Basis, RoutingDepartment, RoutingRule
from gridgov.codes.admin import Level
from gridgov.departments.models import Department, DepartmentRegion, ResponsibilityRule
from gridgov.errors import Conflict, ImportRejected, NotFound, ValidationError
from gridgov.regions.models import Region
from gridgov.taxonomy.models import Kind, Subclass, TaxonomyClass

DEFAULT_FILE = Path(__file__).parent / "data" / "default.json"
FORMAT = "gridgov-departments"
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
SUBCLASS_RE = re.compile(r"^(\d{2}|\d{4})?$")
REGION_RE = re.compile(r"^\d{6}(\d{3}){0,2}$")
DEPARTMENT_FIELDS = ("code", "name", "parent_code", "level", "active", "phone", "sort_order")
RULE_FIELDS = (
    "kind",
    "subclass_code",
    "region_prefix",
    "department_code",
    "priority",
    "basis",
    "note",
)
Problem = dict[str, Any]


@dataclass(frozen=True)
class RoutingTables:
    """A detached snapshot of the matrix and the departments, the input of ``route``."""

    rules: tuple[RoutingRule, ...]
    departments: dict[str, RoutingDepartment]


# --- validation -------------------------------------------------------------------------------


class _Checker:
    """Collects problems for one document; ``known_*`` hold what the database already has."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.problems: list[Problem] = []
        self.stored_parents: dict[str, str | None] = dict(
            session.execute(select(Department.code, Department.parent_code)).all()
        )
        self._regions: dict[str, bool] = {}
        self._taxonomy: dict[Kind, tuple[set[str], set[str]]] = {}

    def problem(self, sheet: str, row: int, field: str, reason: str) -> None:
        self.problems.append({"sheet": sheet, "row": row, "field": field, "reason": reason})

    def region_exists(self, code: str) -> bool:
        if code not in self._regions:
            found = self.session.scalar(select(func.count()).where(Region.code == code))
            self._regions[code] = bool(found)
        return self._regions[code]

    def taxonomy(self, kind: Kind) -> tuple[set[str], set[str]]:
        """(major class codes, subclass codes) of ``kind``; both empty if none are loaded."""
        if kind not in self._taxonomy:
            majors = set(
                self.session.scalars(select(TaxonomyClass.code).where(TaxonomyClass.kind == kind))
            )
            subs = set(self.session.scalars(select(Subclass.code).where(Subclass.kind == kind)))
            self._taxonomy[kind] = (majors, subs)
        return self._taxonomy[kind]

    def department(self, raw: Any, row: int) -> dict[str, Any] | None:
        sheet = "departments"
        if not isinstance(raw, dict):
            self.problem(sheet, row, "", "a department must be an object")
            return None
        out: dict[str, Any] = {}
        code = raw.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            self.problem(sheet, row, "code", "code must be 1–40 letters, digits, '_', '.', '-'")
        out["code"] = code
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            self.problem(sheet, row, "name", "name is required (at most 100 characters)")
        out["name"] = name.strip() if isinstance(name, str) else name
        parent = raw.get("parent_code") or None
        if parent is not None and not isinstance(parent, str):
            self.problem(sheet, row, "parent_code", "parent_code must be a department code")
        out["parent_code"] = parent
        try:
            out["level"] = Level(raw.get("level", Level.DISTRICT.value))
        except ValueError:
            allowed = ", ".join(v.value for v in Level)
            self.problem(sheet, row, "level", f"unknown level {raw.get('level')!r}; use {allowed}")
        active = raw.get("active", True)
        if not isinstance(active, bool):
            self.problem(sheet, row, "active", "active must be true or false")
        out["active"] = active
        phone = raw.get("phone")
        if phone is not None and (not isinstance(phone, str) or len(phone) > 30):
            self.problem(sheet, row, "phone", "phone must be text of at most 30 characters")
        out["phone"] = phone
        sort_order = raw.get("sort_order", 0)
        if not isinstance(sort_order, int) or isinstance(sort_order, bool):
            self.problem(sheet, row, "sort_order", "sort_order must be an integer")
        out["sort_order"] = sort_order
        if "regions" in raw:
            regions = raw["regions"]
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                self.problem(sheet, row, "regions", "regions must be a list of region codes")
                regions = []
            for r in regions:
                if not self.region_exists(r):
                    self.problem(sheet, row, "regions", f"unknown region code {r}")
            if len(set(regions)) != len(regions):
                self.problem(sheet, row, "regions", "a region is listed twice")
            out["regions"] = sorted(set(regions))
        return out

    def rule(self, raw: Any, row: int, departments: set[str]) -> dict[str, Any] | None:
        sheet = "rules"
        if not isinstance(raw, dict):
            self.problem(sheet, row, "", "a rule must be an object")
            return None
        out: dict[str, Any] = {}
        kind: Kind | None = None
        try:
            kind = Kind(str(raw.get("kind")))
        except ValueError:
            self.problem(sheet, row, "kind", "kind must be component or event")
        out["kind"] = kind
        sub = raw.get("subclass_code") or ""
        if not isinstance(sub, str) or not SUBCLASS_RE.match(sub):
            self.problem(
                sheet, row, "subclass_code", "a 4-digit subclass, a 2-digit major class or empty"
            )
        elif kind is not None and sub:
            majors, subs = self.taxonomy(kind)
            known = majors if len(sub) == 2 else subs
            if (majors or subs) and sub not in known:
                self.problem(sheet, row, "subclass_code", f"unknown {kind.value} class {sub}")
        out["subclass_code"] = sub
        basis: Basis | None = None
        try:
            basis = Basis(str(raw.get("basis")))
        except ValueError:
            self.problem(sheet, row, "basis", "basis must be owner, territory or subclass")
        out["basis"] = basis
        dept = raw.get("department_code") or None
        if dept is None:
            if basis is not Basis.TERRITORY:
                self.problem(
                    sheet, row, "department_code", "only territory rules may leave it empty"
                )
        elif dept not in departments:
            self.problem(sheet, row, "department_code", f"unknown department {dept}")
        out["department_code"] = dept
        region = raw.get("region_prefix") or None
        if region is not None and (
            not isinstance(region, str)
            or not REGION_RE.match(region)
            or not self.region_exists(region)
        ):
            self.problem(sheet, row, "region_prefix", f"unknown region code {region}")
        out["region_prefix"] = region
        priority = raw.get("priority", 100)
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 9999:
            self.problem(sheet, row, "priority", "priority must be an integer 0–9999")
        out["priority"] = priority
        note = raw.get("note", "")
        if not isinstance(note, str):
            self.problem(sheet, row, "note", "note must be text")
        out["note"] = note
        return out

    def cycles(self, rows: list[dict[str, Any]]) -> None:
        """Unknown parents and parent cycles over the stored tree updated by ``rows``."""
        parents = dict(self.stored_parents)
        parents.update({r["code"]: r["parent_code"] for r in rows if isinstance(r["code"], str)})
        for i, r in enumerate(rows, 1):
            parent = r["parent_code"]
            if parent is None or not isinstance(parent, str):
                continue
            if parent not in parents:
                self.problem("departments", i, "parent_code", f"unknown parent department {parent}")
                continue
            seen = {r["code"]}
            node: str | None = parent
            while node is not None:
                if node in seen:
                    self.problem("departments", i, "parent_code", f"parent {parent} makes a cycle")
                    break
                seen.add(node)
                node = parents.get(node)


def _validate(
    session: Session, doc: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, _Checker]:
    """Check a whole document; return clean department rows, rule rows (None: not given)."""
    check = _Checker(session)
    raw_departments = doc.get("departments", [])
    if not isinstance(raw_departments, list):
        check.problem("departments", 0, "", "departments must be a list")
        raw_departments = []
    rows = [
        d for i, raw in enumerate(raw_departments, 1) if (d := check.department(raw, i)) is not None
    ]
    codes = [r["code"] for r in rows if isinstance(r["code"], str)]
    for code in {c for c in codes if codes.count(c) > 1}:
        check.problem("departments", codes.index(code) + 1, "code", f"{code} is listed twice")
    check.cycles(rows)
    rules: list[dict[str, Any]] | None = None
    if "rules" in doc:
        raw_rules = doc["rules"]
        if not isinstance(raw_rules, list):
            check.problem("rules", 0, "", "rules must be a list")
            raw_rules = []
        known = set(check.stored_parents) | set(codes)
        rules = [
            r for i, raw in enumerate(raw_rules, 1) if (r := check.rule(raw, i, known)) is not None
        ]
    return rows, rules, check


def _refuse(check: _Checker, what: str) -> None:
    if check.problems:
        raise ImportRejected(f"{what} refused: {len(check.problems)} problem(s)", check.problems)


def _single(check: _Checker) -> None:
    """Raise a 422 naming every problem of a one-row write."""
    if check.problems:
        first = check.problems[0]
        message = "; ".join(f"{p['field']}: {p['reason']}" for p in check.problems)
        raise ValidationError(message, field=first["field"] or None)


# --- writing ----------------------------------------------------------------------------------


def _depth_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before children (rows are already checked for cycles)."""
    by_code = {r["code"]: r for r in rows}
    done: set[str] = set()
    out: list[dict[str, Any]] = []

    def visit(row: dict[str, Any]) -> None:
        if row["code"] in done:
            return
        parent = by_code.get(row["parent_code"])
        if parent is not None:
            visit(parent)
        done.add(row["code"])
        out.append(row)

    for row in rows:
        visit(row)
    return out


def _upsert_departments(session: Session, rows: list[dict[str, Any]]) -> tuple[int, int]:
    created = updated = 0
    for row in _depth_order(rows):
        dept = session.scalar(select(Department).where(Department.code == row["code"]))
        if dept is None:
            dept = Department(code=row["code"])
            session.add(dept)
            created += 1
        else:
            updated += 1
        for field in DEPARTMENT_FIELDS[1:]:
            setattr(dept, field, row[field])
        if "regions" in row:
            _set_regions(dept, row["regions"])
        session.flush()  # the parent row must exist before its children reference it
    return created, updated


def _set_regions(dept: Department, codes: list[str]) -> None:
    keep = {r.region_code: r for r in dept.regions if r.region_code in codes}
    dept.regions = [keep.get(c) or DepartmentRegion(region_code=c) for c in codes]


def _replace_rules(session: Session, rules: list[dict[str, Any]]) -> int:
    session.execute(delete(ResponsibilityRule))
    for row in rules:
        session.add(ResponsibilityRule(**{f: row[f] for f in RULE_FIELDS}))
    session.flush()
    return len(rules)


def import_json(session: Session, doc: Any) -> dict[str, int]:
    """Create or update departments (by code) and, when ``rules`` is given, replace the matrix.

    The whole document is checked first; any problem refuses it (422 listing every problem) and
    nothing is written.
    """
    if not isinstance(doc, dict):
        raise ImportRejected("a departments document must be a JSON object", [])
    rows, rules, check = _validate(session, doc)
    _refuse(check, "departments import")
    created, updated = _upsert_departments(session, rows)
    rule_count = _replace_rules(session, rules) if rules is not None else 0
    return {"departments_created": created, "departments_updated": updated, "rules": rule_count}


def default_document(session: Session, district_code: str = "110188") -> dict[str, Any]:
    """The default file made concrete for one district: its street offices come from the street
    regions stored under ``district_code``."""
    raw = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    departments: list[dict[str, Any]] = []
    for dept in raw["departments"]:
        regions = [r.replace("{district}", district_code) for r in dept.get("regions", [])]
        departments.append({**dept, "regions": regions})
    template = raw["street_offices"]
    streets = session.execute(
        select(Region.code, Region.name)
        .where(Region.level == Level.STREET, Region.code.startswith(district_code))
        .order_by(Region.code)
    ).all()
    for i, (code, name) in enumerate(streets, 1):
        departments.append(
            {
                "code": template["code"].replace("{street}", code),
                "name": template["name"].replace("{street_name}", name),
                "parent_code": template["parent_code"],
                "level": template["level"],
                "regions": [code],
                "sort_order": 1000 + i,
            }
        )
    rules = [
        {
            **r,
            "region_prefix": (r.get("region_prefix") or "").replace("{district}", district_code)
            or None,
        }
        for r in raw["rules"]
    ]
    return {"format": FORMAT, "version": 1, "departments": departments, "rules": rules}


def load_default(session: Session, district_code: str = "110188") -> dict[str, int]:
    """Load the default departments and matrix for a district whose regions are stored."""
    return import_json(session, default_document(session, district_code))


def export_json(session: Session) -> dict[str, Any]:
    """Every department (parents first) and every rule, in the format import_json takes."""
    depts = list(
        session.scalars(select(Department).order_by(Department.sort_order, Department.code))
    )
    rows = [department_dict(d) for d in depts]
    rules = session.scalars(select(ResponsibilityRule).order_by(ResponsibilityRule.id))
    return {
        "format": FORMAT,
        "version": 1,
        "departments": _depth_order(rows),
        "rules": [{k: v for k, v in rule_dict(r).items() if k != "id"} for r in rules],
    }


def department_dict(dept: Department) -> dict[str, Any]:
    out: dict[str, Any] = {f: getattr(dept, f) for f in DEPARTMENT_FIELDS}
    out["level"] = dept.level.value
    out["regions"] = dept.region_codes
    return out


def rule_dict(rule: ResponsibilityRule) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rule.id, **{f: getattr(rule, f) for f in RULE_FIELDS}}
    out["kind"] = rule.kind.value
    out["basis"] = rule.basis.value
    return out


# --- CRUD -------------------------------------------------------------------------------------


def list_departments(session: Session, *, active: bool | None = None) -> list[Department]:
    q = select(Department).order_by(Department.sort_order, Department.code)
    if active is not None:
        q = q.where(Department.active == active)
    return list(session.scalars(q))


def get_department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise NotFound(f"no department {code}", code="department_not_found", department=code)
    return dept


def create_department(session: Session, data: dict[str, Any]) -> Department:
    """Add one department; 409 if the code is taken, 422 naming every bad field."""
    code = data.get("code")
    if isinstance(code, str) and session.scalar(
        select(Department.id).where(Department.code == code)
    ):
        raise Conflict(f"department {code} exists", code="department_exists", department=code)
    rows, _, check = _validate(session, {"departments": [{"regions": [], **data}]})
    _single(check)
    _upsert_departments(session, rows)
    return get_department(session, rows[0]["code"])


def update_department(session: Session, code: str, changes: dict[str, Any]) -> Department:
    """Change a department's fields or regions; its code is stable and cannot change."""
    dept = get_department(session, code)
    if "code" in changes and changes["code"] != code:
        raise ValidationError("a department's code cannot change", field="code")
    merged = {**department_dict(dept), **changes, "code": code}
    rows, _, check = _validate(session, {"departments": [merged]})
    _single(check)
    _upsert_departments(session, rows)
    return dept


def delete_department(session: Session, code: str) -> None:
    """Delete a department nothing refers to; otherwise 409 (deactivate it instead)."""
    dept = get_department(session, code)
    children = session.scalar(select(func.count()).where(Department.parent_code == code))
    rules = session.scalar(select(func.count()).where(ResponsibilityRule.department_code == code))
    if children or rules:
        raise Conflict(
            f"department {code} has {children} sub-department(s) and {rules} rule(s); "
            "set active=false instead",
            code="department_in_use",
            department=code,
        )
    session.delete(dept)
    session.flush()


def list_rules(
    session: Session, *, kind: Kind | None = None, department_code: str | None = None
) -> list[ResponsibilityRule]:
    q = select(ResponsibilityRule).order_by(
        ResponsibilityRule.kind,
        ResponsibilityRule.subclass_code,
        ResponsibilityRule.priority,
        ResponsibilityRule.id,
    )
    if kind is not None:
        q = q.where(ResponsibilityRule.kind == kind)
    if department_code is not None:
        q = q.where(ResponsibilityRule.department_code == department_code)
    return list(session.scalars(q))


def get_rule(session: Session, rule_id: int) -> ResponsibilityRule:
    rule = session.get(ResponsibilityRule, rule_id)
    if rule is None:
        raise NotFound(f"no responsibility rule {rule_id}", code="rule_not_found", rule=rule_id)
    return rule


def _checked_rule(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    _, rules, check = _validate(session, {"rules": [data]})
    _single(check)
    assert rules is not None
    return rules[0]


def create_rule(session: Session, data: dict[str, Any]) -> ResponsibilityRule:
    """Add one row to the matrix (422 naming every bad field)."""
    row = _checked_rule(session, data)
    rule = ResponsibilityRule(**{f: row[f] for f in RULE_FIELDS})
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: int, changes: dict[str, Any]) -> ResponsibilityRule:
    rule = get_rule(session, rule_id)
    row = _checked_rule(session, {**rule_dict(rule), **changes})
    for field in RULE_FIELDS:
        setattr(rule, field, row[field])
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    session.delete(get_rule(session, rule_id))
    session.flush()


# --- routing snapshot -------------------------------------------------------------------------


def rules_for(session: Session) -> RoutingTables:
    """The matrix and the departments as plain frozen objects for :func:`route`."""
    departments = {
        d.code: RoutingDepartment(d.code, d.name, d.active, tuple(d.region_codes))
        for d in session.scalars(select(Department))
    }
    rules = tuple(
        RoutingRule(
            kind=r.kind,
            subclass_code=r.subclass_code,
            department_code=r.department_code,
            basis=r.basis,
            priority=r.priority,
            region_prefix=r.region_prefix,
            id=r.id,
        )
        for r in session.scalars(select(ResponsibilityRule).order_by(ResponsibilityRule.id))
    )
    return RoutingTables(rules, departments)
