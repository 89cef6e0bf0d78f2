"""Writing to the outbox, and the message templates of the closed loop.

:func:`enqueue` adds a row to the caller's session and never commits: the notification exists
only if the caller's transaction (the case action) commits. The templates build the three
messages the loop requires — 派遣通知 to the department on dispatch, 结案反馈 with the result to
the reporter on close, 红牌督办 to the leader on a red card — keyed by the case event that caused
them, so the same event never notifies the same recipient twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gridgov.notify.models import Notification, NotificationStatus, RecipientKind

CASE_DISPATCHED = "case.dispatched"
CASE_CLOSED = "case.closed"
CASE_RED_CARD = "case.red_card"
DEFAULT_TZ = "Asia/Shanghai"


@dataclass(frozen=True)
class Recipient:
    """Who receives a message: a kind and an address (user id, phone, department code, URL)."""

    kind: RecipientKind
    address: str

    @classmethod
    def user(cls, user_id: int) -> Recipient:
        return cls(RecipientKind.USER, str(user_id))

    @classmethod
    def phone(cls, number: str) -> Recipient:
        return cls(RecipientKind.PHONE, number)

    @classmethod
    def department(cls, code: str) -> Recipient:
        return cls(RecipientKind.DEPARTMENT, code)

    @classmethod
    def webhook(cls, name: str) -> Recipient:
        return cls(RecipientKind.WEBHOOK, name)


@dataclass(frozen=True)
class Message:
    """A rendered message before it has a recipient and a channel."""

    kind: str
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)


def enqueue(
    session: Session,
    *,
    kind: str,
    recipient: Recipient,
    channel: str,
    subject: str,
    body: str,
    payload: dict[str, Any] | None = None,
    dedupe_key: str,
    now: datetime | None = None,
) -> Notification:
    """Add a pending notification to the caller's transaction; return it.

    If a notification with ``dedupe_key`` already exists (committed, or earlier in this
    transaction) that row is returned and nothing new is written; the insert ignores a conflict,
    so losing a race against another transaction leaves the caller's transaction usable.
    Nothing is committed here.
    """
    existing = session.scalar(select(Notification).where(Notification.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    values: dict[str, Any] = {
        "kind": kind,
        "recipient_kind": recipient.kind,
        "recipient": recipient.address,
        "channel": channel,
        "subject": subject,
        "body": body,
        "payload": dict(payload or {}),
        "dedupe_key": dedupe_key,
        "status": NotificationStatus.PENDING,
        "attempts": 0,
    }
    if now is not None:
        values["created_at"] = values["next_attempt_at"] = now
    session.execute(_insert_ignoring_duplicates(session).values(**values))
    return session.scalars(select(Notification).where(Notification.dedupe_key == dedupe_key)).one()


def _insert_ignoring_duplicates(session: Session) -> Any:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING`` for the session's database.

    An upsert rather than a savepoint: pysqlite's savepoints outside an explicit BEGIN commit on
    release, and a conflicting insert must never commit or abort the caller's transaction.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return pg_insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"])
    if name == "sqlite":
        return sqlite_insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return insert(Notification)  # other databases: the unique constraint still refuses a twin


def enqueue_message(
    session: Session,
    message: Message,
    *,
    recipient: Recipient,
    channel: str,
    event_ref: str,
    now: datetime | None = None,
) -> Notification:
    """Enqueue a rendered :class:`Message`; the dedupe key is derived from ``event_ref``.

    ``event_ref`` names the single event that caused the message (e.g. the case event row id),
    so a retried request or a replayed event does not notify the same recipient again.
    """
    key = f"{message.kind}:{event_ref}:{recipient.kind.value}:{recipient.address}:{channel}"
    return enqueue(
        session,
        kind=message.kind,
        recipient=recipient,
        channel=channel,
        subject=message.subject,
        body=message.body,
        payload=message.payload,
        dedupe_key=key,
        now=now,
    )


def _local(at: datetime, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def dispatched_message(
    *,
    case_code: str,
    subclass_name: str,
    address: str,
    department_name: str,
    due_at: datetime,
    tz: str = DEFAULT_TZ,
) -> Message:
    """派遣通知: tell the department a case has been dispatched to it, with its deadline."""
    due = _local(due_at, tz)
    return Message(
        kind=CASE_DISPATCHED,
        subject=f"【派遣通知】案件 {case_code}",
        body=(
            f"{department_name}：收到新派遣案件 {case_code}（{subclass_name}），"
            f"地点：{address}。请于 {due} 前处置并反馈。"
        ),
        payload={
            "case_code": case_code,
            "subclass_name": subclass_name,
            "address": address,
            "department_name": department_name,
            "due_at": due_at.isoformat(),
        },
    )


def closed_message(
    *,
    case_code: str,
    subclass_name: str,
    address: str,
    reported_at: datetime,
    result: str,
    tz: str = DEFAULT_TZ,
) -> Message:
    """结案反馈: tell the reporter their case is closed, with the handling result."""
    reported = _local(reported_at, tz)
    return Message(
        kind=CASE_CLOSED,
        subject=f"【结案反馈】您反映的问题已办结（{case_code}）",
        body=(
            f"您于 {reported} 反映的问题（{subclass_name}，{address}）已结案。"
            f"处置结果：{result}。感谢您的参与，欢迎对处置结果进行评价。"
        ),
        payload={
            "case_code": case_code,
            "subclass_name": subclass_name,
            "address": address,
            "reported_at": reported_at.isoformat(),
            "result": result,
        },
    )


def red_card_message(
    *,
    case_code: str,
    subclass_name: str,
    department_name: str,
    reason: str,
    due_at: datetime,
    tz: str = DEFAULT_TZ,
) -> Message:
    """红牌督办: tell the leader a case is under red-card supervision (督办)."""
    due = _local(due_at, tz)
    return Message(
        kind=CASE_RED_CARD,
        subject=f"【红牌督办】案件 {case_code}",
        body=(
            f"案件 {case_code}（{subclass_name}，承办单位：{department_name}）已红牌督办。"
            f"督办事由：{reason}。处置时限：{due}，请督促办理。"
        ),
        payload={
            "case_code": case_code,
            "subclass_name": subclass_name,
            "department_name": department_name,
            "reason": reason,
            "due_at": due_at.isoformat(),
        },
    )
