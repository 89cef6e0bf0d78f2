"""The outbox table: one row per message to deliver (通知).

A row is written in the same transaction as the case action that causes it, so a rolled-back
action sends nothing, and ``dedupe_key`` is unique, so one event never notifies twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, UTCDateTime, str_enum, utcnow


class NotificationStatus(StrEnum):
    """Where a message is in its delivery.

    ``pending`` waits for its first attempt; ``failed`` failed at least once and waits for a retry
    at ``next_attempt_at``; ``sent`` was accepted by the channel; ``dead`` gave up after the
    maximum number of attempts (or a permanent error) and needs a person to look at it.
    """

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


class RecipientKind(StrEnum):
    """What ``recipient`` holds: a user id, a phone number, a department code or a webhook."""

    USER = "user"
    PHONE = "phone"
    DEPARTMENT = "department"
    WEBHOOK = "webhook"


class Notification(Base):
    """One message for one recipient through one channel (``log``, ``sms``, ``webhook`` …)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The event that caused it, e.g. "case.dispatched", "case.closed", "case.red_card".
    kind: Mapped[str] = mapped_column(String(40), index=True)
    recipient_kind: Mapped[RecipientKind] = mapped_column(str_enum(RecipientKind, "recipient_kind"))
    recipient: Mapped[str] = mapped_column(String(200))
    # A channel name from the registry (gridgov.notify.channels); a string so channels plug in.
    channel: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # zh-CN text, ready to send
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
