"""Taxonomy admin writes over HTTP (gridgov/taxonomy/admin_api.py), on SQLite and PostgreSQL:
one subclass's time limit, and the Excel import."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog, Role, User
from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.taxonomy import service
from tests.api.acting import As, acting_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def api(session: Session, tmp_path: Any) -> Iterator[TestClient]:
    service.load_default(session)
    admin = User(username="admin", name="管理员", role=Role.ADMIN)
    acceptor = User(username="acceptor", name="受理员", role=Role.ACCEPTOR)
    session.add_all([admin, acceptor])
    session.flush()
    app = create_app(Settings(data_dir=tmp_path, environment="test"), session.get_bind())

    with acting_client(app, session) as client:
        As.user = admin
        yield client


def _limit(sub: dict[str, Any], step: str, urgency: str | None = None) -> dict[str, Any]:
    return next(t for t in sub["time_limits"] if (t["step"], t["urgency"]) == (step, urgency))


def test_set_a_handle_limit_for_one_urgency(api: TestClient, session: Session) -> None:
    before = api.get("/api/taxonomy/subclasses/0101", params={"kind": "component"}).json()
    body = {"kind": "component", "step": "handle", "urgency": "urgent", "value": 4}
    r = api.put("/api/taxonomy/subclasses/0101/time-limits", json={**body, "unit": "working_hours"})
    assert r.status_code == 200, r.text
    sub = r.json()
    assert _limit(sub, "handle", "urgent") == {
        "step": "handle",
        "urgency": "urgent",
        "value": 4,
        "unit": "working_hours",
    }
    # The other limits are untouched, and a read afterwards sees the new number.
    assert _limit(sub, "handle", "normal") == _limit(before, "handle", "normal")
    assert len(sub["time_limits"]) == len(before["time_limits"])
    again = api.get("/api/taxonomy/subclasses/0101", params={"kind": "component"}).json()
    assert _limit(again, "handle", "urgent")["value"] == 4
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "taxonomy.time_limit")).one()
    assert audit.object_id == "component:0101"
    assert audit.detail["after"] == "4 working_hours" and audit.detail["before"]


def test_set_a_register_limit(api: TestClient) -> None:
    r = api.put(
        "/api/taxonomy/subclasses/0101/time-limits",
        json={"kind": "component", "step": "register", "value": 3, "unit": "working_hours"},
    )
    assert r.status_code == 200
    assert _limit(r.json(), "register")["value"] == 3


@pytest.mark.parametrize(
    ("code", "body", "status", "field"),
    [
        ("0101", {"step": "register", "urgency": "urgent", "value": 1}, 422, "urgency"),
        ("0101", {"step": "handle", "value": 1}, 422, "urgency"),
        ("0101", {"step": "handle", "urgency": "normal", "value": 0}, 422, "value"),
        ("0101", {"step": "handle", "urgency": "normal", "value": "x"}, 422, "value"),
        ("0101", {"step": "review", "value": 1}, 422, "step"),
        ("9999", {"step": "register", "value": 1}, 404, None),
        ("01", {"step": "register", "value": 1}, 422, None),
    ],
)
def test_bad_limits_are_refused_naming_the_field(
    api: TestClient, code: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    full = {"kind": "component", "unit": "working_hours", **body}
    r = api.put(f"/api/taxonomy/subclasses/{code}/time-limits", json=full)
    assert r.status_code == status, r.text
    answer = r.json()
    assert answer["message"]
    if field and "where" in answer:
        assert field in answer["where"]["field"]
    elif field:
        assert any(field in p["field"] for p in answer["problems"])


def test_only_admins_change_limits(api: TestClient, session: Session) -> None:
    As.user = session.scalars(select(User).where(User.username == "acceptor")).one()
    body = {"kind": "component", "step": "register", "value": 3, "unit": "working_hours"}
    r = api.put("/api/taxonomy/subclasses/0101/time-limits", json=body)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden_role")


def test_excel_round_trip_and_refusal(api: TestClient) -> None:
    exported = api.get("/api/taxonomy/export.xlsx")
    assert exported.status_code == 200
    book = load_workbook(io.BytesIO(exported.content))
    sheet = book["subclasses"]
    header = [c.value for c in sheet[1]]
    name_col = header.index("name") + 1
    sheet.cell(row=2, column=name_col, value="上水井盖（改）")
    buffer = io.BytesIO()
    book.save(buffer)
    files = {"file": ("taxonomy.xlsx", buffer.getvalue(), XLSX)}
    r = api.post("/api/taxonomy/import.xlsx", files=files)
    assert r.status_code == 200, r.text
    assert r.json()["subclasses_updated"] >= 1
    names = {s["name"] for s in api.get("/api/taxonomy/subclasses").json()}
    assert "上水井盖（改）" in names

    r = api.post("/api/taxonomy/import.xlsx", files={"file": ("x.xlsx", b"not excel", XLSX)})
    assert (r.status_code, r.json()["code"]) == (422, "import_rejected")
    r = api.post("/api/taxonomy/import.xlsx", files={"file": ("x.xlsx", b"", XLSX)})
    assert r.status_code == 422 and r.json()["where"]["field"] == "file"
