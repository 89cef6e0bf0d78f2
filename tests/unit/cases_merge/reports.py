"""Reports by every kind of reporter, and a merge call, on top of the stored-case world."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from tests.unit.cases_db.world import GARBAGE, LAT, LON, T0, World

#: About 8.5 m of longitude near the test district (39.9°N).
LON_8M = 0.0001


def file(
    session: Session,
    actor: User | None,
    *,
    channel: str | None = None,
    lon: float = LON,
    lat: float = LAT,
    subclass: str = GARBAGE,
    now: datetime = T0,
    **kw: Any,
) -> Case:
    """A report of exposed garbage (暴露垃圾) by ``actor`` (None: anonymous resident)."""
    return service.create_case(
        session,
        actor=actor,
        channel=channel,
        subclass=subclass,
        subclass_kind="event",
        urgency="normal",
        lon=lon,
        lat=lat,
        description="垃圾堆在路边",
        now=now,
        **kw,
    )


def by_supervisor(session: Session, w: World, **kw: Any) -> Case:
    return file(session, w.supervisor, photos=["p1.jpg"], **kw)


def by_resident(session: Session, w: World, **kw: Any) -> Case:
    return file(session, w.resident, **kw)


def by_phone(session: Session, w: World, phone: str, **kw: Any) -> Case:
    """A hotline caller (热线) who left a phone number but has no account."""
    return file(
        session, w.acceptor, channel="hotline", contact={"name": "李女士", "phone": phone}, **kw
    )


def merge(
    session: Session,
    w: World,
    duplicate: Case,
    master: Case,
    *,
    user: User | None = None,
    expected: int | None = None,
    master_expected: int | None = None,
    note: str = "同一堆垃圾",
    minutes: int = 30,
) -> Case:
    """``merge_case`` by the acceptor (unless ``user``) with the versions the cases have now."""
    return service.merge_case(
        session,
        duplicate.case_no,
        into=master.case_no,
        actor_user=user or w.acceptor,
        expected_version=duplicate.version if expected is None else expected,
        master_expected_version=master_expected,
        note=note,
        now=T0 + timedelta(minutes=minutes),
    )


def act(session: Session, case: Case, user: User, action: str, **payload: Any) -> Case:
    """``service.act`` an hour after T0 with the case's current version."""
    return service.act(
        session, case.case_no, action, user, payload, case.version, T0 + timedelta(hours=1)
    )


def event_count(session: Session, case: Case) -> int:
    return session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)
    )
