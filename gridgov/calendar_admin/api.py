"""Working-calendar HTTP API (工作日历): year status, rules, notice import, local overrides.

Reads are open to every logged-in user; writes are for admins and audited. The lead mounts
:data:`router` under ``/api``.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.calendar_admin import store
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.errors import ValidationError
from gridgov.workcalendar import DayKind

router = APIRouter(tags=["calendar"])
ADMIN = {Role.ADMIN}
#: A notice is a few dozen rows; anything bigger than this is not one.
MAX_NOTICE_BYTES = 256 * 1024


class CalendarStatusRead(BaseModel):
    """Whether a year's holidays are known; ``warning`` (zh-CN / English) when they are not."""

    year: int
    covered: bool
    source: str = Field(description="package, notice or fallback (Monday–Friday)")
    warning: str | None
    warning_zh: str | None
    warning_en: str | None


class CalendarRuleRead(BaseModel):
    """One rule of a year: a stored notice or override row, or a holiday-package day."""

    date: date
    kind: str
    note: str
    source: str
    imported_at: datetime | None = None
    imported_by: int | None = None
    effective: bool


class OverrideIn(BaseModel):
    """A local override: the date is a holiday or a working day."""

    kind: DayKind
    note: str = Field("", max_length=200)


class NoticeSummary(BaseModel):
    """What a notice import did."""

    year: int
    rows: int
    holidays: int
    workdays: int
    replaced: int


def _this_year() -> int:
    return date.today().year


@router.get("/calendar/status", response_model=CalendarStatusRead)
def calendar_status(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    year: int | None = Query(None, ge=1900, le=2200),
) -> CalendarStatusRead:
    """Is ``year`` (default: this year) covered by the holiday package or an imported notice?
    When not, deadlines fall back to Monday–Friday and ``warning`` says so."""
    return CalendarStatusRead(**store.status(session, settings, year or _this_year()))


@router.get("/calendar/rules", response_model=list[CalendarRuleRead])
def calendar_rules(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    year: int | None = Query(None, ge=1900, le=2200),
) -> list[CalendarRuleRead]:
    """The rules of ``year`` (default: this year): package days, notice rows and overrides."""
    rows = store.list_rules(session, settings, year or _this_year())
    return [CalendarRuleRead(**r) for r in rows]


async def _notice_source(request: Request) -> Any:
    """Rows from a JSON body (a list, or ``{"rows": [...]}``) or a path to an uploaded CSV."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError("upload the notice CSV as the form field 'file'", field="file")
        data = await upload.read(MAX_NOTICE_BYTES + 1)
        if len(data) > MAX_NOTICE_BYTES:
            raise ValidationError("the notice file is too large for a holiday notice", field="file")
        return data
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise ValidationError("the body is not JSON", code="bad_json") from None
    rows = body.get("rows") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise ValidationError(
            'send the notice as JSON {"rows": [{"date": ..., "kind": ..., "note": ...}]} '
            "or upload a CSV file",
            field="rows",
        )
    return rows


@router.post("/calendar/notice", response_model=NoticeSummary)
async def import_notice(request: Request, session: SessionDep, user: CurrentUser) -> NoticeSummary:
    """Import a year's official holiday notice (admin): JSON rows or a CSV upload (field
    ``file``). Replaces that year's notice; a bad row refuses the whole notice (422)."""
    authorize(user, ADMIN, action="import holiday notices")
    source = await _notice_source(request)
    if isinstance(source, bytes):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "notice.csv"
            path.write_bytes(source)
            summary = store.import_notice(session, path, user)
    else:
        summary = store.import_notice(session, source, user)
    return NoticeSummary(**summary)


@router.put("/calendar/overrides/{day}", response_model=CalendarRuleRead)
def put_override(
    session: SessionDep, user: CurrentUser, day: str, body: OverrideIn
) -> CalendarRuleRead:
    """Declare ``day`` (YYYY-MM-DD) a holiday or a working day locally (admin)."""
    authorize(user, ADMIN, action="change the working calendar")
    row = store.set_override(session, day, body.kind, body.note, user)
    return CalendarRuleRead(
        date=row.day,
        kind=row.kind.value,
        note=row.note,
        source=row.source.value,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        effective=True,
    )


@router.delete("/calendar/overrides/{day}", status_code=204)
def delete_override(session: SessionDep, user: CurrentUser, day: str) -> None:
    """Remove the local override of ``day`` (admin); 404 when there is none."""
    authorize(user, ADMIN, action="change the working calendar")
    store.delete_override(session, day, user)
