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
SIGNATURE_PREFIX = "sha256="


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
