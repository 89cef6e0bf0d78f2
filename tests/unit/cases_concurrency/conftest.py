"""A database of its own for the concurrency tests, on SQLite (a file) and PostgreSQL.

These tests need data that is really committed, so that two connections see it; the shared
per-test fixtures roll everything back instead. Each backend gets a fresh, migrated database
for this package (dropped at the end), holding the stored-case world; every test files its own
cases in it, so tests never share rows.
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
from gridgov.regions import geocode
from tests.unit.cases_db.world import World, build

PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def _postgres(name: str) -> str:
    try:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # the server is not there
        msg = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"{msg} — CI=true requires the PostgreSQL tests to run", pytrace=False)
        pytest.skip(msg)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[Engine]:
    """A migrated database that several connections share, dropped after the module."""
    name = None
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("concurrency") / "gridgov.db"
        engine = make_engine(f"sqlite:///{path}")
    else:
        name = f"gridgov_conc_{worker_id}_{os.getpid()}"
        engine = make_engine(_postgres(name), pool_size=8)
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        geocode.invalidate()
        if name is not None:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def world(shared_engine: Engine) -> World:
    """The stored-case world, committed (its users are read again in each test's sessions)."""
    with Session(shared_engine, expire_on_commit=False) as session:
        w = build(session)
        session.commit()
    return w
