"""Login, lockout, session expiry, logout, rehash on login."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import auth, passwords, service
from gridgov.accounts.models import AuditLog, User, UserSession
from gridgov.config import Settings
from gridgov.db import utcnow
from gridgov.errors import Unauthorized

from .conftest import PASSWORD


def _fail(session: Session, settings: Settings, username: str, password: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(Unauthorized) as err:
        auth.login(session, settings, username, password, **kw)
    return err.value.to_dict()


def _reasons(session: Session) -> list[str]:
    rows = session.scalars(
        select(AuditLog).where(AuditLog.action == "login.failed").order_by(AuditLog.id)
    )
    return [r.detail["reason"] for r in rows]


def test_login_opens_a_session_stored_as_a_hash(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    user = make_user()
    result = auth.login(session, settings, " ZhangSan ", PASSWORD, ip="10.0.0.1")
    assert result.user is user
    assert len(result.token) >= 40
    row = session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row is not None
    assert row.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert row.token_hash != result.token
    assert row.expires_at - row.created_at == timedelta(hours=settings.session_hours)
    assert auth.authenticate(session, result.token) is user
    assert user.last_login_at == row.created_at
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "login")).one()
    assert (audit.user_id, audit.object_id, audit.ip) == (user.id, "zhangsan", "10.0.0.1")


def test_wrong_password_unknown_user_and_disabled_look_identical(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    user = make_user()
    make_user("lisi").active = False
    wrong = _fail(session, settings, "zhangsan", "wrong password")
    unknown = _fail(session, settings, "nosuchuser", PASSWORD)
    disabled = _fail(session, settings, "lisi", PASSWORD)
    assert wrong == unknown == disabled
    assert wrong["code"] == "login_failed"
    assert "zhangsan" not in wrong["message"]
    assert _reasons(session) == ["wrong_password", "unknown_user", "disabled"]
    assert user.failed_logins == 1


def test_lockout_after_n_failures_and_its_expiry(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    user = make_user()
    now = utcnow()
    for _ in range(settings.login_max_failures):
        _fail(session, settings, "zhangsan", "wrong password", now=now)
    assert user.locked_until == now + timedelta(minutes=10)
    # Locked: even the right password fails, with the same answer as a wrong one.
    locked = _fail(session, settings, "zhangsan", PASSWORD, now=now + timedelta(minutes=9))
    assert locked == _fail(session, settings, "nosuchuser", PASSWORD)
    assert _reasons(session)[-2:] == ["locked", "unknown_user"]
    # After the lockout the counter starts again: one failure does not relock.
    later = now + timedelta(minutes=10, seconds=1)
    _fail(session, settings, "zhangsan", "wrong password", now=later)
    assert (user.failed_logins, user.locked_until) == (1, None)
    auth.login(session, settings, "zhangsan", PASSWORD, now=later)
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_expired_session_is_401_session_expired(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    make_user()
    result = auth.login(session, settings, "zhangsan", PASSWORD)
    auth.authenticate(session, result.token, now=result.expires_at - timedelta(seconds=1))
    with pytest.raises(Unauthorized) as err:
        auth.authenticate(session, result.token, now=result.expires_at)
    assert (err.value.status, err.value.code) == (401, "session_expired")


def test_unknown_token_is_401_unauthenticated(session: Session) -> None:
    with pytest.raises(Unauthorized) as err:
        auth.authenticate(session, "made-up-token")
    assert err.value.code == "unauthenticated"


def test_logout_revokes(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    make_user()
    result = auth.login(session, settings, "zhangsan", PASSWORD)
    assert auth.logout(session, result.token) is True
    assert auth.logout(session, result.token) is False  # already over
    with pytest.raises(Unauthorized) as err:
        auth.authenticate(session, result.token)
    assert err.value.code == "session_revoked"
    assert session.scalars(select(AuditLog.action).where(AuditLog.action == "logout")).all() == [
        "logout"
    ]


def test_last_seen_is_written_at_most_once_a_minute_when_the_request_commits(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    make_user()
    result = auth.login(session, settings, "zhangsan", PASSWORD)
    row = session.scalars(select(UserSession)).one()
    first = row.last_seen

    def seen_after_commit(seconds: int) -> timedelta:
        auth.authenticate(session, result.token, now=first + timedelta(seconds=seconds))
        session.commit()
        session.refresh(row)
        return row.last_seen - first

    assert seen_after_commit(30) == timedelta(0)
    assert seen_after_commit(61) == timedelta(seconds=61)
    assert seen_after_commit(90) == timedelta(seconds=61)  # within a minute of the last write
    auth.authenticate(session, result.token, now=first + timedelta(seconds=150))
    session.rollback()  # a request that fails writes nothing
    session.refresh(row)
    assert row.last_seen == first + timedelta(seconds=61)


def test_login_rehashes_a_hash_with_old_parameters(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    user = make_user()  # hashed with the cheap test parameters
    old_hash = user.password_hash
    previous = passwords.use_hasher(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    try:
        auth.login(session, settings, "zhangsan", PASSWORD)
        assert user.password_hash != old_hash
        assert "m=2048,t=2,p=1" in (user.password_hash or "")
        auth.login(session, settings, "zhangsan", PASSWORD)  # the new hash works
    finally:
        passwords.use_hasher(previous)


def test_password_reset_and_deactivation_end_sessions(
    session: Session, settings: Settings, make_user: Callable[..., User]
) -> None:
    admin = make_user("admin1", role="admin")
    user = make_user()
    token = auth.login(session, settings, "zhangsan", PASSWORD).token
    service.update_user(session, user, actor=admin, password="brand new pass")
    with pytest.raises(Unauthorized):
        auth.authenticate(session, token)
    _fail(session, settings, "zhangsan", PASSWORD)
    token = auth.login(session, settings, "zhangsan", "brand new pass").token
    service.update_user(session, user, actor=admin, active=False)
    with pytest.raises(Unauthorized):
        auth.authenticate(session, token)
