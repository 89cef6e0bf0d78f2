"""Who gets a case: a pure decision over the responsibility matrix (责任矩阵).

Routing is data (STYLE.md, after FixMyStreet): departments cover regions, matrix rows say which
department answers for which subclass where, and this module only applies the rows. It reads no
database and knows no city: :mod:`gridgov.departments.service` builds the snapshot
(:func:`~gridgov.departments.service.rules_for`) and the caller stores the decision on the case.

The order follows DESIGN §3.2:

* components (部件) — "先属主、后属地": the component's own owner department (from the inventory)
  first, then the matrix's ``owner`` rows, then ``territory`` rows, then ``subclass`` rows;
* events (事件) — "先属地、后属主": ``territory`` rows first, then ``subclass`` rows (the department
  that owns the subclass), then ``owner`` rows.

Among matching rows, a row for the exact 4-digit subclass overrides rows for its 2-digit major
class, which override catch-all rows (empty subclass code); then the basis order above applies;
then ``priority`` (smaller first); then the more specific region prefix; then the department code.
A ``territory`` row without a department means "the active departments whose covered region is
the most specific prefix of the grid code" (normally the one street office, 街道办事处). Nothing
matching gives ``department_code=None`` and the reason "无匹配部门，转协调": the case goes to the
coordination queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gridgov.taxonomy.models import Kind

NO_MATCH = "无匹配部门，转协调"


class Basis(StrEnum):
    """Why a matrix row names its department."""

    OWNER = "owner"  # 属主: the owner / maintainer of the component class
    TERRITORY = "territory"  # 属地: the department covering the place (street office ...)
    SUBCLASS = "subclass"  # 主管: the department that owns the subclass (行业主管)


BASIS_LABELS = {Basis.OWNER: "属主", Basis.TERRITORY: "属地", Basis.SUBCLASS: "主管"}
KIND_LABELS = {Kind.COMPONENT: "部件", Kind.EVENT: "事件"}
PRINCIPLE = {Kind.COMPONENT: "先属主后属地", Kind.EVENT: "先属地后属主"}

# Basis order per kind; rank 0 is tried first. The inventory owner of a component ranks -1.
BASIS_ORDER: dict[Kind, tuple[Basis, ...]] = {
    Kind.COMPONENT: (Basis.OWNER, Basis.TERRITORY, Basis.SUBCLASS),
    Kind.EVENT: (Basis.TERRITORY, Basis.SUBCLASS, Basis.OWNER),
}


@dataclass(frozen=True)
class RoutingRule:
    """One row of the responsibility matrix, detached from the database.

    ``subclass_code`` is a 4-digit subclass, a 2-digit major-class prefix or ``""`` (every
    subclass of ``kind``); ``region_prefix`` limits the row to grids whose code starts with it
    (``None``: everywhere); ``department_code`` may be ``None`` only for ``territory`` rows.
    """

    kind: Kind
    subclass_code: str
    department_code: str | None
    basis: Basis
    priority: int = 100
    region_prefix: str | None = None
    id: int | None = None

    def matches(self, kind: Kind, subclass_code: str, grid_code: str) -> bool:
        """True when the row applies to this subclass in this grid."""
        return (
            self.kind == kind
            and subclass_code.startswith(self.subclass_code)
            and (not self.region_prefix or grid_code.startswith(self.region_prefix))
        )


@dataclass(frozen=True)
class RoutingDepartment:
    """What routing needs to know of a department: name, whether active, covered regions."""

    code: str
    name: str
    active: bool = True
    regions: tuple[str, ...] = ()

    def coverage(self, grid_code: str) -> int:
        """Length of the longest covered region code that is a prefix of the grid (0: none)."""
        return max((len(r) for r in self.regions if grid_code.startswith(r)), default=0)


@dataclass(frozen=True)
class Candidate:
    """A department that could take the case, in the order routing tried them."""

    department_code: str
    department_name: str
    basis: str  # a Basis value, or "component_owner" for the inventory owner
    rule_id: int | None = None


@dataclass(frozen=True)
class RoutingDecision:
    """The chosen department (``None``: coordination queue), why, and every candidate in order."""

    department_code: str | None
    reason: str
    candidates: list[Candidate] = field(default_factory=list)


def _label(department: RoutingDepartment) -> str:
    return f"{department.name}（{department.code}）"


def route(
    kind: Kind | str,
    subclass_code: str,
    grid_code: str,
    component_owner: str | None,
    rules: Iterable[RoutingRule],
    departments: Mapping[str, RoutingDepartment],
    *,
    subclass_name: str = "",
) -> RoutingDecision:
    """Decide which department gets a case of ``subclass_code`` in ``grid_code``.

    ``component_owner`` is the owner department code recorded on the component (components only;
    ignored for events). ``subclass_name`` only makes the reason easier to read.
    """
    kind = Kind(kind)
    what = f"{subclass_code} {subclass_name}".strip()
    where = f"网格 {grid_code}"
    principle = PRINCIPLE[kind]
    notes: list[str] = []
    ordered: list[tuple[Candidate, str]] = []
    seen: set[str] = set()

    def add(dept: RoutingDepartment, basis: str, rule_id: int | None, reason: str) -> None:
        if dept.code not in seen:
            seen.add(dept.code)
            ordered.append((Candidate(dept.code, dept.name, basis, rule_id), reason))

    if kind is Kind.COMPONENT and component_owner:
        owner = departments.get(component_owner)
        if owner is not None and owner.active:
            add(
                owner,
                "component_owner",
                None,
                f"部件权属单位优先（{principle}）: {what} → {_label(owner)}",
            )
        else:
            state = "未登记" if owner is None else "已停用"
            notes.append(f"部件权属单位 {component_owner} {state}")
    elif kind is Kind.COMPONENT:
        notes.append("部件无登记权属单位")

    rank = {basis: i for i, basis in enumerate(BASIS_ORDER[kind])}
    matching = [r for r in rules if r.matches(kind, subclass_code, grid_code)]
    matching.sort(
        key=lambda r: (
            -len(r.subclass_code),
            rank[r.basis],
            r.priority,
            -len(r.region_prefix or ""),
            r.department_code or "",
            r.id or 0,
        )
    )
    for rule in matching:
        rule_ref = f"规则#{rule.id}" if rule.id is not None else "规则"
        scope = rule.subclass_code or "全部"
        label = BASIS_LABELS[rule.basis]
        if rule.department_code is None:
            if rule.basis is not Basis.TERRITORY:
                continue
            covering = [d for d in departments.values() if d.active and d.coverage(grid_code)]
            best = max((d.coverage(grid_code) for d in covering), default=0)
            for dept in sorted(covering, key=lambda d: d.code):
                if dept.coverage(grid_code) < best:
                    continue
                add(
                    dept,
                    rule.basis.value,
                    rule.id,
                    f"{KIND_LABELS[kind]}按{label}（{principle}，{rule_ref} {scope}）: "
                    f"{what} @ {where} → {_label(dept)}",
                )
            continue
        named = departments.get(rule.department_code)
        if named is None or not named.active:
            continue
        if rule.basis is Basis.TERRITORY and not named.coverage(grid_code):
            continue
        at = f" @ {where}" if rule.basis is Basis.TERRITORY else ""
        add(
            named,
            rule.basis.value,
            rule.id,
            f"{KIND_LABELS[kind]}按{label}（{principle}，{rule_ref} {scope}）: "
            f"{what}{at} → {_label(named)}",
        )

    prefix = "；".join(notes) + "；" if notes else ""
    if not ordered:
        return RoutingDecision(
            None, f"{NO_MATCH}: {prefix}{KIND_LABELS[kind]} {what} @ {where}", []
        )
    first, reason = ordered[0]
    return RoutingDecision(first.department_code, prefix + reason, [c for c, _ in ordered])
