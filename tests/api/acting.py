"""API test apps that act as a chosen user on the test's own session.

``As.user`` is who the next request is made by (None: anonymous); :func:`acting_client` wires an
app's session and login dependencies to the test session and to ``As``, and resets both after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.app import _install_error_handlers
from gridgov.deps import get_current_user, get_optional_user, get_session
from gridgov.errors import Unauthorized
from gridgov.regions import geocode


class As:
    """Who the next request is made by (None: anonymous)."""

    user: User | None = None


def router_app(*routers: APIRouter) -> FastAPI:
    """A bare app with the app's error handlers and ``routers`` under ``/api``."""
    app = FastAPI()
    _install_error_handlers(app)
    for router in routers:
        app.include_router(router, prefix="/api")
    return app


@contextmanager
def acting_client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    """A client whose requests use ``session`` and act as ``As.user``."""

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    def _current() -> User:
        if As.user is None:
            raise Unauthorized("log in first")
        return As.user

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_current_user] = _current
    app.dependency_overrides[get_optional_user] = lambda: As.user
    geocode.invalidate()  # the grid index must be built from this test's grids
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        As.user = None
        geocode.invalidate()
