"""The request session (``SessionDep``): committed when the endpoint succeeds, rolled back when
it fails, and no worker-thread hop spent on opening it or on closing one with nothing left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import make_engine
from gridgov.deps import SessionDep
from gridgov.errors import ValidationError

INSERT = text("INSERT INTO note (body) VALUES (:body)")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'session.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, environment="test"), engine)

    @app.post("/test/ok")
    def _ok(session: SessionDep) -> None:
        session.execute(INSERT, {"body": "ok"})

    @app.post("/test/fail")
    def _fail(session: SessionDep) -> None:
        session.execute(INSERT, {"body": "fail"})
        raise ValidationError("refused", field="body")

    @app.post("/test/self")
    def _self(session: SessionDep) -> None:
        session.execute(INSERT, {"body": "self"})
        session.commit()

    with TestClient(app) as client:
        yield client


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What ran on a worker thread, in order: the request session's own end as ``_end``."""
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(func, "__name__", "other"))  # FastAPI runs endpoints as partials
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    return seen


def _bodies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT body FROM note ORDER BY id")))


def test_a_successful_endpoint_is_committed_on_one_more_thread_hop(
    client: TestClient, engine: Engine, hops: list[str]
) -> None:
    assert client.post("/test/ok").status_code == 200
    assert _bodies(engine) == ["ok"]
    assert hops == ["other", "_end"]  # the endpoint, then the commit


def test_a_failed_endpoint_writes_nothing(
    client: TestClient, engine: Engine, hops: list[str]
) -> None:
    r = client.post("/test/fail")
    assert r.status_code == 422
    assert r.json()["where"] == {"field": "body"}
    assert _bodies(engine) == []
    assert hops == ["other", "_end"]  # the endpoint, then the rollback


def test_an_endpoint_that_committed_itself_costs_no_second_hop(
    client: TestClient, engine: Engine, hops: list[str]
) -> None:
    assert client.post("/test/self").status_code == 200
    assert _bodies(engine) == ["self"]
    assert hops == ["other"]  # the endpoint only
