"""Errors the app maps itself: a busy SQLite database is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import make_engine


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app(Settings(data_dir=tmp_path, environment="test"), engine)

    @app.get("/test/raise/{what}")
    def _raise(what: str) -> None:
        cause = sqlite3.OperationalError(
            "database is locked" if what == "locked" else "disk I/O error"
        )
        raise OperationalError("BEGIN IMMEDIATE", {}, cause)

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    engine.dispose()


def test_a_locked_database_is_busy_not_broken(client: TestClient) -> None:
    r = client.get("/test/raise/locked")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "2"
    assert r.json()["code"] == "database_busy"


def test_other_database_errors_stay_internal(client: TestClient) -> None:
    r = client.get("/test/raise/io")
    assert r.status_code == 500
    assert r.json() == {"code": "internal", "message": "internal error; see the server log"}
