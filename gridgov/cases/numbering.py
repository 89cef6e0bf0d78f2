"""案件编号: case numbers — the local date and a 5-digit serial of that day (2026112200001).

The serial comes from one counter row per day, bumped by a single upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite ≥ 3.35 and PostgreSQL alike). The row
stays locked until the reporting transaction commits, so two workers can never draw the same
number, and no one scans the case table for ``max(case_no)`` any more. A transaction that rolls
back gives its number back with it; only a duplicate submission racing its twin leaves a gap.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from gridgov.db import Base
from gridgov.errors import ValidationError

TZ = ZoneInfo("Asia/Shanghai")
SERIAL_DIGITS = 5
MAX_SERIAL = 10**SERIAL_DIGITS - 1


class CaseCounter(Base):
    """The last serial handed out on one local day (``day`` as YYYYMMDD)."""

    __tablename__ = "case_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


def next_case_no(session: Session, now: datetime) -> str:
    """The next case number of ``now``'s local day (Asia/Shanghai)."""
    day = now.astimezone(TZ).strftime("%Y%m%d")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(CaseCounter).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CaseCounter.day], set_={"last": CaseCounter.last + 1}
    ).returning(CaseCounter.last)
    serial = int(session.execute(stmt).scalar_one())
    if serial > MAX_SERIAL:
        raise ValidationError(
            f"more than {MAX_SERIAL} cases on {day}: the day's case numbers are used up",
            field="case_no",
        )
    return f"{day}{serial:0{SERIAL_DIGITS}d}"


def release_case_counter(session: Session) -> None:
    """Commit a request that filed cases before its response is built.

    The day's counter row stays locked until the transaction ends. A sync endpoint's response
    is serialised on a worker thread after the endpoint returns, and the request session commits
    only then; with every worker thread busy in other reports that wait for the counter row,
    that holder would wait for a thread forever (seen under 50 concurrent reporters on
    PostgreSQL). Committing inside the endpoint frees the row on the thread that holds it.
    """
    session.commit()
