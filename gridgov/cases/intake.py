"""Intake (受理): a report becomes a case through the workflow's ``submit`` (上报).

Validation happens before anything is written: the subclass must exist, the point must lie in a
unit grid, the description must be there; a repeated idempotency key (client request id) returns
the first case unchanged, so a phone that resubmits on a bad network never makes a duplicate.

Keys are per user; every anonymous reporter shares one key space, so an anonymous key must be a
random string of at least ``MIN_ANONYMOUS_KEY`` characters (a UUID), and a key repeated by a
reporter from the public (anonymous or resident) must come with the same report — subclass,
description and point — or it is refused (409 ``idempotency_key_reused``) instead of answering
somebody else's case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import audit
from gridgov.accounts.models import Role, User
from gridgov.accounts.scope import scope_of
from gridgov.cases.actions import ANONYMOUS, record_outcome, reject_nul, set_case_state
from gridgov.cases.deadlines import deployment_calendar
from gridgov.cases.linked import check_component_subclass, component_for_report
from gridgov.cases.models import Case
from gridgov.cases.numbering import assign_case_no, provisional_case_no
from gridgov.cases.photos import check_photos
from gridgov.cases.workflow import (
    Action,
    Actor,
    CaseState,
    Channel,
    ItemClass,
    Outcome,
    State,
    apply,
)
from gridgov.components.models import Component
from gridgov.db import insert_now, inserts_together, read_first
from gridgov.errors import Conflict, GridgovError, NotFound, ValidationError
from gridgov.geo.chinacrs import to_wgs84
from gridgov.media.storage import MediaStorage
from gridgov.regions.geocode import InputCRS, geocode
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import shared_subclass
from gridgov.workcalendar import WorkingCalendar

MAX_KEY = 100
#: Shortest idempotency key an anonymous reporter may send: anonymous keys share one space.
MIN_ANONYMOUS_KEY = 16
#: How far (degrees, ≈ 0.1 m) a repeated report's point may lie from the stored one.
SAME_POINT_DEGREES = 1e-6
MAX_DESCRIPTION = 2000
_CRS = ("wgs84", "gcj02", "bd09")
#: The channel a role's report always comes in by (the hotline desk chooses its own).
_ROLE_CHANNEL = {Role.SUPERVISOR: Channel.SUPERVISOR, Role.RESIDENT: Channel.PUBLIC}
_DESK_CHANNELS = (Channel.HOTLINE, Channel.VIDEO, Channel.SENSOR)


def _key(actor: User | None, key: str | None) -> str | None:
    """The stored idempotency key: the client's request id, per user (anonymous share one, so
    theirs must be at least ``MIN_ANONYMOUS_KEY`` characters)."""
    if key is None:
        return None
    key = key.strip()
    if actor is None and len(key) < MIN_ANONYMOUS_KEY:
        raise ValidationError(
            f"an anonymous Idempotency-Key must be at least {MIN_ANONYMOUS_KEY} random "
            "characters (a UUID)",
            field="idempotency_key",
        )
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationError(
            f"idempotency key must be 1–{MAX_KEY} printable characters", field="idempotency_key"
        )
    return f"{actor.id if actor else 'anon'}:{key}"


def _find_key(session: Session, key: str | None) -> Case | None:
    if key is None:
        return None
    return session.scalar(select(Case).where(Case.idempotency_key == key))


def _same_report(
    case: Case,
    *,
    subclass: str,
    subclass_kind: str | None,
    description: Any,
    lon: float | None,
    lat: float | None,
    crs: str,
    component_id: str | None,
) -> bool:
    """Whether a repeated request reports what ``case`` holds: the same subclass, description
    and point (converted from ``crs``; or the same component when the point came from it)."""
    if not isinstance(description, str) or description.strip() != case.description:
        return False
    if str(subclass) != case.subclass_code:
        return False
    if subclass_kind is not None and subclass_kind != case.subclass_kind:
        return False
    if lon is None and lat is None:
        return component_id is not None and component_id == case.component_id
    try:
        x, y = to_wgs84(float(lon), float(lat), crs)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return abs(x - case.lon) <= SAME_POINT_DEGREES and abs(y - case.lat) <= SAME_POINT_DEGREES


def _replay(case: Case, actor: User | None, report: Mapping[str, Any]) -> Case:
    """The first case of a repeated key; for a reporter from the public (anonymous or resident)
    only when the request reports the same thing, else 409 ``idempotency_key_reused``."""
    if (actor is None or actor.role is Role.RESIDENT) and not _same_report(case, **report):
        raise Conflict(
            "this Idempotency-Key was already used for a different report; use a new key",
            code="idempotency_key_reused",
            field="idempotency_key",
        )
    return case


def _subclass(session: Session, code: str, kind: str | None) -> Subclass:
    try:
        kind_value = Kind(kind) if kind else None
    except ValueError:
        raise ValidationError(
            f"unknown subclass kind {kind!r} (component or event)", field="subclass_kind"
        ) from None
    try:
        sub = shared_subclass(session, str(code), kind_value)
    except NotFound:
        raise ValidationError(
            f"unknown subclass {code!r}", code="unknown_subclass", field="subclass"
        ) from None
    except GridgovError as exc:
        raise ValidationError(exc.message, code=exc.code, field="subclass") from None
    if not sub.is_active:
        raise ValidationError(f"subclass {code} is no longer in use", field="subclass")
    return sub


def _locate(session: Session, lon: float, lat: float, crs: str) -> dict[str, Any]:
    if crs not in _CRS:
        raise ValidationError(f"crs must be one of {', '.join(_CRS)}", field="crs")
    try:
        crs_value: InputCRS = crs  # type: ignore[assignment]
        return geocode(session, float(lon), float(lat), crs_value)
    except NotFound:
        raise ValidationError(
            f"the point lon {lon}, lat {lat} is outside every grid",
            code="outside_grids",
            field="lon/lat",
        ) from None
    except (TypeError, ValueError):
        raise ValidationError("lon and lat must be numbers", field="lon/lat") from None


def _point_of(
    component: Component | None, lon: float | None, lat: float | None, crs: str
) -> tuple[float, float, str]:
    """The report's point: as given, else the component's (WGS84); 422 when neither is there."""
    if lon is None and lat is None and component is not None:
        return component.lon, component.lat, "wgs84"
    if lon is None or lat is None:
        raise ValidationError(
            "lon and lat are required (or a component_id to take the point from)",
            field="lon/lat",
        )
    return lon, lat, crs


def _submit_actor(session: Session, user: User | None, grid_code: str) -> Actor:
    if user is None:
        return Actor(ANONYMOUS, Role.RESIDENT, True)
    if user.role is Role.RESIDENT:
        return Actor(user.id, user.role, True)
    return Actor(user.id, user.role, scope_of(session, user).covers_grid(grid_code))


def create_case(
    session: Session,
    *,
    actor: User | None,
    channel: Channel | str | None,
    subclass: str,
    urgency: str,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    description: str,
    subclass_kind: str | None = None,
    photos: list[str] | None = None,
    contact: Mapping[str, Any] | None = None,
    item_class: ItemClass | str | None = None,
    idempotency_key: str | None = None,
    now: datetime,
    calendar: WorkingCalendar | None = None,
    component_id: str | None = None,
    media: MediaStorage | None = None,
) -> Case:
    """上报: validate, geocode to a grid, ``submit`` through the workflow, store the case, its
    first event and its 立案 deadline. ``actor`` None is an anonymous resident report.

    ``component_id`` names the component (部件) the case is about: it must exist, a component
    case must have its subclass, and its point is the case's when ``lon``/``lat`` are absent.
    With ``media`` every photo id must be a stored photo.

    A repeated ``idempotency_key`` from the same user returns the first case unchanged, even
    when the request would no longer pass validation; an anonymous key shorter than
    ``MIN_ANONYMOUS_KEY`` is a 422, and a key an anonymous reporter or a resident repeats with a
    different subclass, description or point is a Conflict (409 ``idempotency_key_reused``).
    Raises ValidationError (422) for an unknown subclass, urgency, component or photo, a point
    outside every grid or a missing description; WorkflowError for a role that may not report.

    The insert itself detects a repeated key (``ON CONFLICT DO NOTHING`` on the unique key), so
    a first report costs no lookup. The case's other rows follow in one statement, and the
    day's case number is drawn last (see ``numbering``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be time zone aware")
    key = _key(actor, idempotency_key)
    report = {
        "subclass": subclass,
        "subclass_kind": subclass_kind,
        "description": description,
        "lon": lon,
        "lat": lat,
        "crs": crs,
        "component_id": component_id,
    }
    try:
        # Validation only reads: on SQLite it runs before the write lock is taken (read_first).
        with read_first(session) as reader:
            case, outcome, payload, sub = _new_case(
                reader,
                actor=actor,
                channel=channel,
                subclass=subclass,
                subclass_kind=subclass_kind,
                urgency=urgency,
                lon=lon,
                lat=lat,
                crs=crs,
                description=description,
                photos=photos,
                contact=contact,
                item_class=item_class,
                key=key,
                now=now,
                component_id=component_id,
                media=media,
            )
            calendar = calendar or deployment_calendar(reader)
    except GridgovError:
        existing = _find_key(session, key)
        if existing is None:
            raise
        return _replay(existing, actor, report)
    if not insert_now(session, case, unless_taken="idempotency_key"):
        # The key is taken: a repeated request, or its twin that won a race. Answer that case.
        again = _find_key(session, key)
        if again is None:  # pragma: no cover - ON CONFLICT only skips rows that conflict
            raise RuntimeError("case insert skipped without a conflicting idempotency key")
        return _replay(again, actor, report)
    with inserts_together(session):  # the event, the 立案 deadline and the audit row
        record_outcome(session, case, outcome, payload, sub, calendar, None)
        submitted = audit.record(session, actor, "case.submit", case, {"grid": case.grid_code})
    assign_case_no(session, case, now, audit_row=submitted)
    return case


def _new_case(
    session: Session,
    *,
    actor: User | None,
    channel: Channel | str | None,
    subclass: str,
    subclass_kind: str | None,
    urgency: str,
    lon: float | None,
    lat: float | None,
    crs: str,
    description: str,
    photos: list[str] | None,
    contact: Mapping[str, Any] | None,
    item_class: ItemClass | str | None,
    key: str | None,
    now: datetime,
    component_id: str | None,
    media: MediaStorage | None,
) -> tuple[Case, Outcome, dict[str, Any], Subclass]:
    """Validate a report and build its case (not yet in the session) in the state ``submit``
    leaves it, with the outcome, the event payload and the subclass. Writes nothing."""
    if not isinstance(description, str) or not description.strip():
        raise ValidationError("description is required", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            f"description is longer than {MAX_DESCRIPTION} characters", field="description"
        )
    reject_nul(description, "description")
    reject_nul(dict(contact or {}), "contact")
    reject_nul(list(photos or []), "photos")
    comp = component_for_report(session, component_id) if component_id is not None else None
    if comp is not None and subclass_kind is None and comp.subclass_code == str(subclass):
        subclass_kind = Kind.COMPONENT.value  # a report naming a component is a 部件 case
    sub = _subclass(session, subclass, subclass_kind)
    if comp is not None:
        check_component_subclass(comp, sub)
    lon, lat, crs = _point_of(comp, lon, lat, crs)
    if urgency not in sub.urgency_levels:
        raise ValidationError(
            f"urgency {urgency!r} is not allowed for {sub.name}; "
            f"choose one of {', '.join(sub.urgency_levels)}",
            field="urgency",
        )
    place = _locate(session, lon, lat, crs)
    grid_code = place["grid"]["code"]
    wf_actor = _submit_actor(session, actor, grid_code)

    payload: dict[str, Any] = {"description": description.strip()}
    if photos:
        payload["photos"] = list(photos)
    if item_class:
        payload["item_class"] = str(item_class)
    implied = _ROLE_CHANNEL.get(wf_actor.role)
    if channel is not None and implied is not None and str(channel) != implied.value:
        raise ValidationError(
            f"a {wf_actor.role.value} reports through channel {implied.value}", field="channel"
        )
    if implied is None and channel is not None:
        payload["channel"] = str(channel)
    contact = dict(contact or {})
    if contact.get("user_id") is not None:
        uid = contact["user_id"]
        if not isinstance(uid, int) or isinstance(uid, bool) or session.get(User, uid) is None:
            raise ValidationError(f"no user with id {uid!r}", field="contact.user_id")
        payload["reporter_id"] = uid
    outcome = apply(CaseState(), Action.SUBMIT, wf_actor, payload, now)
    check_photos(media, photos or [])

    point = place["point"]
    case = Case(
        case_no=provisional_case_no(),  # the day's number is drawn last: see numbering
        state=State.NEW,
        channel=outcome.state.channel or Channel.HOTLINE,
        subclass_kind=sub.kind.value,
        subclass_code=sub.code,
        component_id=comp.id if comp is not None else None,
        urgency=urgency,
        description=payload["description"],
        photos=list(photos or []),
        lon=point["lon"],
        lat=point["lat"],
        grid_code=grid_code,
        community_code=(place.get("community") or {}).get("code"),
        street_code=(place.get("street") or {}).get("code"),
        district_code=(place.get("district") or {}).get("code"),
        reporter_user_id=(outcome.state.reporter_ids or (None,))[0] or None,
        reporter_name=_text(contact.get("name"), 60),
        reporter_phone=_text(contact.get("phone"), 30),
        version=0,
        idempotency_key=key,
        created_at=now,
        reported_at=now,
        workflow={},
    )
    set_case_state(case, outcome, payload)
    return case, outcome, payload, sub


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise ValidationError(f"contact field is longer than {limit} characters", field="contact")
    return text or None
