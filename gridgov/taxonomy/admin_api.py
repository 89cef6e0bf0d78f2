"""Taxonomy admin writes over HTTP: one subclass's time limit, and the Excel import.

``PUT /api/taxonomy/subclasses/{code}/time-limits`` sets one limit (立案/派遣/核查, or 处置 for one
urgency) through :func:`gridgov.taxonomy.service.set_time_limit`, validated like a row of an
import (a bad value or unit is a 422 naming the field); ``POST /api/taxonomy/import.xlsx`` takes
the workbook ``GET /api/taxonomy/export.xlsx`` writes. Admins only; every write is audited.
Reads and the JSON import/export are in :mod:`gridgov.taxonomy.api`.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, File, Path, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from gridgov.accounts.audit import record
from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.deps import CurrentUser, SessionDep
from gridgov.errors import ValidationError
from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind, Step, TimeUnit, Urgency
from gridgov.taxonomy.schemas import ImportSummary, SubclassRead

router = APIRouter(tags=["taxonomy"])

ADMIN = {Role.ADMIN}
#: A district's taxonomy workbook is tens of kilobytes; a city's with thousands of rows a few MB.
MAX_WORKBOOK_BYTES = 10 * 1024 * 1024


class TimeLimitIn(BaseModel):
    """One time limit of a subclass. ``urgency`` is given for the handle step (处置) only: one
    limit per urgency level; the other steps have one limit each."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind = Field(description="component (部件) or event (事件): which tree the code is in")
    step: Step
    urgency: Urgency | None = None
    value: int = Field(description="how many units; the import's rules check the range")
    unit: TimeUnit


@router.put("/taxonomy/subclasses/{code}/time-limits", response_model=SubclassRead)
def set_time_limit(
    code: Annotated[str, Path(pattern=r"^\d{4}$", description="the subclass's 4-digit code")],
    body: TimeLimitIn,
    session: SessionDep,
    user: CurrentUser,
) -> SubclassRead:
    """Set one time limit of a subclass (admin) and answer the subclass with all its limits.
    Cases registered from now on get the new limit; running deadlines keep theirs."""
    authorize(user, ADMIN, action="change time limits")
    before = {
        (t.step, t.urgency): f"{t.value} {t.unit.value}"
        for t in service.get_subclass(session, code, body.kind).time_limits
    }
    service.set_time_limit(
        session,
        kind=body.kind,
        code=code,
        step=body.step,
        value=body.value,
        unit=body.unit,
        urgency=body.urgency,
    )
    sub = service.get_subclass(session, code, body.kind)
    session.refresh(sub)
    record(
        session,
        user,
        "taxonomy.time_limit",
        ("subclass", f"{body.kind.value}:{code}"),
        {
            "step": body.step.value,
            "urgency": body.urgency.value if body.urgency else None,
            "before": before.get((body.step, body.urgency)),
            "after": f"{body.value} {body.unit.value}",
        },
    )
    return SubclassRead.model_validate(sub)


@router.post("/taxonomy/import.xlsx", response_model=ImportSummary)
def import_workbook(
    file: Annotated[UploadFile, File(description="a workbook as export.xlsx writes it")],
    session: SessionDep,
    user: CurrentUser,
) -> ImportSummary:
    """Create or update classes and subclasses from an Excel workbook (sheets classes,
    subclasses, time_limits). Any bad row refuses the whole workbook (422 listing each with
    sheet, row, field and reason) and nothing is written."""
    authorize(user, ADMIN, action="import the taxonomy")
    data = file.file.read(MAX_WORKBOOK_BYTES + 1)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise ValidationError(
            f"the workbook is larger than {MAX_WORKBOOK_BYTES // (1024 * 1024)} MB", field="file"
        )
    if not data:
        raise ValidationError("the uploaded file is empty", field="file")
    summary = ImportSummary(**service.import_excel(session, io.BytesIO(data)))
    record(
        session,
        user,
        "taxonomy.import",
        ("taxonomy", "all"),
        {**summary.model_dump(), "format": "xlsx", "file": (file.filename or "")[:100]},
    )
    return summary
