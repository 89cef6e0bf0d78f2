"""Request and response bodies of the departments API.

Bodies are typed loosely here; :mod:`gridgov.departments.service` checks meaning (unknown parent,
cycles, unknown regions ...) and answers 422 naming every problem.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gridgov.cases.routing import Basis
from gridgov.codes.admin import Level
from gridgov.taxonomy.models import Kind


class DepartmentIn(BaseModel):
    """A new department (专业部门 / 处置单位)."""

    code: str = Field(max_length=40, description="stable code, e.g. QCGZFJ")
    name: str = Field(max_length=100)
    parent_code: str | None = None
    level: Level = Level.DISTRICT
    active: bool = True
    phone: str | None = Field(default=None, max_length=30)
    sort_order: int = 0
    regions: list[str] = Field(default_factory=list, description="region codes it covers (属地)")


class DepartmentPatch(BaseModel):
    """Fields to change; the code never changes."""

    name: str | None = Field(default=None, max_length=100)
    parent_code: str | None = None
    level: Level | None = None
    active: bool | None = None
    phone: str | None = Field(default=None, max_length=30)
    sort_order: int | None = None
    regions: list[str] | None = None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    parent_code: str | None
    level: Level
    active: bool
    phone: str | None
    sort_order: int
    region_codes: list[str]


class RuleIn(BaseModel):
    """A row of the responsibility matrix (责任矩阵)."""

    kind: Kind
    subclass_code: str = Field(default="", max_length=4, description="0101, 01 or empty")
    region_prefix: str | None = Field(default=None, max_length=12)
    department_code: str | None = Field(
        default=None, max_length=40, description="empty only for territory: whoever covers"
    )
    priority: int = 100
    basis: Basis
    note: str = ""


class RulePatch(BaseModel):
    kind: Kind | None = None
    subclass_code: str | None = Field(default=None, max_length=4)
    region_prefix: str | None = Field(default=None, max_length=12)
    department_code: str | None = Field(default=None, max_length=40)
    priority: int | None = None
    basis: Basis | None = None
    note: str | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Kind
    subclass_code: str
    region_prefix: str | None
    department_code: str | None
    priority: int
    basis: Basis
    note: str


class ImportSummary(BaseModel):
    departments_created: int
    departments_updated: int
    rules: int


class CandidateRead(BaseModel):
    department_code: str
    department_name: str
    basis: str
    rule_id: int | None


class RoutingPreview(BaseModel):
    """What routing would decide, with its reason and every candidate in order."""

    department_code: str | None
    reason: str
    candidates: list[CandidateRead]
