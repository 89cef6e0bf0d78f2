"""The calendar API on a small app with only its router (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.app import _install_error_handlers
from gridgov.calendar_admin.api import router
from gridgov.calendar_admin.models import CalendarRule
from gridgov.config import Settings
from gridgov.deps import get_app_settings, get_current_user, get_session


@pytest.fixture
def acting(admin: User) -> dict[str, User]:
    return {"user": admin}


@pytest.fixture
def client(session: Session, settings: Settings, acting: dict[str, User]) -> Iterator[TestClient]:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_app_settings] = lambda: settings
    app.dependency_overrides[get_current_user] = lambda: acting["user"]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _count(session: Session) -> int:
    return session.scalar(select(func.count(CalendarRule.id))) or 0


def test_status_warns_until_the_notice_is_imported(client: TestClient) -> None:
    st = client.get("/api/calendar/status", params={"year": 2027}).json()
    assert st["covered"] is False and st["source"] == "fallback"
    assert "周一至周五" in st["warning_zh"] and "Monday–Friday" in st["warning_en"]
    assert client.get("/api/calendar/status", params={"year": 2026}).json()["source"] == "package"

    rows = [
        {"date": "2027-01-01", "kind": "holiday", "note": "元旦"},
        {"date": "2027-01-03", "kind": "workday", "note": "调休上班"},
    ]
    r = client.post("/api/calendar/notice", json={"rows": rows})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 2
    st = client.get("/api/calendar/status", params={"year": 2027}).json()
    assert st["covered"] is True and st["source"] == "notice" and st["warning"] is None
    listed = client.get("/api/calendar/rules", params={"year": 2027}).json()
    assert [(x["date"], x["kind"], x["source"]) for x in listed] == [
        ("2027-01-01", "holiday", "notice"),
        ("2027-01-03", "workday", "notice"),
    ]


def test_csv_upload(client: TestClient) -> None:
    csv = "date,kind,note\n2027-01-01,休,元旦\n2027-01-03,班,调休上班\n".encode("gb18030")
    r = client.post("/api/calendar/notice", files={"file": ("notice.csv", csv, "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["year"] == 2027 and r.json()["workdays"] == 1


@pytest.mark.parametrize(
    "rows",
    [
        [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2027-13-01", "kind": "holiday"}],
        [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2027-01-02", "kind": "nap"}],
        [{"date": "2027-01-01", "kind": "holiday"}, {"date": "2028-01-01", "kind": "holiday"}],
    ],
)
def test_bad_notice_is_422_and_writes_nothing(
    client: TestClient, session: Session, rows: list[dict[str, str]]
) -> None:
    r = client.post("/api/calendar/notice", json={"rows": rows})
    assert r.status_code == 422 and r.json()["code"] == "bad_notice", r.text
    assert "row 2" in r.json()["message"]
    assert _count(session) == 0


def test_overrides(client: TestClient, session: Session) -> None:
    r = client.put("/api/calendar/overrides/2026-10-08", json={"kind": "holiday", "note": "停工"})
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "override"
    listed = client.get("/api/calendar/rules", params={"year": 2026}).json()
    assert ("2026-10-08", "override", True) in [
        (x["date"], x["source"], x["effective"]) for x in listed
    ]
    assert (
        client.put("/api/calendar/overrides/2026-02-30", json={"kind": "holiday"}).status_code
        == 422
    )
    assert client.put("/api/calendar/overrides/2026-10-09", json={"kind": "x"}).status_code == 422
    assert client.delete("/api/calendar/overrides/2026-10-08").status_code == 204
    assert client.delete("/api/calendar/overrides/2026-10-08").status_code == 404
    assert _count(session) == 0


def test_non_admin_may_read_but_not_write(
    client: TestClient, session: Session, acting: dict[str, User], supervisor: User
) -> None:
    acting["user"] = supervisor
    assert client.get("/api/calendar/status", params={"year": 2027}).status_code == 200
    r = client.post("/api/calendar/notice", json={"rows": [{"date": "2027-01-01", "kind": "休"}]})
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    assert (
        client.put("/api/calendar/overrides/2026-10-08", json={"kind": "holiday"}).status_code
        == 403
    )
    assert client.delete("/api/calendar/overrides/2026-10-08").status_code == 403
    assert _count(session) == 0
