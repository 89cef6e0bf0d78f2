"""Hotline bulk import (热线工单导入) and the signed IoT / video-patrol alarm webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.app import _install_error_handlers
from gridgov.cases import channels_api
from gridgov.cases.channels import import_hotline
from gridgov.cases.models import Case
from gridgov.config import Settings
from gridgov.deps import get_app_settings, get_current_user, get_session
from gridgov.errors import ImportRejected, ValidationError
from gridgov.gazetteer import search as gazetteer_search
from gridgov.gazetteer.service import add_entries
from gridgov.regions import geocode
from gridgov.taxonomy.service import load_default
from tests.factories.regions import COMMUNITIES, DISTRICT, STREETS, X0, Y0, D, make_district

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
LON, LAT = X0 + D / 2, Y0 + 1.5 * D  # grid 11018800100101
FAR_LON = X0 + 6.5 * D  # street 2
SECRET = "s3cret"
HEADER = "工单号,来电时间,地址,经度,纬度,小类编码,紧急程度,描述,联系人,电话"


def _user(session: Session, name: str, role: Role, region: str | None = DISTRICT) -> User:
    user = User(username=name, name=name, role=role, active=True, failed_logins=0)
    session.add(user)
    session.flush()
    if region:
        session.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.REGION, code=region))
        session.flush()
    return user


@pytest.fixture
def world(session: Session) -> dict[str, User]:
    make_district(session)
    load_default(session)
    add_entries(session, [{"address": "东华门街道多福巷12号", "lon": LON, "lat": LAT}])
    geocode.invalidate()
    gazetteer_search.invalidate()
    return {
        "acceptor": _user(session, "acc", Role.ACCEPTOR),
        "near": _user(session, "near", Role.ACCEPTOR, STREETS[0]),
        "admin": _user(session, "admin", Role.ADMIN, None),
        "intake": _user(session, "intake", Role.ACCEPTOR),
        "supervisor": _user(session, "sup", Role.SUPERVISOR),
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, environment="test", iot_webhook_secret=SECRET)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Case)) or 0


GOOD_ROWS = [
    f"RX-001,2026-06-01 09:30,,{LON},{LAT},0102,一般,路边垃圾堆放,王女士,13800000000",
    "RX-002,,东华门街道多福巷12号,,,0102,紧急,垃圾桶满溢,,",
]


def _csv(tmp_path: Path, rows: list[str], *, encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "hotline.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding=encoding)
    return path


def test_hotline_csv_creates_hotline_cases(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    result = import_hotline(
        session, _csv(tmp_path, GOOD_ROWS), actor=world["acceptor"], settings=settings, now=NOW
    )
    assert len(result.created) == 2 and result.skipped == []
    cases = {c.case_no: c for c in session.scalars(select(Case))}
    first, second = (cases[n] for n in result.created)
    assert first.channel == "hotline" and first.grid_code == f"{COMMUNITIES[0]}01"
    assert first.reporter_name == "王女士" and first.urgency == "normal"
    assert first.description == "路边垃圾堆放（来电时间 2026-06-01 09:30）"
    assert second.urgency == "urgent" and second.grid_code == f"{COMMUNITIES[0]}01"
    assert first.idempotency_key == f"{world['acceptor'].id}:hotline:RX-001"


def test_hotline_reimport_creates_nothing(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    path = _csv(tmp_path, GOOD_ROWS)
    import_hotline(session, path, actor=world["acceptor"], settings=settings, now=NOW)
    again = import_hotline(session, path, actor=world["admin"], settings=settings, now=NOW)
    assert again.created == [] and again.skipped == ["RX-001", "RX-002"]
    assert _count(session) == 2


def test_hotline_gbk_csv(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    path = _csv(tmp_path, GOOD_ROWS[:1], encoding="gbk")
    result = import_hotline(session, path, actor=world["acceptor"], settings=settings, now=NOW)
    assert len(result.created) == 1


def test_hotline_bad_rows_refuse_the_whole_file(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    rows = [
        *GOOD_ROWS,
        f"RX-003,,,{LON},{LAT},9999,,未知小类,,",
        f"RX-004,,,{LON},{LAT},0102,,,,",
        "RX-005,,,116.9,40.5,0102,,界外,,",
        "RX-006,,不存在的地址999号,,,0102,,找不到地址,,",
        f"RX-001,,,{LON},{LAT},0102,,重复工单,,",
        f"RX-007,2030-01-01 08:00,,{LON},{LAT},0102,特急,未来来电,,",
    ]
    with pytest.raises(ImportRejected) as info:
        import_hotline(
            session, _csv(tmp_path, rows), actor=world["acceptor"], settings=settings, now=NOW
        )
    problems = {(p["row"], p["field"]): p["reason"] for p in info.value.problems}
    assert problems[(4, "小类编码")] == "unknown event subclass '9999'"
    assert problems[(5, "描述")] == "is empty"
    assert "outside every grid" in problems[(6, "位置")]
    assert "is not in the gazetteer" in problems[(7, "地址")]
    assert problems[(8, "工单号")] == "RX-001 is also on row 2"
    assert problems[(9, "来电时间")] == "the call time is in the future"
    assert "not allowed" in problems[(9, "紧急程度")]
    assert info.value.message.startswith("hotline.csv: import refused, 7 problems; first: row 4")
    assert _count(session) == 0


def test_hotline_rows_outside_the_acceptors_jurisdiction(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    rows = [f"RX-9,,,{FAR_LON},{LAT},0102,,对面街道,,"]
    with pytest.raises(ImportRejected) as info:
        import_hotline(
            session, _csv(tmp_path, rows), actor=world["near"], settings=settings, now=NOW
        )
    assert "outside your jurisdiction" in info.value.problems[0]["reason"]
    assert _count(session) == 0


def test_hotline_missing_columns_and_not_csv(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("工单号,描述\nA,b\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="missing column"):
        import_hotline(session, path, actor=world["acceptor"], settings=settings, now=NOW)
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(ValidationError, match="binary"):
        import_hotline(session, path, actor=world["acceptor"], settings=settings, now=NOW)


def _xlsx(tmp_path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER.split(","))
    for row in rows:
        ws.append(row)
    path = tmp_path / "hotline.xlsx"
    wb.save(path)
    return path


def test_hotline_excel(
    session: Session, world: dict[str, User], settings: Settings, tmp_path: Path
) -> None:
    rows = [
        [
            20260601001,
            datetime(2026, 6, 1, 8, 5),
            None,
            LON,
            LAT,
            "0102",
            "一般",
            "堆物",
            "李",
            139,
        ],
        [20260601002, None, "东华门街道多福巷12号", None, None, "0102", None, "垃圾", None, None],
    ]
    path = _xlsx(tmp_path, rows)
    result = import_hotline(session, path, actor=world["admin"], settings=settings, now=NOW)
    assert len(result.created) == 2
    keys = set(session.scalars(select(Case.idempotency_key)))
    intake = world["intake"].id
    assert keys == {f"{intake}:hotline:20260601001", f"{intake}:hotline:20260601002"}
    bad = _xlsx(tmp_path, [[1, None, None, LON, LAT, "0102", None, None, None, None]])
    with pytest.raises(ImportRejected) as info:
        import_hotline(session, bad, actor=world["admin"], settings=settings, now=NOW)
    assert info.value.problems[0]["row"] == 2


# ----------------------------------------------------------------------------- HTTP


@pytest.fixture
def make_client(session: Session, settings: Settings) -> Iterator[Any]:
    clients: list[TestClient] = []

    def build(user: User | None = None, cfg: Settings = settings) -> TestClient:
        app = FastAPI()
        _install_error_handlers(app)
        app.include_router(channels_api.router, prefix="/api")

        def _session() -> Iterator[Session]:
            yield session
            session.flush()

        app.dependency_overrides[get_session] = _session
        app.dependency_overrides[get_app_settings] = lambda: cfg
        if user is not None:
            app.dependency_overrides[get_current_user] = lambda: user
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield build
    for c in clients:
        c.close()


def test_hotline_endpoint(
    world: dict[str, User], make_client: Any, session: Session, tmp_path: Path
) -> None:
    data = _csv(tmp_path, GOOD_ROWS).read_bytes()
    acc = make_client(world["acceptor"])
    r = acc.post("/api/cases/import/hotline", files={"file": ("热线.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["file"] == "热线.csv" and len(r.json()["created"]) == 2
    sup = make_client(world["supervisor"])
    r = sup.post("/api/cases/import/hotline", files={"file": ("h.csv", data, "text/csv")})
    assert r.status_code == 403
    bad = _csv(tmp_path, ["RX-3,,,1,1,0102,,x,,"]).read_bytes()
    r = acc.post("/api/cases/import/hotline", files={"file": ("h.csv", bad, "text/csv")})
    assert r.status_code == 422 and r.json()["problems"][0]["row"] == 2


def _alarm(**over: Any) -> bytes:
    body = {
        "source": "cam-17",
        "alarm_id": "A-1",
        "subclass_code": "0102",
        "lon": LON,
        "lat": LAT,
        "description": "视频识别：暴露垃圾",
        "observed_at": "2026-06-01T09:58:00+08:00",
    }
    return json.dumps(body | over).encode()


def _sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Gridgov-Signature": f"sha256={mac}", "Content-Type": "application/json"}


def test_alarm_creates_a_sensor_case_once(
    world: dict[str, User], make_client: Any, session: Session
) -> None:
    client = make_client()
    body = _alarm()
    r = client.post("/api/intake/alarm", content=body, headers=_sign(body))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["channel"] == "sensor" and out["state"] == "reported" and out["created"]
    case = session.scalar(select(Case).where(Case.case_no == out["case_no"]))
    assert case is not None and case.idempotency_key == f"{world['intake'].id}:cam-17:A-1"
    assert case.subclass_kind == "event" and case.description.endswith(
        "告警时间 2026-06-01 09:58）"
    )
    replay = client.post("/api/intake/alarm", content=body, headers=_sign(body))
    assert replay.status_code == 200 and replay.json()["case_no"] == out["case_no"]
    assert not replay.json()["created"] and _count(session) == 1
    video = _alarm(alarm_id="A-2", channel="video")
    r = client.post("/api/intake/alarm", content=video, headers=_sign(video))
    assert r.status_code == 201 and r.json()["channel"] == "video"


def test_alarm_signature_is_required(
    world: dict[str, User], make_client: Any, session: Session, settings: Settings
) -> None:
    client = make_client()
    body = _alarm()
    missing = client.post("/api/intake/alarm", content=body)
    assert missing.status_code == 401 and missing.json()["code"] == "bad_signature"
    wrong = client.post("/api/intake/alarm", content=body, headers=_sign(body, "guess"))
    assert wrong.status_code == 401
    tampered = client.post("/api/intake/alarm", content=_alarm(lon=LON + D), headers=_sign(body))
    assert tampered.status_code == 401
    off = make_client(cfg=settings.model_copy(update={"iot_webhook_secret": ""}))
    r = off.post("/api/intake/alarm", content=body, headers=_sign(body, ""))
    assert r.status_code == 401 and r.json()["message"] == "webhook not configured"
    assert _count(session) == 0


def test_alarm_bad_input_is_4xx(world: dict[str, User], make_client: Any, session: Session) -> None:
    client = make_client()
    for body, status in [
        (b"not json", 422),
        (_alarm(subclass_code="9999"), 422),
        (_alarm(lon=116.9, lat=40.5), 422),
        (_alarm(source="../x"), 422),
        (json.dumps([1, 2]).encode(), 422),
        (_alarm(description="x" * 70_000), 413),
    ]:
        r = client.post("/api/intake/alarm", content=body, headers=_sign(body))
        assert r.status_code == status, (body[:40], r.text)
    assert _count(session) == 0


def test_alarm_without_intake_account_is_401(make_client: Any, session: Session) -> None:
    make_district(session)
    load_default(session)
    body = _alarm()
    r = make_client().post("/api/intake/alarm", content=body, headers=_sign(body))
    assert r.status_code == 401 and r.json()["code"] == "webhook_not_configured"
