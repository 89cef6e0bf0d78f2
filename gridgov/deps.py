"""FastAPI dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.db import session_factory

#: Methods whose requests only read; their sessions do not take SQLite's write lock.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, committed when the endpoint succeeds (rolled back on error).

    Async, so that opening the session (no I/O: it connects with its first statement) and
    closing one with no transaction left (an endpoint that committed itself, such as a report)
    cost the request no hop to a worker thread; a commit or rollback still runs on one.
    """
    read_only = request.method in READ_METHODS
    session = session_factory(request.app.state.engine, read_only=read_only)()
    try:
        yield session
    except BaseException:
        await _finish(session, commit=False)
        raise
    await _finish(session, commit=True)


async def _finish(session: Session, *, commit: bool) -> None:
    if not session.in_transaction():  # nothing pending and no connection held
        session.close()
        return
    # Outside the request thread limit (as FastAPI ends sync dependencies): the session may
    # hold SQLite's write lock, which the requests occupying every thread are waiting for.
    await anyio.to_thread.run_sync(_end, session, commit, limiter=anyio.CapacityLimiter(1))


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
