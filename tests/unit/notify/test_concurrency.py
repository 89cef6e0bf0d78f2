"""PostgreSQL: two workers running at once never pick the same row (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from gridgov.db import session_scope
from gridgov.notify import outbox
from gridgov.notify.models import Notification, NotificationStatus
from gridgov.notify.outbox import Recipient
from gridgov.notify.worker import DeliveryReport, deliver_due
from tests.unit.notify.conftest import T0


class _RacingChannel:
    """While worker A sends, worker B runs a full pass in its own transaction."""

    name = "log"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.other: DeliveryReport | None = None

    def send(self, notification: Notification) -> None:
        with session_scope(self.engine) as other:
            self.other = deliver_due(other, T0, {"log": _Ok()})


class _Ok:
    name = "log"

    def send(self, notification: Notification) -> None:
        return None


def test_a_second_worker_skips_rows_the_first_holds(pg_engine: Engine) -> None:
    key = f"race-{uuid.uuid4()}"
    try:
        with session_scope(pg_engine) as session:
            outbox.enqueue(
                session,
                kind="case.closed",
                recipient=Recipient.user(1),
                channel="log",
                subject="s",
                body="b",
                payload={},
                dedupe_key=key,
                now=T0,
            )
        racing = _RacingChannel(pg_engine)
        with session_scope(pg_engine) as worker_a:
            report = deliver_due(worker_a, T0, {"log": racing})
        assert len(report.sent) == 1
        assert racing.other is not None and racing.other.picked == 0
        with Session(pg_engine) as check:
            row = check.query(Notification).filter_by(dedupe_key=key).one()
            assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
    finally:
        with session_scope(pg_engine) as cleanup:
            cleanup.execute(delete(Notification).where(Notification.dedupe_key == key))
