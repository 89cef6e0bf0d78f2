"""Logins are cached per process: a request that authenticates runs no login query while no
login or user changed, and a logout, a disabled account or a new role committed by another
worker counts on the very next request. Writing last_seen keeps the cache."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select

from gridgov.accounts import auth, service
from gridgov.accounts.models import AuditLog, Role, User, UserSession
from gridgov.config import Settings
from gridgov.db import session_factory, session_scope, utcnow
from gridgov.errors import Unauthorized

from .conftest import PASSWORD


@dataclass
class Login:
    engine: Engine
    token: str
    user_id: int
    username: str


@pytest.fixture
def login(engine: Engine) -> Iterator[Login]:
    """A user logged in, committed to the (shared) test database and removed afterwards."""
    username = f"cache_{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as s:
        user = service.create_user(s, username, "缓存", Role.SUPERVISOR, PASSWORD)
        token = auth.login(s, Settings(environment="test"), username, PASSWORD).token
        user_id = user.id
    yield Login(engine, token, user_id, username)
    with session_scope(engine) as s:
        s.execute(delete(AuditLog).where(AuditLog.user_id == user_id))
        s.execute(delete(UserSession).where(UserSession.user_id == user_id))
        s.execute(delete(User).where(User.id == user_id))


@pytest.fixture
def login_queries(engine: Engine) -> Iterator[list[str]]:
    """Statements reading a login session, on any connection of ``engine``."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "FROM user_session" in sql:
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def _request(engine: Engine, token: str, *, read_only: bool = False) -> User:
    """One request's authentication, committed like a request."""
    make = session_factory(engine, read_only=read_only)
    with make() as s:
        user = auth.authenticate(s, token)
        assert user in s  # the request's own copy
        s.commit()
    return user


def test_a_second_request_runs_no_login_query(login: Login, login_queries: list[str]) -> None:
    first = _request(login.engine, login.token)
    assert len(login_queries) == 1
    second = _request(login.engine, login.token)
    assert login_queries == login_queries[:1]
    assert (first.id, second.id, second.username) == (login.user_id, login.user_id, login.username)
    assert first is not second


def test_a_logout_elsewhere_counts_on_the_next_request(login: Login) -> None:
    _request(login.engine, login.token)
    with session_scope(login.engine) as other_worker:
        assert auth.logout(other_worker, login.token)
    with pytest.raises(Unauthorized) as err:
        _request(login.engine, login.token)
    assert err.value.code == "session_revoked"


def test_a_disabled_account_and_a_new_role_count_on_the_next_request(login: Login) -> None:
    assert _request(login.engine, login.token).role is Role.SUPERVISOR
    with session_scope(login.engine) as admin:
        user = admin.get(User, login.user_id)
        assert user is not None
        service.update_user(admin, user, actor=None, role=Role.ACCEPTOR)
    assert _request(login.engine, login.token).role is Role.ACCEPTOR
    with session_scope(login.engine) as admin:
        user = admin.get(User, login.user_id)
        assert user is not None
        user.active = False  # without update_user, which would also revoke the session
    with pytest.raises(Unauthorized) as err:
        _request(login.engine, login.token)
    assert err.value.code == "account_disabled"


def test_writing_last_seen_keeps_the_cache(login: Login, login_queries: list[str]) -> None:
    _request(login.engine, login.token)
    with session_scope(login.engine) as s:  # a minute and more has passed since the login
        row = s.scalars(select(UserSession).where(UserSession.user_id == login.user_id)).one()
        row.last_seen -= timedelta(minutes=2)
    _request(login.engine, login.token)  # reads the changed row: a write through the ORM
    queries = len(login_queries)
    _request(login.engine, login.token)  # writes last_seen (once), on the connection
    _request(login.engine, login.token)
    _request(login.engine, login.token, read_only=True)
    assert len(login_queries) == queries
    with session_scope(login.engine) as s:
        row = s.scalars(select(UserSession).where(UserSession.user_id == login.user_id)).one()
        assert utcnow() - row.last_seen < timedelta(minutes=1)


def test_an_unknown_token_stays_unknown(login: Login) -> None:
    for _ in range(2):
        with pytest.raises(Unauthorized) as err:
            _request(login.engine, "not-a-token-" + login.token)
        assert err.value.code == "unauthenticated"
