"""Load the generated demo district into a database through the real services.

Regions and grids go through the same validation as any import (so the demo proves the
generator's output is a valid tiling); roads, buildings and the gazetteer are bulk-inserted.
Supervisors (监督员) get responsibility grids of 3–6 neighbouring unit grids of one community
(and those grids as their jurisdiction); each street gets a sanitation professional grid
(环卫专业网格). The taxonomy, the default departments and responsibility matrix, and one login per
role (:data:`DEMO_LOGINS`, password :data:`DEMO_PASSWORD`, listed in the README) are loaded too.
Passwords are hashed with cheap argon2 parameters through ``passwords.use_hasher`` (the supported
way for bulk loads); each is rehashed with the production parameters at its first login.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from gridgov.accounts import passwords
from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.accounts.service import create_user
from gridgov.config import Settings, get_settings
from gridgov.db import session_scope
from gridgov.demo import DemoDistrict, generate_district
from gridgov.demo.components import PER_GRID as COMPONENTS_PER_GRID
from gridgov.demo.components import generate_components
from gridgov.demo.district import DISTRICT_CODE
from gridgov.demo.history import generate_history, make_photos
from gridgov.demo.names import CITY_CODE
from gridgov.departments.service import load_default as load_departments
from gridgov.gazetteer.service import add_entries
from gridgov.media.storage import storage_for
from gridgov.regions import service
from gridgov.regions.models import GridSet, GridSetKind, GridSetMember, Region
from gridgov.regions.schemas import GridIn, RegionIn
from gridgov.registry.models import Building
from gridgov.roads.models import Road, RoadClass
from gridgov.taxonomy.service import load_default as load_taxonomy

Progress = Callable[[str, float], None]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉玲红雪梅鹏飞"
RESPONSIBILITY_SIZE = (
    4  # unit grids per supervisor: Dongcheng had ~1,600 grids and ~400 supervisors
)
#: The password of every demo login (documented in the README; never use it elsewhere).
DEMO_PASSWORD = "gridgov-demo"
#: One login per role: (username, name, role, department code). Staff cover the district; the
#: department user covers its department (城管执法局); the resident covers only their reports.
DEMO_LOGINS: tuple[tuple[str, str, Role, str | None], ...] = (
    ("acceptor", "受理员（演示）", Role.ACCEPTOR, None),
    # 受理账号: files IoT/video alarms and admin-run hotline imports (settings.intake_account)
    ("intake", "受理账号（告警与热线导入）", Role.ACCEPTOR, None),
    ("shift_lead", "值班长（演示）", Role.SHIFT_LEAD, None),
    ("dispatcher", "派遣员（演示）", Role.DISPATCHER, None),
    # 市级指挥中心: the next level up, which takes over cases the district escalates (上报上级)
    ("dispatcher_city", "市级派遣员（演示）", Role.DISPATCHER, None),
    ("leader", "区领导（演示）", Role.LEADER, None),
    ("admin", "系统管理员（演示）", Role.ADMIN, None),
    ("registrar", "信息采集员（演示）", Role.REGISTRAR, None),
    ("dept_cgzf", "城管执法局（演示）", Role.DEPARTMENT, "QCGZFJ"),
    ("resident", "居民（演示）", Role.RESIDENT, None),
)
#: Demo history (演示案件历史): days before the first start and cases a day (Dongcheng ≈ 200).
HISTORY_DAYS = 21
HISTORY_PER_DAY = 200
#: Cheap argon2id parameters for the bulk load (about 1 ms a hash instead of about 50 ms).
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class DemoSummary:
    regions: int
    grids: int
    roads: int
    buildings: int
    addresses: int
    supervisors: int
    logins: int = 0
    cases: int = 0
    components: int = 0


def is_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def load_demo(
    engine: Engine,
    *,
    scale: float = 1.0,
    seed: int = 1,
    settings: Settings | None = None,
    progress: Progress | None = None,
    history_days: int = HISTORY_DAYS,
) -> DemoSummary:
    settings = settings or get_settings()
    report = progress or (lambda _stage, _f: None)

    def gen_progress(stage: str, fraction: float) -> None:
        report(f"生成 {stage}", 0.3 * fraction)

    district = generate_district(seed=seed, scale=scale, progress=gen_progress)
    with session_scope(engine) as session:
        report("regions", 0.31)
        _load_regions(session, district)
        report("grids", 0.33)
        grids = [
            GridIn(
                geom=g.geom,
                code=f"{g.community_code}{g.seq:0{settings.grid_seq_digits}d}",
                community_code=g.community_code,
            )
            for g in district.grids
        ]
        service.save_grids(
            session,
            grids,
            digits=settings.grid_seq_digits,
            source="demo",
            note="demo district",
            tolerance_m2=settings.topology_tolerance_m2,
        )
        report("roads", 0.38)
        _load_roads(session, district)
        report("buildings", 0.40)
        building_ids = _load_buildings(session, district)
        report("gazetteer", 0.43)
        add_entries(
            session,
            [
                {
                    "kind": a.kind,
                    "address": a.address,
                    "lon": a.lon,
                    "lat": a.lat,
                    "building_id": building_ids[a.building_index]
                    if a.building_index is not None
                    else None,
                }
                for a in district.addresses
            ],
            source="demo",
        )
        report("taxonomy", 0.46)
        load_taxonomy(session)
        load_departments(session, DISTRICT_CODE)
        report("supervisors", 0.48)
        with _cheap_hashing():
            supervisors = _load_supervisors(session, [g.code for g in grids])  # type: ignore[misc]
            logins = _load_logins(session)
        _load_professional_grids(session, district, [g.code for g in grids])  # type: ignore[misc]
        report("components", 0.49)
        components = generate_components(session, per_grid=COMPONENTS_PER_GRID, seed=seed)
        report("history", 0.5)
        now = datetime.now(UTC)
        history = generate_history(
            session,
            days=history_days,
            per_day=HISTORY_PER_DAY,
            seed=seed,
            now=now,
            photos=make_photos(storage_for(settings), now),
            progress=lambda stage, f: report(stage, 0.5 + 0.5 * f),
        )
    report("done", 1.0)
    return DemoSummary(
        regions=2 + len(district.streets) + len(district.communities),
        grids=len(district.grids),
        roads=len(district.roads),
        buildings=len(district.buildings),
        addresses=len(district.addresses),
        supervisors=supervisors,
        logins=logins + supervisors + history.users_created,
        cases=history.cases,
        components=components,
    )


def _load_regions(session: Session, d: DemoDistrict) -> None:
    items = [
        RegionIn(
            code=r.code,
            name=r.name,
            geom=r.geom,
            level=r.level,
            parent_code=r.parent_code,
            population=r.population,
        )
        for r in [d.city, d.district, *d.streets, *d.communities]
    ]
    service.import_regions(session, items)


def _load_roads(session: Session, d: DemoDistrict) -> None:
    rows = []
    for r in d.roads:
        b = r.geom.bounds
        rows.append(
            {
                "name": r.name,
                "road_class": RoadClass(r.road_class),
                "width_m": r.width_m,
                "geom": r.geom,
                "minx": b[0],
                "miny": b[1],
                "maxx": b[2],
                "maxy": b[3],
                "source": "demo",
            }
        )
    if rows:
        session.execute(insert(Road), rows)


def _load_buildings(session: Session, d: DemoDistrict) -> list[int]:
    first = (session.scalar(select(func.max(Building.id))) or 0) + 1
    rows = []
    for i, b in enumerate(d.buildings):
        bb = b.geom.bounds
        rows.append(
            {
                "id": first + i,
                "name": b.name,
                "address": b.address,
                "floors": b.floors,
                "use": b.use,
                "geom": b.geom,
                "minx": bb[0],
                "miny": bb[1],
                "maxx": bb[2],
                "maxy": bb[3],
                "source": "demo",
            }
        )
    for start in range(0, len(rows), 5000):
        session.execute(insert(Building), rows[start : start + 5000])
    _bump_sequence(session, "building")
    return [first + i for i in range(len(rows))]


def _bump_sequence(session: Session, table: str) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequence past them."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def _person_name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)]
        + GIVEN[(i * 7) % len(GIVEN)]
        + (GIVEN[(i * 13 + 5) % len(GIVEN)] if i % 3 else "")
    )


def _load_supervisors(session: Session, grid_codes: list[str]) -> int:
    """One supervisor per ~4 consecutive grids of a community (consecutive = neighbours in
    reading order), each with a responsibility grid (责任网格)."""
    by_comm: dict[str, list[str]] = {}
    for code in sorted(grid_codes):
        by_comm.setdefault(code[:12], []).append(code)
    n = 0
    for comm, codes in by_comm.items():
        chunks = max(1, round(len(codes) / RESPONSIBILITY_SIZE))
        size = -(-len(codes) // chunks)
        for k in range(chunks):
            members = codes[k * size : (k + 1) * size]
            if not members:
                continue
            n += 1
            user = User(
                username=f"jdy{n:04d}",
                name=_person_name(n),
                role=Role.SUPERVISOR,
                password_hash=passwords.hash_password(DEMO_PASSWORD),
            )
            session.add(user)
            session.flush()
            session.execute(
                insert(Jurisdiction),
                [{"user_id": user.id, "scope_kind": ScopeKind.GRID, "code": c} for c in members],
            )
            gs = GridSet(
                code=f"ZR{comm}{k + 1:02d}",
                kind=GridSetKind.RESPONSIBILITY,
                name=f"责任网格 {comm}-{k + 1}",
                assignee_id=user.id,
            )
            session.add(gs)
            session.flush()
            session.execute(
                insert(GridSetMember), [{"grid_set_id": gs.id, "grid_code": c} for c in members]
            )
    return n


@contextmanager
def _cheap_hashing() -> Iterator[None]:
    """Hash with :data:`DEMO_HASHER` inside the block, then restore the production hasher."""
    previous = passwords.use_hasher(DEMO_HASHER)
    try:
        yield
    finally:
        passwords.use_hasher(previous)


def _load_logins(session: Session) -> int:
    """One user per role (:data:`DEMO_LOGINS`) through ``accounts.service.create_user``."""
    for username, name, role, department in DEMO_LOGINS:
        if role is Role.DEPARTMENT:
            scopes = [(ScopeKind.DEPARTMENT, department)]
        elif role is Role.RESIDENT:
            scopes = []
        else:
            region = CITY_CODE if username.endswith("_city") else DISTRICT_CODE
            scopes = [(ScopeKind.REGION, region)]
        create_user(
            session,
            username,
            name,
            role,
            DEMO_PASSWORD,
            scopes,  # type: ignore[arg-type]
            department_code=department,
        )
    return len(DEMO_LOGINS)


def _load_professional_grids(session: Session, d: DemoDistrict, grid_codes: list[str]) -> None:
    for street in d.streets:
        gs = GridSet(
            code=f"HW{street.code}",
            kind=GridSetKind.PROFESSIONAL,
            name=f"{street.name}环卫专业网格",
            line_of_work="环境卫生",
        )
        session.add(gs)
        session.flush()
        members = [c for c in grid_codes if c.startswith(street.code)]
        if members:
            session.execute(
                insert(GridSetMember), [{"grid_set_id": gs.id, "grid_code": c} for c in members]
            )


__all__ = ["DemoSummary", "is_loaded", "load_demo"]
