"""The routing endpoints over HTTP: the suggestion of a case and the coordination queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.app import _install_error_handlers
from gridgov.cases.api import router
from gridgov.departments.models import Department
from gridgov.deps import get_current_user, get_session
from gridgov.regions import geocode
from tests.unit.cases_wiring.world import NOISE, STREET_OFFICE, act, report


@pytest.fixture
def as_user(session: Session) -> Iterator[tuple[TestClient, list[User]]]:
    """A client on the cases router; the request is made by ``who[0]``."""
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")
    who: list[User] = []

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_current_user] = lambda: who[0]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, who
    geocode.invalidate()


def test_routing_and_coordination_endpoints(
    session: Session, w: dict[str, User], as_user: tuple[TestClient, list[User]]
):
    client, who = as_user
    who.append(w["disp"])
    routed = act(session, report(session, w), w["lead"], "register", {}, 10)
    r = client.get(f"/api/cases/{routed.case_no}/routing")
    assert r.status_code == 200, r.text
    assert r.json()["department_code"] == STREET_OFFICE
    detail = client.get(f"/api/cases/{routed.case_no}").json()
    assert detail["events"][-1]["payload"]["routing"]["department_code"] == STREET_OFFICE

    qzjw = session.scalars(select(Department).where(Department.code == "QZJW")).one()
    qzjw.active = False
    session.flush()
    queued = act(session, report(session, w, NOISE), w["lead"], "register", {}, 10)
    r = client.get("/api/cases/coordination")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [i["case"]["case_no"] for i in body["items"]] == [queued.case_no]
    assert body["items"][0]["age_seconds"] > 0
    assert body["items"][0]["reason"].startswith("无匹配部门，转协调")

    who[0] = w["sup"]
    assert client.get("/api/cases/coordination").status_code == 403
    fresh = report(session, w)
    assert client.get(f"/api/cases/{fresh.case_no}/routing").status_code == 404
