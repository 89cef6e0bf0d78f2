"""Public tracking (公众查询): report without an account, follow the case, rate the result.

An anonymous report gets a **tracking code** (查询码) next to its case number. The code is an
HMAC of the case number with a server secret (``tracking_secret``, else ``secret_key``), so it
needs no column on the case, cannot be derived from the number, and the same number always has
the same code. With both, anyone can read the case's public view — the state in plain words, a
timeline without staff names or internal notes, the result after handling, the expected date —
and, once the case is closed, rate it once (评价) through the workflow's ``rate`` action.

A wrong code and an unknown case answer the same 404, so case numbers cannot be probed. Every
endpoint here is rate limited per client (the shared database limiter, :mod:`gridgov.ratelimit`),
keyed by the login session when there is one, else by IP address, before anything is read.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridgov.accounts import audit
from gridgov.accounts.auth import hash_token, request_token
from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import authorize
from gridgov.cases import dispatching, service
from gridgov.cases.actions import ANONYMOUS, from_snapshot, load_case, reject_nul, store_outcome
from gridgov.cases.deadlines import open_deadlines
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import Action, Actor, State, Step, allowed_actions, apply
from gridgov.config import Settings
from gridgov.departments.models import Department
from gridgov.deps import OptionalUser, SessionDep, SettingsDep
from gridgov.errors import Conflict, NotFound, ValidationError
from gridgov.media.storage import storage_for
from gridgov.ratelimit import RateLimitRoute, client_key, enforce
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import get_subclass

router = APIRouter(tags=["public"], route_class=RateLimitRoute)

# ---- tracking codes ------------------------------------------------------------------------

#: Crockford's base 32: no I, L, O, U, so a code read over the phone is not mistyped.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_LENGTH = 10  # 50 bits
_CONTEXT = b"gridgov/case-tracking/v1\x00"
MIN_ANONYMOUS_KEY = 16
NOT_FOUND = "no case with this number and tracking code"


def _secret(settings: Settings) -> bytes:
    return (settings.tracking_secret or settings.secret_key).encode("utf-8")


def tracking_code(case_no: str, settings: Settings) -> str:
    """The tracking code (查询码) of ``case_no``: ten characters of Crockford base 32 from
    HMAC-SHA256(secret, case number). Give it to the reporter with the case number."""
    digest = hmac.new(_secret(settings), _CONTEXT + case_no.encode("utf-8"), hashlib.sha256)
    number = int.from_bytes(digest.digest()[:8], "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def normalize_code(code: str) -> str:
    """Upper case, spaces and dashes dropped, O read as 0 and I/L as 1."""
    return code.strip().upper().replace("-", "").replace(" ", "").translate(_READ_AS)


def code_matches(case_no: str, code: str, settings: Settings) -> bool:
    """True when ``code`` is the tracking code of ``case_no`` (compared in constant time)."""
    return hmac.compare_digest(
        normalize_code(code).encode("utf-8"), tracking_code(case_no, settings).encode("utf-8")
    )


def find_tracked_case(session: Session, case_no: str, code: str, settings: Settings) -> Case:
    """The case, if ``code`` is its tracking code; the same 404 for a wrong code and an
    unknown case."""
    case = None
    if code_matches(case_no, code, settings):
        case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise NotFound(NOT_FOUND, code="case_not_found")
    return case


# ---- what the public sees ------------------------------------------------------------------

#: Public stage (公开状态) of each state: a code for the UI and the plain words (zh-CN).
STAGES: Mapping[State, tuple[str, str]] = {
    State.NEW: ("received", "已收到"),
    State.REPORTED: ("received", "已受理，等待立案"),
    State.VERIFYING: ("verifying", "正在现场核实"),
    State.VERIFIED: ("verifying", "已核实，等待立案"),
    State.AWAITING_DOCUMENTS: ("awaiting_documents", "等待补充材料"),
    State.AWAITING_APPROVAL: ("awaiting_approval", "等待上级审批"),
    State.REGISTERED: ("registered", "已立案，等待派遣"),
    State.ESCALATED: ("registered", "已立案，上级部门处理中"),
    State.DISPATCHED: ("handling", "处置中"),
    State.HANDLING: ("handling", "处置中"),
    State.REWORK: ("handling", "处置中"),
    State.RETURN_REQUESTED: ("handling", "处置中"),
    State.EXTENSION_REQUESTED: ("handling", "处置中"),
    State.HANG_REQUESTED: ("handling", "处置中"),
    State.VOID_REQUESTED: ("handling", "处置中"),
    State.HUNG: ("suspended", "暂时无法处置，已挂账"),
    State.HANDLED: ("checking", "已处置，等待核查"),
    State.CHECKING: ("checking", "已处置，正在核查"),
    State.CHECKED: ("checking", "核查通过，即将结案"),
    State.CLOSED: ("closed", "已办结"),
    State.REJECTED: ("not_accepted", "不予立案"),
    State.VOIDED: ("voided", "已作废"),
    State.MERGED: ("merged", "已与同一问题的其他反映合并处理"),
    State.REFERRED: ("referred", "不属本平台受理范围，已转交"),
}
#: Timeline text of each action the public sees; the others (requests waiting for approval,
#: denials, 督办, absorbing a duplicate) are internal and left out.
TIMELINE: Mapping[Action, str] = {
    Action.SUBMIT: "已收到您的反映",
    Action.ASSIGN_VERIFY: "已安排监督员现场核实",
    Action.VERIFY: "现场核实：问题属实",
    Action.VERIFY_FALSE: "现场核实：未发现所反映的问题",
    Action.REGISTER: "已立案",
    Action.REJECT: "不予立案",
    Action.DISPATCH: "已派遣处置部门",
    Action.ACCEPT: "处置部门已接收",
    Action.REPORT_BACK: "处置部门已反馈处置结果",
    Action.ASSIGN_CHECK: "已安排监督员现场核查",
    Action.CHECK_PASS: "现场核查通过",
    Action.CHECK_FAIL: "现场核查未通过，重新处置",
    Action.CLOSE: "已结案",
    Action.APPROVE_RETURN: "重新派遣处置部门",
    Action.APPROVE_EXTENSION: "处置期限已延长",
    Action.APPROVE_HANG: "暂时无法处置，已挂账",
    Action.RESUME: "恢复处置",
    Action.APPROVE_VOID: "已作废",
    Action.ESCALATE: "已上报上级部门",
    Action.ACCEPT_ESCALATION: "上级部门已受理",
    Action.DECLINE_ESCALATION: "由本级继续处理",
    Action.SELF_HANDLE: "监督员已现场处置",
    Action.MERGE: "已与同一问题的其他反映合并处理",
    Action.RATE: "已评价",
    Action.RESOLVE_ON_SPOT: "已当场办结",
    Action.PROMISE: "已受理，承诺办结时间",
    Action.REQUEST_DOCUMENTS: "请补充材料",
    Action.DOCUMENTS_RECEIVED: "材料已收齐",
    Action.REQUEST_APPROVAL: "已报上级审批",
    Action.GRANT_APPROVAL: "上级已批准",
    Action.REFUSE_APPROVAL: "上级未批准",
    Action.REFER: "已转交",
}
#: Payload fields written for the reporter (shown as the entry's ``detail``).
_DETAIL: Mapping[Action, str] = {
    Action.REQUEST_DOCUMENTS: "notice",
    Action.REFER: "referred_to",
    Action.PROMISE: "due_at",
    Action.RATE: "score",
}
#: Actions whose ``result`` and ``photos`` are the handling result shown to the reporter.
_RESULT_ACTIONS = (Action.REPORT_BACK, Action.SELF_HANDLE, Action.RESOLVE_ON_SPOT)
_RESULT_STATES = frozenset({State.HANDLED, State.CHECKING, State.CHECKED, State.CLOSED})
#: Running steps whose due time the reporter is told, first match wins.
_EXPECTED_STEPS = (Step.PROMISE, Step.REPLY, Step.HANDLE)


class TimelineEntry(BaseModel):
    at: datetime
    action: Action
    text: str
    detail: str | None = None


class PublicResult(BaseModel):
    """处置结果: what was done, with photos (media ids), once the case was handled."""

    text: str
    photos: list[str]
    at: datetime


class PublicRating(BaseModel):
    score: int
    comment: str | None
    at: datetime


class MergedInto(BaseModel):
    """The case a duplicate was merged into: its stage and result (专项反馈)."""

    stage: str
    stage_text: str
    result: PublicResult | None
    closed_at: datetime | None


class PublicCaseRead(BaseModel):
    """The public view of a case: no staff names, no internal notes, no reporter contact."""

    case_no: str
    stage: str
    stage_text: str
    subclass_code: str
    subclass_name: str | None
    description: str
    photos: list[str]
    lon: float
    lat: float
    reported_at: datetime | None
    closed_at: datetime | None
    expected_at: datetime | None  # the promised date or the handling deadline while it runs
    overdue: bool
    handled_by: str | None  # the department's name once dispatched
    timeline: list[TimelineEntry]
    result: PublicResult | None
    can_rate: bool
    rating: PublicRating | None
    merged_into: MergedInto | None


def _events(session: Session, case: Case) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    return list(session.scalars(stmt))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _result(case: Case, events: list[CaseEvent]) -> PublicResult | None:
    if case.state not in _RESULT_STATES:
        return None
    for e in reversed(events):
        if e.action in _RESULT_ACTIONS:
            payload = e.payload or {}
            photos = payload.get("photos") or []
            return PublicResult(
                text=str(payload.get("result") or ""),
                photos=[str(p) for p in photos] if isinstance(photos, list) else [],
                at=e.at,
            )
    return None


def rater_id(case: Case) -> int | None:
    """Who rates through the tracking code: the first reporter (a resident's user id, or
    ``ANONYMOUS`` for a report without an account); None when the case has no reporter."""
    reporters = from_snapshot(case.workflow).reporter_ids
    if case.reporter_user_id is not None and case.reporter_user_id in reporters:
        return case.reporter_user_id
    return ANONYMOUS if ANONYMOUS in reporters else None


def _rater_actor(session: Session, case: Case) -> Actor | None:
    rater = rater_id(case)
    if rater is None:
        return None
    if rater == ANONYMOUS:
        return Actor(ANONYMOUS, Role.RESIDENT, True)
    user = session.get(User, rater)
    return None if user is None else Actor(user.id, user.role, True)


def _rating(events: list[CaseEvent], rater: int | None) -> PublicRating | None:
    if rater is None:
        return None
    for e in events:
        if e.action is Action.RATE and (e.actor_user_id or ANONYMOUS) == rater:
            payload = e.payload or {}
            return PublicRating(
                score=int(payload.get("score") or 0), comment=_text(payload.get("comment")), at=e.at
            )
    return None


def _expected(session: Session, case: Case, now: datetime) -> tuple[datetime | None, bool]:
    running = {r.step: r for r in open_deadlines(session, [case.id]) if r.due_at is not None}
    for step in _EXPECTED_STEPS:
        row = running.get(step)
        if row is not None and row.due_at is not None:
            return row.due_at, now > row.due_at
    return None, False


def _subclass_name(session: Session, case: Case) -> str | None:
    stmt = select(Subclass.name).where(
        Subclass.code == case.subclass_code, Subclass.kind == Kind(case.subclass_kind)
    )
    return session.scalar(stmt)


def _merged_into(session: Session, case: Case) -> MergedInto | None:
    if case.state is not State.MERGED:
        return None
    master_id = from_snapshot(case.workflow).merged_into
    master = session.get(Case, master_id) if master_id else None
    if master is None:
        return None
    stage, text = STAGES[master.state]
    return MergedInto(
        stage=stage,
        stage_text=text,
        result=_result(master, _events(session, master)),
        closed_at=master.closed_at,
    )


def public_view(session: Session, case: Case, now: datetime) -> PublicCaseRead:
    """What the holder of the tracking code sees."""
    events = _events(session, case)
    timeline = [
        TimelineEntry(
            at=e.at,
            action=e.action,
            text=TIMELINE[e.action],
            detail=_text((e.payload or {}).get(_DETAIL[e.action])) if e.action in _DETAIL else None,
        )
        for e in events
        if e.action in TIMELINE
    ]
    stage, stage_text = STAGES[case.state]
    expected, overdue = _expected(session, case, now)
    actor = _rater_actor(session, case)
    can_rate = actor is not None and Action.RATE in allowed_actions(
        from_snapshot(case.workflow), actor
    )
    handled_by = None
    if case.department_code:
        handled_by = session.scalar(
            select(Department.name).where(Department.code == case.department_code)
        )
    return PublicCaseRead(
        case_no=case.case_no,
        stage=stage,
        stage_text=stage_text,
        subclass_code=case.subclass_code,
        subclass_name=_subclass_name(session, case),
        description=case.description,
        photos=list(case.photos or []),
        lon=case.lon,
        lat=case.lat,
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        expected_at=expected,
        overdue=overdue,
        handled_by=handled_by,
        timeline=timeline,
        result=_result(case, events),
        can_rate=can_rate,
        rating=_rating(events, rater_id(case)),
        merged_into=_merged_into(session, case),
    )


# ---- rating ---------------------------------------------------------------------------------


def rate(session: Session, case: Case, score: int, comment: str | None, now: datetime) -> Case:
    """评价 by the reporter the tracking code stands for, through the workflow's ``rate`` row
    (closed cases only, once per reporter: 409 otherwise). A resident's case goes through
    ``service.act`` as that resident; a report without an account through the same ``apply``
    and ``store_outcome`` as the anonymous actor (``act`` needs a user row for its audit)."""
    payload: dict[str, Any] = {"score": score}
    if comment:
        reject_nul(comment, "comment")
        payload["comment"] = comment
    rater = rater_id(case)
    if rater is None:
        raise Conflict(f"case {case.case_no} has no reporter who can rate it", code="no_reporter")
    if rater != ANONYMOUS:
        user = session.get(User, rater)
        if user is None:
            raise Conflict(f"the reporter of case {case.case_no} is gone", code="no_reporter")
        return service.act(session, case.case_no, Action.RATE, user, payload, case.version, now)
    case = load_case(session, case.case_no, for_update=True)
    outcome = apply(
        from_snapshot(case.workflow),
        Action.RATE,
        Actor(ANONYMOUS, Role.RESIDENT, True),
        payload,
        now,
    )
    subclass = get_subclass(session, case.subclass_code, Kind(case.subclass_kind))
    row = store_outcome(session, case, outcome, payload, subclass)
    audit.record(
        session,
        None,
        "case.rate",
        case,
        {"from": outcome.event.from_state.value, "to": outcome.event.to_state.value},
    )
    try:
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise Conflict(
            f"case {case.case_no} changed while it was rated; try again", code="version_conflict"
        ) from None
    dispatching.notify(session, case, row)
    return case


# ---- HTTP -----------------------------------------------------------------------------------


def _limited(name: str, setting: str) -> Any:
    """A dependency counting one hit on the shared limiter ``name`` before anything is read:
    keyed by the login session's token hash when there is one, else by IP address."""

    def hit(request: Request, settings: SettingsDep) -> None:
        token = request_token(request)
        key = f"session:{hash_token(token)[:32]}" if token else client_key(request)
        limit = int(getattr(settings, setting))
        enforce(request, name, key, limit, message=f"too many requests; at most {limit} a minute")

    return Depends(hit)


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
    dependencies=[_limited("public-report", "public_reports_per_minute")],
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
    least 16 characters (a UUID), and a key reused for a different report is a 409."""
    if user is not None:
        authorize(
            user,
            {Role.RESIDENT},
            action="report through the public portal (staff report with POST /api/cases)",
        )
    if (
        user is None
        and idempotency_key is not None
        and len(idempotency_key.strip()) < MIN_ANONYMOUS_KEY
    ):
        raise ValidationError(
            f"an anonymous Idempotency-Key must be at least {MIN_ANONYMOUS_KEY} random "
            "characters (a UUID)",
            field="idempotency_key",
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
    if (case.description, case.subclass_code) != (body.description.strip(), body.subclass):
        raise Conflict(
            "this Idempotency-Key was already used for a different report; use a new key",
            code="idempotency_key_reused",
            field="idempotency_key",
        )
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
