"""The delivery worker: send what is due, retry failures with exponential backoff.

:func:`deliver_due` is one pass; a CLI loop or a scheduler calls it and commits. On PostgreSQL
due rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` so several workers never send the
same row; SQLite has one writer, so a plain select is enough there (run one worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.notify.channels import ChannelRegistry, DeliveryError, PermanentDeliveryError
from gridgov.notify.models import Notification, NotificationStatus

DUE = (NotificationStatus.PENDING, NotificationStatus.FAILED)


@dataclass(frozen=True)
class RetryPolicy:
    """After the n-th failed attempt wait ``base × 2^(n-1)`` (at most ``cap``); give up after
    ``max_attempts`` attempts."""

    max_attempts: int = 8
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.notify_max_attempts,
            base=timedelta(minutes=settings.notify_backoff_base_minutes),
            cap=timedelta(minutes=settings.notify_backoff_max_minutes),
        )

    def delay(self, attempts: int) -> timedelta:
        """The wait before the next try, after ``attempts`` failed attempts (1, 2, 4 … minutes)."""
        delay: timedelta = self.base * (2 ** max(attempts - 1, 0))
        return min(delay, self.cap)


@dataclass
class DeliveryReport:
    """What one pass did: ids sent, ids scheduled for a retry, ids given up on."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)

    @property
    def picked(self) -> int:
        return len(self.sent) + len(self.retried) + len(self.dead)


def due_query(session: Session, now: datetime, limit: int) -> Select[Notification]:
    """Pending or failed rows whose ``next_attempt_at`` has come, oldest first."""
    stmt = (
        select(Notification)
        .where(Notification.status.in_(DUE), Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return stmt


def deliver_due(
    session: Session,
    now: datetime,
    channels: ChannelRegistry,
    *,
    policy: RetryPolicy | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """Send every due notification (up to ``limit``) through its channel and record the outcome.

    Success marks it ``sent`` with ``sent_at``. A failure increments ``attempts``, keeps the
    error in ``last_error`` and either schedules a retry (``failed``, ``next_attempt_at`` moved
    by the backoff) or, at ``max_attempts`` or on a permanent error, marks it ``dead``. An
    unknown channel name is an ordinary (retried) failure: visible, and healed by configuring it.
    The caller commits (promptly: on PostgreSQL the picked rows stay locked until then).
    """
    policy = policy or RetryPolicy()
    report = DeliveryReport()
    for row in session.scalars(due_query(session, now, limit)).all():
        row.attempts += 1
        channel = channels.get(row.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no channel named {row.channel!r} is configured")
            channel.send(row)
        except Exception as exc:  # a broken channel must not stop the other deliveries
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if isinstance(exc, PermanentDeliveryError) or row.attempts >= policy.max_attempts:
                row.status = NotificationStatus.DEAD
                report.dead.append(row.id)
            else:
                row.status = NotificationStatus.FAILED
                row.next_attempt_at = now + policy.delay(row.attempts)
                report.retried.append(row.id)
        else:
            row.status = NotificationStatus.SENT
            row.sent_at = now
            report.sent.append(row.id)
    session.flush()
    return report


def failed_and_dead(session: Session, *, limit: int = 200) -> list[Notification]:
    """Notifications that failed (waiting for a retry) or gave up, newest first: for the admin."""
    stmt = (
        select(Notification)
        .where(Notification.status.in_((NotificationStatus.FAILED, NotificationStatus.DEAD)))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
