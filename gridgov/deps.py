"""FastAPI dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.db import session_scope

#: Methods whose requests only read; their sessions do not take SQLite's write lock.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the endpoint succeeds."""
    read_only = request.method in READ_METHODS
    with session_scope(request.app.state.engine, read_only=read_only) as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


# scope="function": the session commits when the endpoint returns, before the response is sent,
# so a client never sees an answer (a 201, a new login) for data that is not saved yet.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

# Accounts (issue 3). Imported here, not at the top, so this block stays an append; the
# accounts package never imports this module at import time, so there is no cycle.
from gridgov.accounts import auth as _auth  # noqa: E402
from gridgov.accounts.models import User  # noqa: E402


def get_current_user(request: Request, session: SessionDep) -> User:
    """The logged-in user, or 401 (``unauthenticated``, ``session_expired`` ...)."""
    user = _auth.user_from_request(session, request, required=True)
    assert user is not None
    return user


def get_optional_user(request: Request, session: SessionDep) -> User | None:
    """The logged-in user, None without a token; a dead token is still 401."""
    return _auth.user_from_request(session, request, required=False)


CurrentUser = Annotated[User, Depends(get_current_user)]
OptionalUser = Annotated[User | None, Depends(get_optional_user)]
