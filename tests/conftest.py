"""Shared fixtures: a real SQLite file and a real PostgreSQL database, each test rolled back.

PostgreSQL comes from ``GRIDGOV_TEST_POSTGRES_URL`` (default: the local server with trust auth).
Without a reachable server the PostgreSQL tests skip with a visible notice, except under
``CI=true``, where they fail: CI must never silently skip them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from gridgov import migrate
from gridgov.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_pg_notice: list[str] = []


def _pg_database_url(name: str) -> str:
    """Create a fresh test database and return its URL."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("sqlite") / "gridgov.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine(worker_id: str) -> Iterator[Engine]:
    """A fresh database per xdist worker and process (``worker_id`` comes from pytest-xdist), so
    concurrent test runs on one server never share or drop each other's database."""
    name = f"gridgov_test_{worker_id}_{os.getpid()}"
    try:
        url = _pg_database_url(name)
    except Exception as exc:  # the server is not there
        msg = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}"
        if IN_CI:
            pytest.fail(f"{msg} — CI=true requires the PostgreSQL tests to run", pytrace=False)
        _pg_notice.append(msg)
        pytest.skip(msg)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    _drop_database(name)


def _drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "pg_engine"
    return request.getfixturevalue(name)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield sess
    finally:
        sess.close()
        outer.rollback()
        conn.close()


@pytest.fixture(scope="session")
def osm_dir() -> Path:
    return Path(__file__).parent / "data" / "osm"


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if _pg_notice:
        terminalreporter.write_sep("!", "PostgreSQL tests SKIPPED", yellow=True)
        terminalreporter.write_line(_pg_notice[0])
        terminalreporter.write_line("Start PostgreSQL or set GRIDGOV_TEST_POSTGRES_URL.")
