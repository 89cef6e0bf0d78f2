"""Demo history (演示案件历史): weeks of cases produced by driving the real closed loop.

Every case is filed with ``intake.create_case`` and moved with ``actions.act``, with the clock
advancing through simulated time; no status is ever set directly, so each case's events replay
to its stored state and the deadlines, lights, notifications and routing are those the real
services compute. Most cases are supervisor reports in the supervisor's own grids; some come from
the public and the hotline and are verified on site (核实) first. Department users act for the
department the case was routed to (one per department, created on first need). The mix includes
不予立案, self-handling (自行处置), returns (回退), extensions (延期), rework (返工) after a failed
check, 督办 (yellow and red cards), and cases still open at ``now`` — some of them overdue.

Everything is drawn from one ``random.Random(seed)``: the same seed on the same base data gives
the same cases in the same states.
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from PIL import Image, ImageDraw
from shapely.geometry import Point
from shapely.prepared import prep
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import passwords
from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.accounts.service import create_user
from gridgov.cases.actions import act
from gridgov.cases.intake import create_case
from gridgov.cases.models import Case
from gridgov.cases.workflow import Action
from gridgov.codes.admin import Level
from gridgov.departments.models import Department
from gridgov.errors import GridgovError
from gridgov.media.checks import check_image
from gridgov.media.storage import MediaStorage
from gridgov.regions.models import Region, UnitGrid
from gridgov.taxonomy.models import Kind, Subclass

Progress = Callable[[str, float], None]
TZ = ZoneInfo("Asia/Shanghai")
#: Password of the users this module creates (the demo password; never used elsewhere).
PASSWORD = "gridgov-demo"
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

#: (kind, code, weight, description): the subclass mix of Dongcheng's supervisor reports.
MIX: tuple[tuple[str, str, int, str], ...] = (
    ("event", "0102", 20, "路边暴露垃圾，垃圾袋散落"),
    ("event", "0109", 15, "楼门口乱堆物堆料，占用通道"),
    ("event", "0201", 14, "墙面、电线杆张贴非法小广告"),
    ("event", "0502", 12, "商户店外经营，占道摆放货架"),
    ("event", "0104", 6, "路面不洁，有油污和杂物"),
    ("event", "0103", 5, "积存垃圾渣土未清运"),
    ("event", "0107", 5, "废弃家具堆放在路边"),
    ("event", "0501", 4, "无照经营游商占道"),
    ("event", "0402", 4, "道路破损，路面出现坑槽"),
    ("component", "0101", 3, "上水井盖破损"),
    ("component", "0102", 3, "污水井盖松动有异响"),
    ("component", "0103", 2, "雨水井盖缺失，已临时围挡"),
    ("event", "0101", 2, "私搭乱建简易棚"),
)


@dataclass(frozen=True)
class Rates:
    """How often each turn of the loop happens (fractions of the cases where it can)."""

    public: float = 0.07  # 公众上报 (resident app)
    hotline: float = 0.08  # 12345 热线
    verify_false: float = 0.08  # 核实不属实
    self_handle: float = 0.04  # 自行处置
    reject: float = 0.02  # 不予立案
    return_: float = 0.04  # 回退
    extension: float = 0.05  # 延期
    deny_extension: float = 0.2  # of the extension requests
    rework: float = 0.07  # 核查不通过 → 返工
    stall: float = 0.03  # the department never reports back: open and overdue by ``now``
    yellow: float = 0.03  # 黄牌督办 while in progress
    red: float = 0.01  # 红牌督办
    rate: float = 0.6  # a resident reporter rates the closed case


@dataclass
class HistorySummary:
    """What ``generate_history`` produced: case count and cases per final state."""

    cases: int = 0
    events: int = 0
    states: dict[str, int] = field(default_factory=dict)
    department_users: int = 0
    users_created: int = 0


class _Stop(Exception):
    """The next step of a case would happen after ``now``: the case stays where it is."""


@dataclass
class _Staff:
    acceptor: User
    intake: User
    shift_lead: User
    dispatcher: User
    leader: User
    resident: User
    supervisors: list[tuple[User, list[str]]]
    grid_supervisor: dict[str, User]
    checkers: dict[str, User]  # street code → check supervisor (核查员)
    departments: dict[str, User] = field(default_factory=dict)
    created: int = 0  # desk users, supervisors and check supervisors this module created
    created_departments: int = 0


def make_photos(storage: MediaStorage, now: datetime, count: int = 6) -> list[str]:
    """Store ``count`` small generated JPEGs once (content-addressed) and return their ids."""
    ids = []
    for i in range(count):
        img = Image.new("RGB", (320, 240), (90 + 25 * i, 120 + 15 * i, 140 - 10 * i))
        draw = ImageDraw.Draw(img)
        draw.rectangle((40 + 10 * i, 60, 200 + 10 * i, 180), outline=(255, 255, 255), width=4)
        draw.text((20, 20), f"gridgov demo photo {i + 1}", fill=(255, 255, 255))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=70)
        checked = check_image(buf.getvalue(), max_bytes=10_000_000)
        storage.put(checked.id, checked.ext, checked.data, checked.thumb, now=now)
        ids.append(checked.id)
    return ids


def generate_history(
    session: Session,
    *,
    days: int = 14,
    per_day: int = 200,
    seed: int = 1,
    now: datetime,
    photos: Sequence[str],
    progress: Progress | None = None,
    rates: Rates | None = None,
) -> HistorySummary:
    """File about ``per_day`` cases a day for the ``days`` before ``now`` and drive each through
    the real workflow as far as simulated time allows (nothing happens after ``now``).

    Needs regions, unit grids, the taxonomy and the departments; supervisors with grid
    jurisdiction are used when present (else one per community is created), and any missing
    desk user, check supervisor (per street) or department user is created with cheap hashing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be time zone aware")
    if not photos:
        raise ValueError("photos must hold at least one media id")
    report = progress or (lambda _stage, _f: None)
    rng = random.Random(seed)
    r = rates or Rates()
    previous = passwords.use_hasher(_CHEAP)
    try:
        staff = _staff(session)
        mix = _mix(session)
        points = _grid_points(session)
        summary = HistorySummary()
        start_day = now.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        start_day -= timedelta(days=days)
        for d in range(days + 1):
            day = start_day + timedelta(days=d)
            weekend = day.weekday() >= 5
            n = round(per_day * (0.7 if weekend else 1.0) * rng.uniform(0.9, 1.1))
            times = sorted(day + timedelta(minutes=rng.uniform(7 * 60, 19 * 60)) for _ in range(n))
            for t in times:
                if t >= now:
                    break
                sim = _Sim(session, staff, rng, r, now, list(photos))
                case = sim.run(t, mix, points)
                summary.cases += 1
                summary.events += case.version
                summary.states[case.state.value] = summary.states.get(case.state.value, 0) + 1
            report("history", (d + 1) / (days + 1))
        summary.department_users = staff.created_departments
        summary.users_created = staff.created + staff.created_departments
        return summary
    finally:
        passwords.use_hasher(previous)


# ---- one case ---------------------------------------------------------------------------------


class _Sim:
    """Drives one case; ``step`` advances the simulated clock and stops at ``now``."""

    def __init__(
        self,
        session: Session,
        staff: _Staff,
        rng: random.Random,
        rates: Rates,
        now: datetime,
        photos: list[str],
    ) -> None:
        self.s, self.staff, self.rng, self.r, self.now = session, staff, rng, rates, now
        self.photos = photos
        self.case: Case | None = None
        self.t = now

    def pics(self) -> list[str]:
        return self.rng.sample(self.photos, k=min(len(self.photos), self.rng.randint(1, 2)))

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def step(
        self, user: User, action: Action, payload: dict[str, Any], lo: float, hi: float
    ) -> None:
        """``action`` by ``user`` ``lo``–``hi`` minutes after the previous step (if before now)."""
        assert self.case is not None
        t = self.t + timedelta(minutes=self.rng.uniform(lo, hi))
        if t >= self.now:
            raise _Stop
        self.t = t
        self.case = act(self.s, self.case.case_no, action, user, payload, self.case.version, t)

    def run(self, t0: datetime, mix: list[tuple[Subclass, int, str]], points: Points) -> Case:
        rng, st = self.rng, self.staff
        sup, grids = rng.choice(st.supervisors)
        sub, _w, text = rng.choices(mix, weights=[w for _s, w, _t in mix])[0]
        urgency = "urgent" if "urgent" in sub.urgency_levels and self.chance(0.1) else "normal"
        roll = rng.random()
        channel = "public" if roll < self.r.public else None
        if channel is None and roll < self.r.public + self.r.hotline:
            channel = "hotline"
        grid = rng.choice(grids) if channel is None else rng.choice(list(points))
        lon, lat = rng.choice(points[grid])
        self.t = t0
        if channel is None:  # a supervisor's report in their own grid
            actor: User | None = sup
            kw: dict[str, Any] = {"channel": "supervisor", "photos": self.pics()}
        elif channel == "public":
            actor = st.resident if self.chance(0.5) else None
            kw = {"channel": None, "contact": {"phone": f"139{rng.randint(0, 99_999_999):08d}"}}
        else:
            actor = st.intake
            kw = {
                "channel": "hotline",
                "contact": {"phone": f"138{rng.randint(0, 99_999_999):08d}"},
            }
        self.case = create_case(
            self.s,
            actor=actor,
            subclass=sub.code,
            subclass_kind=sub.kind.value,
            urgency=urgency,
            lon=lon,
            lat=lat,
            description=("12345来电：" if channel == "hotline" else "") + text,
            now=t0,
            **kw,
        )
        with contextlib.suppress(_Stop):
            self._loop(sup if channel is None else st.grid_supervisor[self.case.grid_code])
        return self.case

    def _loop(self, sup: User) -> None:
        st, r = self.staff, self.r
        assert self.case is not None
        if self.case.channel.value != "supervisor":  # 核实 on site by the grid's supervisor
            self.step(st.acceptor, Action.ASSIGN_VERIFY, {"verifier_id": sup.id}, 3, 30)
            if self.chance(r.verify_false):
                self.step(sup, Action.VERIFY_FALSE, {"reason": "现场核实不属实"}, 20, 120)
                return
            self.step(sup, Action.VERIFY, {"photos": self.pics()}, 20, 120)
        elif self.chance(r.self_handle):
            self.step(
                sup, Action.SELF_HANDLE, {"result": "已现场处置", "photos": self.pics()}, 5, 30
            )
            self.step(st.shift_lead, Action.CLOSE, {}, 5, 60)
            return
        if self.chance(r.reject):
            self.step(st.shift_lead, Action.REJECT, {"reason": "不属于立案范围"}, 5, 50)
            return
        self.step(st.shift_lead, Action.REGISTER, {}, 5, 50)
        self._dispatch()
        if self.chance(r.return_):
            dept = self._dept()
            self.step(dept, Action.REQUEST_RETURN, {"reason": "非本单位职责"}, 20, 180)
            self.step(st.dispatcher, Action.APPROVE_RETURN, {}, 10, 60)
            self._dispatch()
        dept = self._dept()
        self.step(dept, Action.ACCEPT, {}, 10, 120)
        self._supervise()
        if self.chance(r.extension):
            due = self.t + timedelta(days=3)
            self.step(
                dept, Action.REQUEST_EXTENSION, {"reason": "需协调产权单位", "due_at": due}, 30, 240
            )
            if self.chance(r.deny_extension):
                self.step(st.dispatcher, Action.DENY_EXTENSION, {"reason": "请按时处置"}, 10, 90)
            else:
                self.step(st.dispatcher, Action.APPROVE_EXTENSION, {"due_at": due}, 10, 90)
        if self.chance(r.stall):  # never reported back: overdue by now
            self._supervise(force=True)
            raise _Stop
        rework = self.chance(r.rework)
        while True:
            result = {"result": "已处置完毕", "photos": self.pics()}
            self.step(dept, Action.REPORT_BACK, result, 30, 600)
            checker = st.checkers[self.case.street_code or ""]
            self.step(st.acceptor, Action.ASSIGN_CHECK, {"checker_id": checker.id}, 3, 30)
            if rework:
                fail = {"photos": self.pics(), "reason": "现场仍未处置到位"}
                self.step(checker, Action.CHECK_FAIL, fail, 20, 110)
                self.step(dept, Action.ACCEPT, {}, 10, 120)
                rework = False
                continue
            self.step(checker, Action.CHECK_PASS, {"photos": self.pics()}, 20, 110)
            break
        self.step(st.shift_lead, Action.CLOSE, {}, 5, 60)
        if self.case.reporter_user_id == st.resident.id and self.chance(r.rate):
            score = self.rng.choice((3, 4, 5, 5, 5))
            self.step(st.resident, Action.RATE, {"score": score}, 30, 24 * 60)
        elif self.case.channel.value == "hotline" and self.chance(r.rate):  # 回访: the desk calls
            score = self.rng.choice((3, 4, 5, 5, 5))
            callback = {"score": score, "note": "电话回访"}
            self.step(st.acceptor, Action.RECORD_RATING, callback, 60, 24 * 60)

    def _dispatch(self) -> None:
        """派遣 to the routing suggestion; a case in the coordination queue goes to its street
        office (or 城管执法局) as the dispatcher would decide."""
        assert self.case is not None
        routed = (self.case.workflow or {}).get("routing") or {}
        payload: dict[str, Any] = {}
        if not routed.get("department_code"):
            payload["department_code"] = _fallback_department(self.s, self.case)
        self.step(self.staff.dispatcher, Action.DISPATCH, payload, 5, 40)

    def _dept(self) -> User:
        assert self.case is not None and self.case.department_code
        return _department_user(self.s, self.staff, self.case.department_code)

    def _supervise(self, force: bool = False) -> None:
        if force or self.chance(self.r.yellow + self.r.red):
            level = "red" if self.chance(self.r.red / (self.r.yellow + self.r.red)) else "yellow"
            if force:
                level = "red"
            self.step(
                self.staff.leader,
                Action.SUPERVISE,
                {"level": level, "reason": "督促尽快处置"},
                30,
                300,
            )


# ---- base data --------------------------------------------------------------------------------

Points = dict[str, list[tuple[float, float]]]


def _mix(session: Session) -> list[tuple[Subclass, int, str]]:
    out = []
    for kind, code, weight, text in MIX:
        sub = session.scalar(
            select(Subclass).where(Subclass.kind == Kind(kind), Subclass.code == code)
        )
        if sub is not None and sub.is_active:
            out.append((sub, weight, text))
    if not out:
        raise GridgovError("load the taxonomy before the demo history", code="no_taxonomy")
    return out


def _grid_points(session: Session, per_grid: int = 6) -> Points:
    """A few fixed points inside each current unit grid (seeded by the grid code)."""
    out: Points = {}
    for grid in session.scalars(
        select(UnitGrid).where(UnitGrid.valid_to.is_(None)).order_by(UnitGrid.code)
    ):
        shape = prep(grid.geom)
        rng = random.Random(grid.code)
        minx, miny, maxx, maxy = grid.geom.bounds
        pts: list[tuple[float, float]] = []
        for _ in range(per_grid * 20):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shape.contains(Point(x, y)):
                pts.append((round(x, 7), round(y, 7)))
                if len(pts) == per_grid:
                    break
        if not pts:
            p = grid.geom.representative_point()
            pts.append((p.x, p.y))
        out[grid.code] = pts
    if not out:
        raise GridgovError("load the unit grids before the demo history", code="no_grids")
    return out


def _user(session: Session, role: Role, username: str | None = None) -> User | None:
    stmt = select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
    if username:
        stmt = stmt.where(User.username == username)
    return session.scalars(stmt).first()


def _desk(session: Session, role: Role, username: str, district: str, made: list[User]) -> User:
    """The demo login ``username`` if loaded, else any user of the role, else a new one."""
    found = _user(session, role, username) or _user(session, role)
    if found is not None:
        return found
    scopes = [] if role is Role.RESIDENT else [(ScopeKind.REGION, district)]
    user = create_user(
        session,
        f"hist_{username}",
        f"演示{username}",
        role,
        PASSWORD,
        scopes,  # type: ignore[arg-type]
    )
    made.append(user)
    return user


def _staff(session: Session) -> _Staff:
    district = session.scalar(
        select(Region.code).where(Region.level == Level.DISTRICT).order_by(Region.code)
    )
    if district is None:
        raise GridgovError("load the regions before the demo history", code="no_regions")
    grids = list(
        session.scalars(
            select(UnitGrid.code).where(UnitGrid.valid_to.is_(None)).order_by(UnitGrid.code)
        )
    )
    rows = session.execute(
        select(User, Jurisdiction.code)
        .join(Jurisdiction, Jurisdiction.user_id == User.id)
        .where(User.role == Role.SUPERVISOR, Jurisdiction.scope_kind == ScopeKind.GRID)
        .order_by(User.id, Jurisdiction.code)
    ).all()
    made: list[User] = []
    by_user: dict[int, tuple[User, list[str]]] = {}
    for user, code in rows:
        by_user.setdefault(user.id, (user, []))[1].append(code)
    if not by_user:  # no supervisors yet: one per community
        by_comm: dict[str, list[str]] = {}
        for code in grids:
            by_comm.setdefault(code[:12], []).append(code)
        for i, (_comm, codes) in enumerate(sorted(by_comm.items()), 1):
            scopes = [(ScopeKind.GRID, c) for c in codes]
            u = create_user(
                session, f"hist_jdy{i:04d}", f"监督员{i}", Role.SUPERVISOR, PASSWORD, scopes
            )  # type: ignore[arg-type]
            by_user[u.id] = (u, codes)
            made.append(u)
    supervisors = list(by_user.values())
    grid_supervisor = {c: u for u, codes in supervisors for c in codes}
    for code in grids:  # a grid nobody covers is verified by the first supervisor's colleague
        grid_supervisor.setdefault(code, supervisors[0][0])
    checkers: dict[str, User] = {}
    for street in sorted({c[:9] for c in grids}):
        name = f"hcy{street}"
        checker = _user(session, Role.SUPERVISOR, name)
        if checker is None:
            checker = create_user(
                session,
                name,
                f"核查员{street[-3:]}",
                Role.SUPERVISOR,
                PASSWORD,
                [(ScopeKind.REGION, street)],  # type: ignore[list-item]
            )
            made.append(checker)
        checkers[street] = checker
    staff = _Staff(
        acceptor=_desk(session, Role.ACCEPTOR, "acceptor", district, made),
        intake=_desk(session, Role.ACCEPTOR, "intake", district, made),
        shift_lead=_desk(session, Role.SHIFT_LEAD, "shift_lead", district, made),
        dispatcher=_desk(session, Role.DISPATCHER, "dispatcher", district, made),
        leader=_desk(session, Role.LEADER, "leader", district, made),
        resident=_desk(session, Role.RESIDENT, "resident", district, made),
        supervisors=supervisors,
        grid_supervisor=grid_supervisor,
        checkers=checkers,
    )
    staff.created = len(made)
    return staff


def _department_user(session: Session, staff: _Staff, code: str) -> User:
    """The user acting for department ``code``: an existing one, else ``hist_dept_<code>``."""
    user = staff.departments.get(code)
    if user is None:
        user = session.scalars(
            select(User)
            .where(
                User.role == Role.DEPARTMENT, User.department_code == code, User.active.is_(True)
            )
            .order_by(User.id)
        ).first()
        if user is None:
            name = session.scalar(select(Department.name).where(Department.code == code)) or code
            user = create_user(
                session,
                f"hist_dept_{code.lower()}",
                f"{name}（演示）"[:60],
                Role.DEPARTMENT,
                PASSWORD,
                [(ScopeKind.DEPARTMENT, code)],  # type: ignore[list-item]
                department_code=code,
            )
            staff.created_departments += 1
        staff.departments[code] = user
    return user


def _fallback_department(session: Session, case: Case) -> str:
    """The street office of the case's street if there is one, else 城管执法局, else any."""
    codes = [f"JD{case.street_code}", "QCGZFJ"]
    for code in codes:
        found = session.scalar(
            select(Department.code).where(Department.code == code, Department.active.is_(True))
        )
        if found:
            return found
    return (
        session.scalars(
            select(Department.code).where(Department.active.is_(True)).order_by(Department.code)
        ).first()
        or "QCGZFJ"
    )


__all__ = ["HistorySummary", "Rates", "generate_history", "make_photos"]
