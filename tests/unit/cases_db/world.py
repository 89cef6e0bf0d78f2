"""A small world for stored-case tests: the test district, the default taxonomy, one user per
part of the loop (plain rows, no password hashing), and a walk along the main path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.cases import service
from gridgov.cases.models import Case
from gridgov.regions import geocode
from gridgov.taxonomy.service import load_default
from tests.factories.regions import COMMUNITIES, DISTRICT, STREETS, X0, Y0, D, make_district

#: Monday 1 June 2026, 09:00 in Asia/Shanghai (a working day).
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
#: Inside grid 11018800100101 (community 110188001001, street 110188001).
LON, LAT = X0 + D / 2, Y0 + 1.5 * D
GRID = f"{COMMUNITIES[0]}01"
OUTSIDE = (116.6, 40.2)
GARBAGE = "0102"  # 暴露垃圾: 立案 1 working hour, 处置 (normal) 4 working hours
DEPT = "cgj"


@dataclass
class World:
    supervisor: User
    checker: User
    acceptor: User
    shift_lead: User
    dispatcher: User
    department: User
    leader: User
    resident: User
    far_lead: User  # shift lead of the other street only
    far_supervisor: User


def _user(session: Session, name: str, role: Role, *scopes: tuple[ScopeKind, str]) -> User:
    user = User(username=name, name=name, role=role, active=True, failed_logins=0)
    if role is Role.DEPARTMENT:
        user.department_code = DEPT
    session.add(user)
    session.flush()
    for kind, code in scopes:
        session.add(Jurisdiction(user_id=user.id, scope_kind=kind, code=code))
    session.flush()
    return user


def build(session: Session) -> World:
    """Grids, taxonomy and users; the geocoder cache is dropped so it sees this test's grids."""
    make_district(session)
    load_default(session)
    geocode.invalidate()
    district = (ScopeKind.REGION, DISTRICT)
    return World(
        supervisor=_user(session, "sup", Role.SUPERVISOR, district),
        checker=_user(session, "chk", Role.SUPERVISOR, district),
        acceptor=_user(session, "acc", Role.ACCEPTOR, district),
        shift_lead=_user(session, "lead", Role.SHIFT_LEAD, district),
        dispatcher=_user(session, "disp", Role.DISPATCHER, district),
        department=_user(session, "dept", Role.DEPARTMENT),
        leader=_user(session, "boss", Role.LEADER, district),
        resident=_user(session, "res", Role.RESIDENT),
        far_lead=_user(session, "farlead", Role.SHIFT_LEAD, (ScopeKind.REGION, STREETS[1])),
        far_supervisor=_user(session, "farsup", Role.SUPERVISOR, (ScopeKind.REGION, STREETS[1])),
    )


def report(session: Session, w: World, *, key: str | None = None, now: datetime = T0) -> Case:
    """A supervisor's report of exposed garbage (暴露垃圾) in grid ``GRID``."""
    return service.create_case(
        session,
        actor=w.supervisor,
        channel="supervisor",
        subclass=GARBAGE,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        crs="wgs84",
        description="路边垃圾袋堆放",
        photos=["p1.jpg"],
        idempotency_key=key,
        now=now,
    )


def desk_report(
    session: Session,
    w: World,
    *,
    channel: str = "hotline",
    description: str = "热线：路边垃圾",
    now: datetime = T0,
    **extra: Any,
) -> Case:
    """A report the acceptor enters for a caller (热线) or an alarm (``channel`` sensor/video)
    about exposed garbage at the point of grid ``GRID``; the caller has no account."""
    return service.create_case(
        session,
        actor=w.acceptor,
        channel=channel,
        subclass=GARBAGE,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        description=description,
        now=now,
        **extra,
    )


def main_path(w: World) -> list[tuple[User, str, dict[str, Any]]]:
    """After the report: register, dispatch, accept, report back, check, close."""
    return [
        (w.shift_lead, "register", {}),
        (w.dispatcher, "dispatch", {"department_id": 1, "department_code": DEPT}),
        (w.department, "accept", {}),
        (w.department, "report_back", {"result": "已清理", "photos": ["p2.jpg"]}),
        (w.acceptor, "assign_check", {"checker_id": w.checker.id}),
        (w.checker, "check_pass", {"photos": ["p3.jpg"]}),
        (w.shift_lead, "close", {}),
    ]


def walk(session: Session, w: World, case: Case, steps: int, start: datetime = T0) -> Case:
    """Take the first ``steps`` actions of the main path, ten minutes apart."""
    for i, (user, action, payload) in enumerate(main_path(w)[:steps], 1):
        case = service.act(
            session,
            case.case_no,
            action,
            user,
            payload,
            case.version,
            start + timedelta(minutes=10 * i),
        )
    return case
