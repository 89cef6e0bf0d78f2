"""Departments admin HTTP API: departments, the responsibility matrix, import/export, a preview.

Reads are open to every logged-in user; writes are for admins only. Every write is audited.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select

from gridgov.accounts.audit import record
from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.cases.routing import route
from gridgov.departments import service
from gridgov.departments.schemas import (
    DepartmentIn,
    DepartmentPatch,
    DepartmentRead,
    ImportSummary,
    RoutingPreview,
    RuleIn,
    RulePatch,
    RuleRead,
)
from gridgov.deps import CurrentUser, SessionDep
from gridgov.taxonomy.models import Kind, Subclass

router = APIRouter(tags=["departments"])
ADMIN = {Role.ADMIN}


@router.get("/departments", response_model=list[DepartmentRead])
def list_departments(
    session: SessionDep, user: CurrentUser, active: bool | None = None
) -> list[DepartmentRead]:
    """Departments in their sort order, optionally only the active (or inactive) ones."""
    return [
        DepartmentRead.model_validate(d) for d in service.list_departments(session, active=active)
    ]


@router.get("/departments/export.json")
def export_json(session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Every department and the whole matrix, in the format POST /departments/import takes."""
    return service.export_json(session)


@router.post("/departments/import", response_model=ImportSummary)
def import_json(
    session: SessionDep, user: CurrentUser, data: Annotated[dict[str, Any], Body()]
) -> ImportSummary:
    """Create or update departments by code; a ``rules`` list replaces the whole matrix.

    Any problem refuses the whole document (422 listing every one) and nothing is written.
    """
    authorize(user, ADMIN, action="import departments")
    summary = ImportSummary(**service.import_json(session, data))
    record(session, user, "departments.import", ("department", "all"), summary.model_dump())
    return summary


@router.get("/departments/{code}", response_model=DepartmentRead)
def get_department(session: SessionDep, user: CurrentUser, code: str) -> DepartmentRead:
    return DepartmentRead.model_validate(service.get_department(session, code))


@router.post("/departments", response_model=DepartmentRead, status_code=201)
def create_department(session: SessionDep, user: CurrentUser, body: DepartmentIn) -> DepartmentRead:
    authorize(user, ADMIN, action="create departments")
    dept = service.create_department(session, body.model_dump(mode="json"))
    record(session, user, "department.create", dept, body.model_dump(mode="json"))
    return DepartmentRead.model_validate(dept)


@router.patch("/departments/{code}", response_model=DepartmentRead)
def update_department(
    session: SessionDep, user: CurrentUser, code: str, body: DepartmentPatch
) -> DepartmentRead:
    authorize(user, ADMIN, action="change departments")
    changes = body.model_dump(mode="json", exclude_unset=True)
    dept = service.update_department(session, code, changes)
    record(session, user, "department.update", dept, changes)
    return DepartmentRead.model_validate(dept)


@router.delete("/departments/{code}", status_code=204)
def delete_department(session: SessionDep, user: CurrentUser, code: str) -> Response:
    authorize(user, ADMIN, action="delete departments")
    service.delete_department(session, code)
    record(session, user, "department.delete", ("department", code))
    return Response(status_code=204)


@router.get("/responsibility-rules", response_model=list[RuleRead])
def list_rules(
    session: SessionDep,
    user: CurrentUser,
    kind: Kind | None = None,
    department_code: str | None = None,
) -> list[RuleRead]:
    """The responsibility matrix (责任矩阵), optionally for one kind or one department."""
    rules = service.list_rules(session, kind=kind, department_code=department_code)
    return [RuleRead.model_validate(r) for r in rules]


@router.post("/responsibility-rules", response_model=RuleRead, status_code=201)
def create_rule(session: SessionDep, user: CurrentUser, body: RuleIn) -> RuleRead:
    authorize(user, ADMIN, action="change the responsibility matrix")
    rule = service.create_rule(session, body.model_dump(mode="json"))
    record(session, user, "responsibility_rule.create", rule, body.model_dump(mode="json"))
    return RuleRead.model_validate(rule)


@router.patch("/responsibility-rules/{rule_id}", response_model=RuleRead)
def update_rule(session: SessionDep, user: CurrentUser, rule_id: int, body: RulePatch) -> RuleRead:
    authorize(user, ADMIN, action="change the responsibility matrix")
    changes = body.model_dump(mode="json", exclude_unset=True)
    rule = service.update_rule(session, rule_id, changes)
    record(session, user, "responsibility_rule.update", rule, changes)
    return RuleRead.model_validate(rule)


@router.delete("/responsibility-rules/{rule_id}", status_code=204)
def delete_rule(session: SessionDep, user: CurrentUser, rule_id: int) -> Response:
    authorize(user, ADMIN, action="change the responsibility matrix")
    service.delete_rule(session, rule_id)
    record(session, user, "responsibility_rule.delete", ("responsibility_rule", rule_id))
    return Response(status_code=204)


@router.get("/routing/preview", response_model=RoutingPreview)
def preview(
    session: SessionDep,
    user: CurrentUser,
    kind: Kind,
    subclass_code: Annotated[str, Query(pattern=r"^\d{4}$")],
    grid_code: Annotated[str, Query(pattern=r"^\d{12,15}$")],
    component_owner: Annotated[str | None, Query(max_length=40)] = None,
) -> RoutingPreview:
    """Which department the current matrix would choose, and why (nothing is stored)."""
    tables = service.rules_for(session)
    name = session.scalar(
        select(Subclass.name).where(Subclass.kind == kind, Subclass.code == subclass_code)
    )
    decision = route(
        kind,
        subclass_code,
        grid_code,
        component_owner,
        tables.rules,
        tables.departments,
        subclass_name=name or "",
    )
    return RoutingPreview.model_validate(asdict(decision))
