"""The outbox: rows written in the caller's transaction, deduplicated, with zh-CN templates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridgov.db import session_scope
from gridgov.notify import outbox
from gridgov.notify.models import Notification, NotificationStatus, RecipientKind
from gridgov.notify.outbox import Recipient
from tests.unit.notify.conftest import T0


def _count(session: Session, key: str | None = None) -> int:
    stmt = select(func.count()).select_from(Notification)
    if key is not None:
        stmt = stmt.where(Notification.dedupe_key == key)
    return session.scalar(stmt) or 0


def _enqueue(session: Session, key: str) -> Notification:
    return outbox.enqueue(
        session,
        kind=outbox.CASE_DISPATCHED,
        recipient=Recipient.department("11010100-SZ"),
        channel="log",
        subject="【派遣通知】案件 C1",
        body="请处置",
        payload={"case_code": "C1"},
        dedupe_key=key,
        now=T0,
    )


def test_enqueue_writes_a_pending_row(session: Session) -> None:
    row = _enqueue(session, "k-1")
    session.expire_all()
    stored = session.get(Notification, row.id)
    assert stored is not None
    assert stored.status is NotificationStatus.PENDING
    assert stored.recipient_kind is RecipientKind.DEPARTMENT
    assert stored.recipient == "11010100-SZ"
    assert stored.payload == {"case_code": "C1"}
    assert stored.attempts == 0
    assert stored.next_attempt_at == T0
    assert stored.sent_at is None


def test_the_same_dedupe_key_notifies_once(session: Session) -> None:
    first = _enqueue(session, "k-dup")
    second = _enqueue(session, "k-dup")
    assert second.id == first.id
    assert _count(session, "k-dup") == 1


def test_one_event_gives_one_row_per_recipient(session: Session) -> None:
    message = outbox.dispatched_message(
        case_code="C2",
        subclass_name="暴露垃圾",
        address="东城区东四北大街 1 号",
        department_name="东城区城管委",
        due_at=T0 + timedelta(hours=4),
    )
    dept = Recipient.department("D01")
    for _ in range(3):  # a retried request replays the same event
        outbox.enqueue_message(session, message, recipient=dept, channel="log", event_ref="ev-7")
    outbox.enqueue_message(session, message, recipient=dept, channel="log", event_ref="ev-9")
    outbox.enqueue_message(
        session, message, recipient=Recipient.phone("13800000000"), channel="sms", event_ref="ev-7"
    )
    assert _count(session) == 3


def test_dispatch_template_tells_the_department_its_deadline_in_beijing_time() -> None:
    message = outbox.dispatched_message(
        case_code="110101202610090001",
        subclass_name="井盖缺失",
        address="东城区和平里街道和平里北街 12 号",
        department_name="东城区市政管委",
        due_at=datetime(2026, 10, 9, 14, 0, tzinfo=UTC),
    )
    assert message.kind == "case.dispatched"
    assert message.subject == "【派遣通知】案件 110101202610090001"
    assert message.body == (
        "东城区市政管委：收到新派遣案件 110101202610090001（井盖缺失），"
        "地点：东城区和平里街道和平里北街 12 号。请于 2026-10-09 22:00 前处置并反馈。"
    )
    assert message.payload["due_at"] == "2026-10-09T14:00:00+00:00"


def test_close_template_gives_the_reporter_the_result() -> None:
    message = outbox.closed_message(
        case_code="C3",
        subclass_name="道路不洁",
        address="交道口南大街",
        reported_at=datetime(2026, 10, 8, 1, 30, tzinfo=UTC),
        result="已安排环卫人员清扫完毕",
    )
    assert message.kind == "case.closed"
    assert "2026-10-08 09:30" in message.body
    assert "处置结果：已安排环卫人员清扫完毕" in message.body
    assert message.payload["result"] == "已安排环卫人员清扫完毕"


def test_red_card_template_tells_the_leader() -> None:
    message = outbox.red_card_message(
        case_code="C4",
        subclass_name="私搭乱建",
        department_name="东城区城管执法局",
        reason="超期 5 个工作日未处置",
        due_at=datetime(2026, 10, 20, 1, 0, tzinfo=UTC),
    )
    assert message.kind == "case.red_card"
    assert message.subject == "【红牌督办】案件 C4"
    assert "督办事由：超期 5 个工作日未处置" in message.body
    assert "处置时限：2026-10-20 09:00" in message.body


def test_a_rolled_back_case_action_sends_nothing(engine: Engine) -> None:
    key = f"rollback-{uuid.uuid4()}"
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        _enqueue(session, key)
        session.flush()
        raise RuntimeError("the case action failed after enqueueing")
    with Session(engine) as fresh:
        assert _count(fresh, key) == 0


def test_a_rolled_back_savepoint_leaves_no_row(session: Session) -> None:
    savepoint = session.begin_nested()
    _enqueue(session, "k-sp")
    savepoint.rollback()
    assert _count(session, "k-sp") == 0
