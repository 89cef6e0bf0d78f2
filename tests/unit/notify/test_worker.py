"""Delivery: log, SMS gateway and webhook channels against real local servers; retries; dead."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.notify import outbox
from gridgov.notify.channels import (
    Channel,
    LogChannel,
    SmsGatewayChannel,
    WebhookChannel,
    channels_from_settings,
)
from gridgov.notify.models import Notification, NotificationStatus
from gridgov.notify.outbox import Recipient
from gridgov.notify.worker import RetryPolicy, deliver_due, failed_and_dead
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.fakes.webhook_receiver import FakeWebhookReceiver
from tests.unit.notify.conftest import T0, WEBHOOK_SECRET

CLOSED = outbox.closed_message(
    case_code="C9",
    subclass_name="暴露垃圾",
    address="东四北大街 1 号",
    reported_at=T0 - timedelta(days=1),
    result="垃圾已清运",
)


def _enqueue(session: Session, recipient: Recipient, channel: str) -> Notification:
    return outbox.enqueue_message(
        session, CLOSED, recipient=recipient, channel=channel, event_ref="ev-1", now=T0
    )


def _sms(gateway: FakeSmsGateway) -> dict[str, Channel]:
    return {"sms": SmsGatewayChannel(gateway.send_url, "sms-token", timeout=5)}


def test_log_channel_delivers(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    row = _enqueue(session, Recipient.user(42), "log")
    with caplog.at_level(logging.INFO, logger="gridgov.notify"):
        report = deliver_due(session, T0, {"log": LogChannel()})
    assert report.sent == [row.id]
    assert row.status is NotificationStatus.SENT
    assert row.sent_at == T0
    assert row.attempts == 1
    assert "处置结果：垃圾已清运" in caplog.text
    assert deliver_due(session, T0 + timedelta(hours=1), {"log": LogChannel()}).picked == 0


def test_not_yet_due_rows_wait(session: Session) -> None:
    _enqueue(session, Recipient.user(42), "log")
    assert deliver_due(session, T0 - timedelta(seconds=1), {"log": LogChannel()}).picked == 0


def test_sms_gateway_receives_the_body(session: Session, sms_gateway: FakeSmsGateway) -> None:
    row = _enqueue(session, Recipient.phone("13800138000"), "sms")
    report = deliver_due(session, T0, _sms(sms_gateway))
    assert report.sent == [row.id]
    assert len(sms_gateway.messages) == 1
    sms = sms_gateway.messages[0]
    assert sms.to == "13800138000"
    assert sms.content == CLOSED.subject + CLOSED.body
    assert "处置结果：垃圾已清运" in sms.content
    assert sms.id == row.dedupe_key


def test_webhook_receiver_verifies_the_hmac(
    session: Session, webhook_receiver: FakeWebhookReceiver
) -> None:
    row = _enqueue(session, Recipient.webhook("city-platform"), "webhook")
    channels: dict[str, Channel] = {"webhook": WebhookChannel(webhook_receiver.url, WEBHOOK_SECRET)}
    report = deliver_due(session, T0, channels)
    assert report.sent == [row.id]
    (delivery,) = webhook_receiver.deliveries
    assert delivery.verified
    assert delivery.headers["X-Gridgov-Event"] == "case.closed"
    doc = delivery.json
    assert doc["kind"] == "case.closed"
    assert doc["body"] == CLOSED.body
    assert doc["payload"]["result"] == "垃圾已清运"
    assert doc["recipient"] == {"kind": "webhook", "address": "city-platform"}


def test_webhook_with_the_wrong_secret_is_refused_and_retried(
    session: Session, webhook_receiver: FakeWebhookReceiver
) -> None:
    row = _enqueue(session, Recipient.webhook("city-platform"), "webhook")
    channels: dict[str, Channel] = {"webhook": WebhookChannel(webhook_receiver.url, "wrong")}
    report = deliver_due(session, T0, channels)
    assert report.retried == [row.id]
    assert webhook_receiver.deliveries[0].verified is False
    assert row.status is NotificationStatus.FAILED
    assert row.last_error is not None and "HTTP 401" in row.last_error


def test_gateway_500_is_retried_with_backoff_then_sent(
    session: Session, sms_gateway: FakeSmsGateway
) -> None:
    sms_gateway.fail_next(2, status=500)
    row = _enqueue(session, Recipient.phone("13800138000"), "sms")
    channels = _sms(sms_gateway)

    assert deliver_due(session, T0, channels).retried == [row.id]
    assert row.status is NotificationStatus.FAILED
    assert row.attempts == 1
    assert row.next_attempt_at == T0 + timedelta(minutes=1)
    assert row.last_error is not None and "HTTP 500" in row.last_error
    assert row in failed_and_dead(session)

    # Not due yet: nothing is sent before the backoff has passed.
    assert deliver_due(session, T0 + timedelta(seconds=59), channels).picked == 0

    t1 = T0 + timedelta(minutes=1)
    assert deliver_due(session, t1, channels).retried == [row.id]
    assert row.attempts == 2
    assert row.next_attempt_at == t1 + timedelta(minutes=2)

    t2 = t1 + timedelta(minutes=2)
    assert deliver_due(session, t2, channels).sent == [row.id]
    assert (row.status, row.sent_at, row.attempts) == (NotificationStatus.SENT, t2, 3)
    assert sms_gateway.requests == 3
    assert len(sms_gateway.messages) == 1
    assert failed_and_dead(session) == []


def test_max_attempts_makes_it_dead_and_visible(
    session: Session, sms_gateway: FakeSmsGateway
) -> None:
    sms_gateway.fail_next(10, status=500)
    row = _enqueue(session, Recipient.phone("13800138000"), "sms")
    policy = RetryPolicy(max_attempts=3)
    now = T0
    for _ in range(3):
        deliver_due(session, now, _sms(sms_gateway), policy=policy)
        now = row.next_attempt_at
    assert row.status is NotificationStatus.DEAD
    assert row.attempts == 3
    assert row.last_error is not None and "HTTP 500" in row.last_error
    session.expire_all()
    visible = failed_and_dead(session)
    assert [(n.id, n.status) for n in visible] == [(row.id, NotificationStatus.DEAD)]
    assert deliver_due(session, now + timedelta(days=1), _sms(sms_gateway)).picked == 0
    assert sms_gateway.requests == 3


def test_unreachable_gateway_is_a_retried_failure(session: Session) -> None:
    row = _enqueue(session, Recipient.phone("13800138000"), "sms")
    channels: dict[str, Channel] = {"sms": SmsGatewayChannel("http://127.0.0.1:9/send", "t")}
    assert deliver_due(session, T0, channels).retried == [row.id]
    assert row.last_error is not None and row.last_error.startswith("DeliveryError: ")


def test_sms_to_a_department_is_dead_at_once(session: Session, sms_gateway: FakeSmsGateway) -> None:
    row = _enqueue(session, Recipient.department("D01"), "sms")
    assert deliver_due(session, T0, _sms(sms_gateway)).dead == [row.id]
    assert row.last_error == "PermanentDeliveryError: sms needs a phone recipient, got department"
    assert sms_gateway.requests == 0


def test_an_unconfigured_channel_is_retried_and_visible(session: Session) -> None:
    row = _enqueue(session, Recipient.phone("13800138000"), "sms")
    assert deliver_due(session, T0, {"log": LogChannel()}).retried == [row.id]
    assert row.last_error == "DeliveryError: no channel named 'sms' is configured"


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base=timedelta(minutes=1), cap=timedelta(minutes=10))
    assert [policy.delay(n).total_seconds() / 60 for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_channels_come_from_settings() -> None:
    assert set(channels_from_settings(Settings(environment="test"))) == {"log"}
    configured = channels_from_settings(
        Settings(
            environment="test",
            notify_sms_url="http://sms.example/send",
            notify_sms_token="t",
            notify_webhook_url="http://hook.example/in",
            notify_webhook_secret="k",
        )
    )
    assert set(configured) == {"log", "sms", "webhook"}
    assert isinstance(configured["webhook"], WebhookChannel)
    policy = RetryPolicy.from_settings(Settings(environment="test", notify_max_attempts=4))
    assert policy.max_attempts == 4


def test_a_webhook_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        WebhookChannel("http://hook.example/in", "")


def test_payload_is_plain_json(session: Session) -> None:
    row = _enqueue(session, Recipient.user(1), "log")
    json.dumps(row.payload, ensure_ascii=False)  # stays serialisable for remote channels
