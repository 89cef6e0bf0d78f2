"""Smoke tests of the taxonomy admin API on a small app that includes only its router."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.app import _install_error_handlers
from gridgov.deps import get_current_user, get_session
from gridgov.errors import Unauthorized
from gridgov.taxonomy import service
from gridgov.taxonomy.api import router


@pytest.fixture
def acting(seeded: Session) -> dict[str, User | None]:
    """Who the request is made as: an admin unless a test changes it."""
    admin = User(username="admin1", name="管理员", role=Role.ADMIN)
    seeded.add(admin)
    seeded.flush()
    return {"user": admin}


@pytest.fixture
def client(seeded: Session, acting: dict[str, User | None]) -> Iterator[TestClient]:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")

    def _user() -> User:
        if acting["user"] is None:
            raise Unauthorized("log in first", code="unauthenticated")
        return acting["user"]

    app.dependency_overrides[get_current_user] = _user

    def _session() -> Iterator[Session]:
        yield seeded
        seeded.flush()

    app.dependency_overrides[get_session] = _session
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_classes_and_subclasses(client: TestClient) -> None:
    classes = client.get("/api/taxonomy/classes", params={"kind": "event"}).json()
    assert [c["code"] for c in classes] == ["01", "02", "03", "04", "05", "06", "07"]
    found = client.get("/api/taxonomy/subclasses", params={"q": "bllj"}).json()
    assert [(s["kind"], s["code"], s["name"]) for s in found] == [("event", "0102", "暴露垃圾")]
    limits = {(t["step"], t["urgency"]): (t["value"], t["unit"]) for t in found[0]["time_limits"]}
    assert limits[("handle", "normal")] == (4, "working_hours")
    assert found[0]["major_code"] == "01"


def test_one_subclass(client: TestClient) -> None:
    r = client.get("/api/taxonomy/subclasses/0101", params={"kind": "component"})
    assert r.status_code == 200 and r.json()["name"] == "上水井盖"
    r = client.get("/api/taxonomy/subclasses/0101")
    assert r.status_code == 422 and r.json()["code"] == "ambiguous"
    r = client.get("/api/taxonomy/subclasses/9999", params={"kind": "event"})
    assert r.status_code == 404
    assert client.get("/api/taxonomy/subclasses", params={"kind": "vehicle"}).status_code == 422


def test_export_and_import(client: TestClient, seeded: Session) -> None:
    doc = client.get("/api/taxonomy/export.json").json()
    assert doc == service.export_json(seeded)
    r = client.post("/api/taxonomy/import", json=doc)
    assert r.status_code == 200
    assert r.json()["subclasses_updated"] == len(doc["subclasses"])

    xlsx = client.get("/api/taxonomy/export.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == [
        "说明",
        "classes",
        "subclasses",
        "time_limits",
    ]


def test_bad_import_is_a_422_listing_every_problem(client: TestClient, seeded: Session) -> None:
    doc = service.export_json(seeded)
    doc["subclasses"][0]["name"] = ""
    doc["subclasses"][2]["time_limits"][0]["value"] = 0
    r = client.post("/api/taxonomy/import", json=doc)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import_rejected"
    assert [(p["row"], p["field"]) for p in body["problems"]] == [
        (1, "name"),
        (3, "time_limits[0].value"),
    ]
    assert service.get_subclass(seeded, "0101", "component").name == "上水井盖"  # type: ignore[arg-type]
    assert client.post("/api/taxonomy/import", json=[1, 2]).status_code == 422


def test_only_an_admin_imports(
    client: TestClient, seeded: Session, acting: dict[str, User | None]
) -> None:
    doc = service.export_json(seeded)
    acting["user"] = None
    assert client.post("/api/taxonomy/import", json=doc).status_code == 401
    clerk = User(username="slr9", name="受理员", role=Role.ACCEPTOR)
    seeded.add(clerk)
    seeded.flush()
    acting["user"] = clerk
    r = client.post("/api/taxonomy/import", json=doc)
    assert r.status_code == 403 and "import the taxonomy" in r.json()["message"]
