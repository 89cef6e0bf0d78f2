"""Taxonomy admin HTTP API: classes, subclasses, import and export (JSON, Excel)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from gridgov.accounts.audit import record
from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.deps import CurrentUser, SessionDep
from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind
from gridgov.taxonomy.schemas import ClassRead, ImportSummary, SubclassRead

router = APIRouter(tags=["taxonomy"])

KindQuery = Annotated[Kind | None, Query(description="component (部件) or event (事件)")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/taxonomy/classes", response_model=list[ClassRead])
def list_classes(session: SessionDep, kind: KindQuery = None) -> list[ClassRead]:
    """Major classes (大类), components first, in their sort order."""
    return [ClassRead.model_validate(c) for c in service.list_classes(session, kind)]


@router.get("/taxonomy/subclasses", response_model=list[SubclassRead])
def list_subclasses(
    session: SessionDep,
    kind: KindQuery = None,
    q: Annotated[
        str | None,
        Query(max_length=50, description="Chinese name, code prefix or pinyin initials (bllj)"),
    ] = None,
) -> list[SubclassRead]:
    """Active subclasses (小类) with their conditions and time limits, optionally searched."""
    return [SubclassRead.model_validate(s) for s in service.list_subclasses(session, kind, q)]


@router.get("/taxonomy/subclasses/{code}", response_model=SubclassRead)
def get_subclass(session: SessionDep, code: str, kind: KindQuery = None) -> SubclassRead:
    """One subclass by its 4-digit code; give ``kind`` when both trees use the code (422)."""
    return SubclassRead.model_validate(service.get_subclass(session, code, kind))


@router.get("/taxonomy/export.json")
def export_json(session: SessionDep) -> dict[str, Any]:
    """The whole taxonomy in the format POST /taxonomy/import accepts."""
    return service.export_json(session)


@router.get("/taxonomy/export.xlsx", response_class=Response)
def export_xlsx(session: SessionDep) -> Response:
    """The whole taxonomy as an Excel workbook (sheets classes, subclasses, time_limits)."""
    buffer = io.BytesIO()
    service.export_excel(session, buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="taxonomy.xlsx"'},
    )


@router.post("/taxonomy/import", response_model=ImportSummary)
def import_json(
    session: SessionDep, user: CurrentUser, data: Annotated[dict[str, Any], Body()]
) -> ImportSummary:
    """Create or update classes and subclasses from a JSON document (see export.json).

    The whole document is checked first; any bad row refuses it (422, every problem listed
    with sheet, row, field and reason) and nothing is written.
    """
    authorize(user, {Role.ADMIN}, action="import the taxonomy")
    summary = ImportSummary(**service.import_json(session, data))
    record(session, user, "taxonomy.import", ("taxonomy", "all"), summary.model_dump())
    return summary
