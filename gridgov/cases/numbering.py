"""案件编号: case numbers — the local date and a 5-digit serial of that day (2026112200001).

The serial comes from one counter row per day, bumped by a single upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, on SQLite ≥ 3.35 and PostgreSQL alike). The row
stays locked until the reporting transaction commits, so two workers can never draw the same
number, and no one scans the case table for ``max(case_no)`` any more. A transaction that rolls
back gives its number back with it, so the day's numbers have no gaps.

Every report of a day waits for that one row, so a report draws its number last, just before it
commits (:func:`assign_case_no`): until then the new case, and the audit row that names it,
carry a :func:`provisional_case_no` nobody else can see, and the statement that draws the number
writes it into both. The row is then held for that one statement (three on SQLite) and the
commit, not across the report's other statements. A duplicate submission that loses the race to
its twin never draws a number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Insert, Integer, String, bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from gridgov.accounts.models import AuditLog
from gridgov.cases.models import Case
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


def _day(now: datetime) -> str:
    return now.astimezone(TZ).strftime("%Y%m%d")


def _bump(dialect: str, day: str) -> Insert:
    """The counter upsert ``… RETURNING last`` for ``day`` (a statement, not yet executed)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(CaseCounter).values(day=day, last=1)
    return stmt.on_conflict_do_update(
        index_elements=[CaseCounter.day], set_={"last": CaseCounter.last + 1}
    ).returning(CaseCounter.last)


def _number(day: str, serial: int) -> str:
    if serial > MAX_SERIAL:
        raise ValidationError(
            f"more than {MAX_SERIAL} cases on {day}: the day's case numbers are used up",
            field="case_no",
        )
    return f"{day}{serial:0{SERIAL_DIGITS}d}"


def next_case_no(session: Session, now: datetime) -> str:
    """The next case number of ``now``'s local day (Asia/Shanghai)."""
    day = _day(now)
    serial = session.execute(_bump(session.get_bind().dialect.name, day)).scalar_one()
    return _number(day, int(serial))


PROVISIONAL_PREFIX = "P"


def provisional_case_no() -> str:
    """A unique stand-in for a new case's number until :func:`assign_case_no` (never committed)."""
    return PROVISIONAL_PREFIX + uuid.uuid4().hex[:19]


#: The counter bump as a data-modifying CTE (one-row ``counter``) feeding the case's UPDATE.
_COUNTER = (
    "counter AS ("
    " INSERT INTO case_counter (day, last) VALUES (:day, 1)"
    " ON CONFLICT (day) DO UPDATE SET last = case_counter.last + 1 RETURNING last)"
)
# lpad cuts a longer string: a serial past the day's last would become an existing number
# (100000 → 10000). Longer serials stay whole, and _number refuses them after the statement.
_NUMBER_CASE = (
    'UPDATE "case" SET case_no = :day || lpad(counter.last::text,'
    f" greatest({SERIAL_DIGITS}, length(counter.last::text)), '0')"
    ' FROM counter WHERE "case".id = :id'
)
_ASSIGN_POSTGRESQL = text(f"WITH {_COUNTER} {_NUMBER_CASE} RETURNING counter.last")
#: The same, and the number written into the audit row that names the case.
_ASSIGN_AND_AUDIT_POSTGRESQL = text(
    f'WITH {_COUNTER}, numbered AS ({_NUMBER_CASE} RETURNING "case".case_no, counter.last)'
    " UPDATE audit_log SET object_id = numbered.case_no FROM numbered"
    " WHERE audit_log.id = :audit_id RETURNING numbered.last"
)


_SET_CASE_NO = (
    update(Case.__table__)  # type: ignore[arg-type]
    .where(Case.__table__.c.id == bindparam("row_id"))
    .values(case_no=bindparam("number"))
)
_SET_AUDIT_OBJECT = (
    update(AuditLog.__table__)  # type: ignore[arg-type]
    .where(AuditLog.__table__.c.id == bindparam("row_id"))
    .values(object_id=bindparam("number"))
)


def assign_case_no(
    session: Session, case: Case, now: datetime, *, audit_row: AuditLog | None = None
) -> str:
    """Give ``case`` (flushed with a provisional number) the next number of ``now``'s day and
    write it, also into ``audit_row`` (stored naming the case by its provisional number); call
    it as the last step before the transaction commits.

    On PostgreSQL the counter bump and the UPDATEs are one statement (the bump as a
    data-modifying CTE), so the row is held for one round trip and the commit.
    """
    session.flush()
    if session.get_bind().dialect.name != "postgresql":
        # Plain UPDATEs, no unit-of-work flush: on SQLite every writer waits for this one.
        number = next_case_no(session, now)
        conn = session.connection()
        conn.execute(_SET_CASE_NO, {"row_id": case.id, "number": number})
        if audit_row is not None:
            conn.execute(_SET_AUDIT_OBJECT, {"row_id": audit_row.id, "number": number})
    else:
        day = _day(now)
        if audit_row is None:
            serial = session.execute(_ASSIGN_POSTGRESQL, {"day": day, "id": case.id}).scalar_one()
        else:
            params = {"day": day, "id": case.id, "audit_id": audit_row.id}
            serial = session.execute(_ASSIGN_AND_AUDIT_POSTGRESQL, params).scalar_one()
        number = _number(day, int(serial))  # raises past MAX_SERIAL: the request rolls back
    set_committed_value(case, "case_no", number)
    if audit_row is not None:
        set_committed_value(audit_row, "object_id", number)
    return number


def release_case_counter(session: Session) -> None:
    """Commit a request that filed cases before its response is built.

    The day's counter row stays locked until the transaction ends. A sync endpoint's response
    is serialised on a worker thread after the endpoint returns, and the request session commits
    only then; with every worker thread busy in other reports that wait for the counter row,
    that holder would wait for a thread forever (seen under 50 concurrent reporters on
    PostgreSQL). Committing inside the endpoint frees the row on the thread that holds it.
    """
    session.commit()
