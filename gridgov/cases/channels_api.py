"""HTTP API of the intake channels: hotline bulk import and the IoT / video-patrol webhook.

Thin: parse, call :mod:`gridgov.cases.channels`, answer. The webhook authenticates by an HMAC
signature of the raw body (checked before the body is parsed), not by a login.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Header, Request, Response, UploadFile
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticError

from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.cases import alarms, channels
from gridgov.cases.numbering import release_case_counter
from gridgov.cases.workflow import Channel
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.errors import Unauthorized, ValidationError
from gridgov.media.checks import PayloadTooLarge

router = APIRouter(tags=["intake"])

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_ALARM_BYTES = 64 * 1024


class HotlineImportRead(BaseModel):
    """The result of a hotline import: new case numbers and tickets imported before."""

    file: str
    created: list[str]
    skipped: list[str]


class AlarmIn(BaseModel):
    """A machine alarm. ``observed_at`` without a time zone is Beijing time."""

    source: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    alarm_id: str = Field(min_length=1, max_length=50, pattern=r"^[\x21-\x7e]+$")
    subclass_code: str = Field(pattern=r"^\d{4}$")
    subclass_kind: Literal["event", "component"] | None = None
    channel: Literal["sensor", "video"] = "sensor"
    urgency: str | None = Field(None, max_length=20)
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    description: str = Field(min_length=1, max_length=1800)
    observed_at: datetime


class AlarmRead(BaseModel):
    """The case an alarm became; ``created`` is false for a repeated delivery."""

    case_no: str
    state: str
    channel: str
    created: bool


@router.post("/cases/import/hotline", response_model=HotlineImportRead)
def import_hotline(
    file: Annotated[UploadFile, File(description="hotline records: CSV (UTF-8/GBK) or .xlsx")],
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> HotlineImportRead:
    """热线工单导入 (acceptor, admin). All or nothing: a file with a bad row is refused (422) with
    every problem listed by row number; tickets imported before are skipped."""
    authorize(user, {Role.ACCEPTOR, Role.ADMIN}, action="import hotline records")
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    name = Path(file.filename or "hotline.csv").name or "hotline.csv"
    with tempfile.TemporaryDirectory(prefix="gridgov-hotline-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result = channels.import_hotline(
            session, path, actor=user, settings=settings, now=datetime.now(UTC)
        )
        release_case_counter(session)
    return HotlineImportRead(file=result.file, created=result.created, skipped=result.skipped)


async def _raw_body(request: Request) -> bytes:
    """The request body, at most MAX_ALARM_BYTES (413 beyond)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ALARM_BYTES:
            raise PayloadTooLarge(f"an alarm is at most {MAX_ALARM_BYTES} bytes")
    return bytes(body)


@router.post("/intake/alarm", status_code=201, response_model=AlarmRead)
def alarm(
    body: Annotated[bytes, Depends(_raw_body)],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    x_gridgov_signature: Annotated[str | None, Header()] = None,
) -> AlarmRead:
    """物联感知 / 视频巡查 alarm → case. Signed with ``X-Gridgov-Signature: sha256=<hex
    HMAC-SHA256 of the raw body>`` using ``iot_webhook_secret``; a bad or missing signature,
    or no secret configured, is 401. A repeated ``source``/``alarm_id`` returns the first case
    (200 instead of 201)."""
    alarms.verify_signature(settings.iot_webhook_secret, body, x_gridgov_signature)
    try:
        raw = json.loads(body)
    except ValueError:
        raise ValidationError("the body is not JSON", field="body") from None
    try:
        parsed = AlarmIn.model_validate(raw)
    except PydanticError as exc:
        msg = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationError(msg, field="body") from None
    account = channels.intake_account(session, settings)
    if account is None:
        raise Unauthorized(
            f"webhook not configured: no active acceptor account {settings.intake_account!r}",
            code="webhook_not_configured",
        )
    data = parsed.model_dump()
    data["channel"] = Channel(parsed.channel)
    item = alarms.Alarm(**data)
    earlier = alarms.find_alarm_case(session, account, item)
    case = earlier or alarms.intake_alarm(session, item, account=account, now=datetime.now(UTC))
    release_case_counter(session)
    if earlier is not None:
        response.status_code = 200
    return AlarmRead(
        case_no=case.case_no, state=str(case.state), channel=str(case.channel), created=not earlier
    )
