"""Public tracking over HTTP (公众查询): report without an account, follow the case, rate it.

Thin: parse, rate limit, call the service, answer. Tracking codes live in
:mod:`gridgov.cases.tracking`, the public view and the rating in :mod:`gridgov.cases.public`.

An anonymous report gets a **tracking code** (查询码) next to its case number. With both, anyone
can read the case's public view and, once the case is closed, rate it once (评价). A wrong code
and an unknown case answer the same 404, so case numbers cannot be probed. Every endpoint here
is rate limited per client (the shared database limiter, :mod:`gridgov.ratelimit`), keyed by
the login session when there is one, else by IP address, before anything is read. Reports made
with ``POST /api/cases`` by anonymous reporters and residents count against the same
``public-report`` limit (:func:`count_public_report`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gridgov.accounts.models import Role
from gridgov.accounts.permissions import authorize
from gridgov.cases import service
from gridgov.cases.numbering import release_case_counter
from gridgov.cases.public import STAGES, PublicCaseRead, public_view, rate
from gridgov.cases.tracking import find_tracked_case, tracking_code
from gridgov.config import Settings
from gridgov.deps import OptionalUser, SessionDep, SettingsDep
from gridgov.media.storage import storage_for
from gridgov.ratelimit import RateLimitRoute, enforce_public

router = APIRouter(tags=["public"], route_class=RateLimitRoute)

#: The limiter (and its setting) every public report counts against, whichever endpoint.
REPORT_LIMITER = "public-report"
REPORT_LIMIT_SETTING = "public_reports_per_minute"


# ---- rate limits ----------------------------------------------------------------------------


def _hit(request: Request, settings: Settings, name: str, setting: str) -> None:
    enforce_public(request, name, int(getattr(settings, setting)))


def count_public_report(request: Request, settings: Settings) -> None:
    """Count one public report on the shared ``public-report`` limiter (429 with
    ``Retry-After`` over ``public_reports_per_minute``)."""
    _hit(request, settings, REPORT_LIMITER, REPORT_LIMIT_SETTING)


def _limited(name: str, setting: str) -> Any:
    """A dependency counting one hit on the shared limiter ``name`` before anything is read:
    keyed by the login session's token hash when there is one, else by IP address."""

    def hit(request: Request, settings: SettingsDep) -> None:
        _hit(request, settings, name, setting)

    return Depends(hit)


# ---- HTTP -----------------------------------------------------------------------------------


class PublicContact(BaseModel):
    """How to reach the reporter with the result (optional; the phone is never shown)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9][0-9 \-]{4,28}$")


class PublicReportIn(BaseModel):
    """上报 by a resident: what and where (``lon``/``lat`` in ``crs``, WGS84 by default)."""

    model_config = ConfigDict(extra="forbid")
    subclass: str = Field(min_length=1, max_length=4, examples=["0102"])
    subclass_kind: Literal["component", "event"] | None = None
    urgency: str = Field(default="normal", max_length=20)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    description: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)
    contact: PublicContact | None = None


class PublicReportRead(BaseModel):
    """The new case's number and tracking code: the reporter keeps both to follow it."""

    case_no: str
    tracking_code: str
    stage: str
    stage_text: str
    reported_at: datetime | None
    track_url: str


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


CaseNo = Annotated[str, Path(min_length=1, max_length=40)]
Code = Annotated[str, Query(min_length=1, max_length=40, description="the tracking code")]


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/public/reports",
    status_code=201,
    response_model=PublicReportRead,
    dependencies=[_limited(REPORT_LIMITER, REPORT_LIMIT_SETTING)],
)
def report(
    body: PublicReportIn,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> PublicReportRead:
    """公众上报 without an account (or as a logged-in resident): the same checks as
    ``POST /api/cases`` (photo ids must have been uploaded with ``POST /api/media``); answers
    the case number and its tracking code. A repeated
    ``Idempotency-Key`` answers the first case; anonymous clients must send a random key of at
    least 16 characters (a UUID), and a key reused for a different report (subclass,
    description or point) is a 409 (both checked by ``intake.create_case``)."""
    if user is not None:
        authorize(
            user,
            {Role.RESIDENT},
            action="report through the public portal (staff report with POST /api/cases)",
        )
    now = _now()
    case = service.create_case(
        session,
        actor=user,
        channel=None,
        subclass=body.subclass,
        subclass_kind=body.subclass_kind,
        urgency=body.urgency,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        description=body.description,
        photos=body.photos,
        contact=body.contact.model_dump() if body.contact else None,
        idempotency_key=idempotency_key,
        now=now,
        media=storage_for(settings),
    )
    release_case_counter(session)
    code = tracking_code(case.case_no, settings)
    stage, stage_text = STAGES[case.state]
    return PublicReportRead(
        case_no=case.case_no,
        tracking_code=code,
        stage=stage,
        stage_text=stage_text,
        reported_at=case.reported_at,
        track_url=f"/api/public/cases/{case.case_no}?code={code}",
    )


@router.get(
    "/public/cases/{case_no}",
    response_model=PublicCaseRead,
    dependencies=[_limited("public-lookup", "public_lookups_per_minute")],
)
def track(
    case_no: CaseNo, code: Code, session: SessionDep, settings: SettingsDep
) -> PublicCaseRead:
    """查询: the public view of a case for the holder of its tracking code; 404 for a wrong
    code exactly as for an unknown case."""
    case = find_tracked_case(session, case_no, code, settings)
    return public_view(session, case, _now())


@router.post(
    "/public/cases/{case_no}/rating",
    response_model=PublicCaseRead,
    dependencies=[_limited("public-lookup", "public_lookups_per_minute")],
)
def rate_case(
    case_no: CaseNo, body: RatingIn, session: SessionDep, settings: SettingsDep
) -> PublicCaseRead:
    """评价 a closed case once (score 1–5, optional comment); 404 for a wrong code, 409 when the
    case is not closed yet or was already rated."""
    case = find_tracked_case(session, case_no, body.code, settings)
    now = _now()
    comment = body.comment.strip() if body.comment else None
    case = rate(session, case, body.score, comment or None, now)
    return public_view(session, case, now)
