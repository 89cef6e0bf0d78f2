"""Notification fixtures: a fixed clock, the fake SMS gateway and the fake webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.fakes.sms_gateway import FakeSmsGateway
from tests.fakes.webhook_receiver import FakeWebhookReceiver

T0 = datetime(2026, 10, 9, 8, 0, tzinfo=UTC)  # 16:00 in Beijing
WEBHOOK_SECRET = "s3cret-webhook-key"


@pytest.fixture
def sms_gateway() -> Iterator[FakeSmsGateway]:
    with FakeSmsGateway(token="sms-token") as gateway:
        yield gateway


@pytest.fixture
def webhook_receiver() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(secret=WEBHOOK_SECRET) as receiver:
        yield receiver
