"""Smoke tests of the departments API on a small app that includes only its router."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.app import _install_error_handlers
from gridgov.departments.api import router
from gridgov.deps import get_current_user, get_session


@pytest.fixture
def acting(loaded: Session) -> dict[str, User]:
    admin = User(username="admin_dep", name="管理员", role=Role.ADMIN)
    loaded.add(admin)
    loaded.flush()
    return {"user": admin}


@pytest.fixture
def client(loaded: Session, acting: dict[str, User]) -> Iterator[TestClient]:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")

    def _session() -> Iterator[Session]:
        yield loaded
        loaded.flush()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_current_user] = lambda: acting["user"]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_list_get_and_export(client: TestClient) -> None:
    depts = client.get("/api/departments").json()
    assert len(depts) == 20
    one = client.get("/api/departments/JD110188002").json()
    assert one["region_codes"] == ["110188002"] and one["level"] == "street"
    assert client.get("/api/departments/NOPE").status_code == 404
    doc = client.get("/api/departments/export.json").json()
    assert len(doc["rules"]) == 87
    rules = client.get("/api/responsibility-rules", params={"department_code": "QJTZD"}).json()
    assert {r["subclass_code"] for r in rules} >= {"0505", "0210"}


def test_admin_writes_and_preview(client: TestClient) -> None:
    r = client.post(
        "/api/departments",
        json={"code": "QJYJ", "name": "区教育委员会", "parent_code": "QZF", "regions": ["110188"]},
    )
    assert r.status_code == 201, r.text
    r = client.patch("/api/departments/QJYJ", json={"parent_code": "NOPE"})
    assert r.status_code == 422 and "unknown parent" in r.json()["message"]
    r = client.post(
        "/api/responsibility-rules",
        json={
            "kind": "event",
            "subclass_code": "0301",
            "basis": "subclass",
            "department_code": "QJYJ",
            "priority": 1,
        },
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    p = client.get(
        "/api/routing/preview",
        params={"kind": "event", "subclass_code": "0301", "grid_code": "11018800100101"},
    ).json()
    assert p["department_code"] == "QJYJ" and "QJYJ" in p["reason"]
    assert [c["department_code"] for c in p["candidates"]] == ["QJYJ", "QZJW"]
    assert client.delete(f"/api/responsibility-rules/{rule_id}").status_code == 204
    assert client.delete("/api/departments/QJYJ").status_code == 204
    bad = client.post("/api/departments/import", json={"departments": [{"code": "X"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "import_rejected"


def test_non_admin_may_read_but_not_write(client: TestClient, acting: dict[str, User]) -> None:
    acting["user"] = User(username="disp", name="派遣员", role=Role.DISPATCHER)
    assert client.get("/api/departments").status_code == 200
    r = client.post("/api/departments", json={"code": "Z", "name": "无权"})
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    r = client.delete("/api/responsibility-rules/1")
    assert r.status_code == 403
