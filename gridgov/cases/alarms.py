"""Machine alarms (视频巡查 / IoT): a signed webhook that files each alarm as a case once."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases.intake import create_case
from gridgov.cases.models import Case
from gridgov.cases.workflow import Channel
from gridgov.errors import NotFound, Unauthorized, ValidationError
from gridgov.taxonomy.models import Kind, Subclass
from gridgov.taxonomy.service import get_subclass

TZ = ZoneInfo("Asia/Shanghai")
MAX_ROWS = 5000
MAX_TICKET = 60
MIN_ADDRESS_SCORE = 90.0
SIGNATURE_PREFIX = "sha256="

#: Canonical column → the headers it may have (compared lower-case, spaces removed).
COLUMNS: dict[str, tuple[str, ...]] = {
    "ticket": ("工单号", "工单编号", "ticket", "ticket_no"),
    "called_at": ("来电时间", "call_time", "called_at"),
    "address": ("地址", "事发地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "crs": ("坐标系", "crs"),
    "kind": ("类型", "kind", "subclass_kind"),
    "subclass": ("小类编码", "小类代码", "subclass", "subclass_code"),
    "urgency": ("紧急程度", "urgency"),
    "description": ("描述", "问题描述", "description"),
    "name": ("联系人", "contact", "name"),
    "phone": ("电话", "联系电话", "phone"),
}
_HEADER = {a.lower().replace(" ", ""): c for c, aliases in COLUMNS.items() for a in aliases}
_REQUIRED = ("ticket", "subclass", "description")
_KINDS = {"": Kind.EVENT, "事件": Kind.EVENT, "event": Kind.EVENT}
_KINDS |= {"部件": Kind.COMPONENT, "component": Kind.COMPONENT}
_URGENCY = {"一般": "normal", "普通": "normal", "紧急": "urgent", "特急": "critical"}
_URGENCY |= {"特别紧急": "critical", "normal": "normal", "urgent": "urgent"}
_URGENCY |= {"critical": "critical"}
_CRS = {"": "wgs84", "wgs84": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def verify_signature(secret: str, body: bytes, header: str | None) -> None:
    """Check ``X-Gridgov-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

    Raises Unauthorized (401) when no secret is configured, or the header is missing or wrong.
    """
    if not secret:
        raise Unauthorized("webhook not configured", code="webhook_not_configured")
    if not header or not header.startswith(SIGNATURE_PREFIX):
        raise Unauthorized(
            "missing signature: send X-Gridgov-Signature: sha256=<hex HMAC of the body>",
            code="bad_signature",
        )
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, header[len(SIGNATURE_PREFIX) :].strip().lower()):
        raise Unauthorized("the signature does not match the body", code="bad_signature")


@dataclass(frozen=True)
class Alarm:
    """A machine alarm (告警) from a sensor or a video-patrol system."""

    source: str
    alarm_id: str
    subclass_code: str
    lon: float
    lat: float
    description: str
    observed_at: datetime
    channel: Channel = Channel.SENSOR
    subclass_kind: str | None = None
    urgency: str | None = None
    crs: str = "wgs84"


def alarm_key(alarm: Alarm) -> str:
    """The idempotency key of an alarm: ``source:alarm_id``."""
    return f"{alarm.source}:{alarm.alarm_id}"


def find_alarm_case(session: Session, account: User, alarm: Alarm) -> Case | None:
    """The case an earlier delivery of this alarm created, if any."""
    key = f"{account.id}:{alarm_key(alarm)}"
    return session.scalar(select(Case).where(Case.idempotency_key == key))


def intake_alarm(session: Session, alarm: Alarm, *, account: User, now: datetime) -> Case:
    """Create the case of an alarm, filed under the intake account; a repeated delivery (same
    source and alarm id) returns the first case."""
    if alarm.channel not in (Channel.SENSOR, Channel.VIDEO):
        raise ValidationError("channel must be sensor or video", field="channel")
    observed = alarm.observed_at
    if observed.tzinfo is None:
        observed = observed.replace(tzinfo=TZ)
    stamp = f"{observed.astimezone(TZ):%Y-%m-%d %H:%M}"
    sub = get_subclass_or_422(session, alarm.subclass_code, alarm.subclass_kind)
    return create_case(
        session,
        actor=account,
        channel=alarm.channel,
        subclass=sub.code,
        subclass_kind=sub.kind.value,
        urgency=alarm.urgency or sub.urgency_levels[0],
        lon=alarm.lon,
        lat=alarm.lat,
        crs=alarm.crs,
        description=f"{alarm.description}（{alarm.source} 告警时间 {stamp}）",
        idempotency_key=alarm_key(alarm),
        now=now,
    )


def get_subclass_or_422(session: Session, code: str, kind: str | None) -> Subclass:
    """The subclass, with an unknown code as a 422 (alarms default to event subclasses when
    the code exists in both trees)."""
    try:
        return get_subclass(session, code, Kind(kind) if kind else None)
    except NotFound:
        raise ValidationError(
            f"unknown subclass {code!r}", code="unknown_subclass", field="subclass_code"
        ) from None
    except ValidationError:
        if kind:
            raise
        return get_subclass_or_422(session, code, Kind.EVENT.value)
