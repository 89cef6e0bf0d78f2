"""A small world for the wiring tests: the test district 110188 (2 streets), the default
taxonomy, the default departments and responsibility matrix, one user per part of the loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from gridgov.departments import service as departments
from gridgov.notify.models import Notification
from gridgov.regions import geocode
from gridgov.taxonomy.service import load_default as load_taxonomy
from tests.factories.regions import DISTRICT, STREETS, X0, Y0, D, make_district

#: Monday 1 June 2026, 09:00 Asia/Shanghai (a working day).
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
LON, LAT = X0 + D / 2, Y0 + 1.5 * D  # grid 11018800100101, street 110188001
GRID = "11018800100101"
STREET_OFFICE = f"JD{STREETS[0]}"
PILES = "0109"  # 乱堆物堆料 (event, class 01 市容环境): 属地 → the street office, then 主管
NOISE = "0301"  # 施工扰民 (event, class 03): only 主管 QZJW, deactivated in the unmatched test


def make_user(session: Session, name: str, role: Role, dept: str | None = None) -> User:
    """A plain user row (no password); staff get the district as jurisdiction."""
    user = User(username=name, name=name, role=role, active=True, failed_logins=0)
    user.department_code = dept
    session.add(user)
    session.flush()
    if role not in (Role.DEPARTMENT, Role.RESIDENT):
        session.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.REGION, code=DISTRICT))
        session.flush()
    return user


def report(session: Session, w: dict[str, User], subclass: str = PILES, **kw: Any) -> Case:
    """A report in grid ``GRID`` (by the supervisor unless ``actor`` says otherwise)."""
    return service.create_case(
        session,
        actor=kw.pop("actor", w["sup"]),
        channel=kw.pop("channel", "supervisor"),
        subclass=subclass,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        description="路边垃圾袋堆放",
        photos=kw.pop("photos", ["p1.jpg"]),
        now=T0,
        **kw,
    )


def act(
    session: Session, case: Case, user: User, action: str, payload: dict[str, Any], minutes: int
) -> Case:
    """``service.act`` at ``T0`` + ``minutes`` with the version the case has now."""
    return service.act(
        session,
        case.case_no,
        action,
        user,
        payload,
        case.version,
        T0 + timedelta(minutes=minutes),
    )


def notes(session: Session, kind: str | None = None) -> list[Notification]:
    """The outbox rows (of one ``kind``), oldest first."""
    stmt = select(Notification).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt))


def event_id(session: Session, case: Case, action: str) -> int:
    """The id of the case's only event row of ``action``."""
    return session.scalars(
        select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.action == action)
    ).one()


def build(session: Session) -> dict[str, User]:
    """Grids, taxonomy, departments and the users; the geocoder cache sees this test's grids."""
    make_district(session)
    load_taxonomy(session)
    departments.load_default(session, DISTRICT)
    geocode.invalidate()
    return {
        "sup": make_user(session, "sup", Role.SUPERVISOR),
        "chk": make_user(session, "chk", Role.SUPERVISOR),
        "acc": make_user(session, "acc", Role.ACCEPTOR),
        "lead": make_user(session, "lead", Role.SHIFT_LEAD),
        "disp": make_user(session, "disp", Role.DISPATCHER),
        "dept": make_user(session, "dept", Role.DEPARTMENT, STREET_OFFICE),
        "boss": make_user(session, "boss", Role.LEADER),
        "res": make_user(session, "res", Role.RESIDENT),
    }
