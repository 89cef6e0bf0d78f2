"""案件编号: one serial per local day from the counter row, unique under concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from gridgov.cases.numbering import MAX_SERIAL, CaseCounter, next_case_no
from gridgov.db import session_scope
from gridgov.errors import ValidationError

# A day no other test files cases on: this module commits its counter rows.
FAR_DAY = "20310101"
FAR = datetime(2031, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai


def test_serials_count_up_per_local_day(session: Session) -> None:
    assert next_case_no(session, FAR) == f"{FAR_DAY}00001"
    assert next_case_no(session, FAR) == f"{FAR_DAY}00002"
    # 2030-12-31 17:00 UTC is already 1 January 01:00 in Beijing.
    assert next_case_no(session, datetime(2030, 12, 31, 17, 0, tzinfo=UTC)) == f"{FAR_DAY}00003"
    # 15:59 UTC on 31 December is still 31 December in Beijing: a new day's counter.
    assert next_case_no(session, datetime(2030, 12, 31, 15, 59, tzinfo=UTC)) == "2030123100001"


def test_a_rolled_back_number_is_handed_out_again(session: Session) -> None:
    with session.begin_nested() as nested:
        assert next_case_no(session, FAR) == f"{FAR_DAY}00001"
        nested.rollback()
    assert next_case_no(session, FAR) == f"{FAR_DAY}00001"


def test_a_full_day_is_refused_not_wrapped(session: Session) -> None:
    session.add(CaseCounter(day=FAR_DAY, last=MAX_SERIAL))
    session.flush()
    with pytest.raises(ValidationError, match="used up"):
        next_case_no(session, FAR)


@pytest.fixture
def far_day(engine: Engine) -> Iterator[Engine]:
    yield engine
    with session_scope(engine) as s:
        s.execute(delete(CaseCounter).where(CaseCounter.day == FAR_DAY))


def test_concurrent_writers_never_share_a_number(far_day: Engine) -> None:
    """Eight threads, each with its own connection and transaction, draw 20 numbers apiece."""
    drawn: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(20):
                with session_scope(far_day) as s:
                    number = next_case_no(s, FAR)
                with lock:
                    drawn.append(number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(drawn) == [f"{FAR_DAY}{n:05d}" for n in range(1, 161)]
    with session_scope(far_day) as s:
        assert s.scalar(select(CaseCounter.last).where(CaseCounter.day == FAR_DAY)) == 160
