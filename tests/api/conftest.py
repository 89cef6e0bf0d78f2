"""An HTTP client on the real app whose requests share the test's rolled-back session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.deps import get_session
from gridgov.regions import geocode


@pytest.fixture
def client(session: Session, engine: Engine, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, environment="test")
    app = create_app(settings, engine)

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    geocode.invalidate()
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    geocode.invalidate()
