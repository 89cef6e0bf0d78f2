"""Login, sessions and logout.

A login creates an opaque random token (``secrets.token_urlsafe``); only its sha256 is stored
in ``user_session``. The token comes back as ``Authorization: Bearer <token>`` or in the
HttpOnly cookie ``gridgov_session``. Every login failure gives the same answer, whether the
username exists, the password is wrong, the account is locked or disabled; the audit log keeps
the real reason. Each worker keeps the logins it has seen (see ``_live_login``) until any login
or user changes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import bindparam, event, select, update
from sqlalchemy.orm import Session

from gridgov import revisions
from gridgov.accounts import audit, passwords
from gridgov.accounts.models import User, UserSession
from gridgov.config import Settings
from gridgov.db import detached_loader, read_first, utcnow
from gridgov.errors import Unauthorized

COOKIE_NAME = "gridgov_session"
# last_seen is written at most this often, and only by requests that write anyway.
TOUCH_INTERVAL = timedelta(seconds=60)
LOGIN_FAILED_MESSAGE = (
    "login failed: wrong username or password, or the account is disabled or locked for a "
    "while after too many failed attempts"
)


@dataclass(frozen=True)
class Login:
    user: User
    token: str
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _failed() -> Unauthorized:
    return Unauthorized(LOGIN_FAILED_MESSAGE, code="login_failed")


def _count_failure(user: User, settings: Settings, now: datetime) -> dict[str, str]:
    if user.locked_until is not None and user.locked_until <= now:
        user.failed_logins, user.locked_until = 0, None  # the last lockout is over: start again
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= settings.login_max_failures:
        user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
        return {"locked_until": user.locked_until.isoformat()}
    return {}


def login(
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> Login:
    """Check the password and open a session, or raise ``Unauthorized`` (``login_failed``).

    On failure the counters and the audit row are already added to ``session``: the caller must
    commit them even though it answers with an error.
    """
    now = now or utcnow()
    name = username.strip().lower()[:60]
    user = session.scalar(select(User).where(User.username == name)) if name else None
    if user is None:
        passwords.burn_time(password)
        audit.record(
            session, None, "login.failed", ("user", name), {"reason": "unknown_user"}, ip=ip
        )
        raise _failed()
    if user.locked_until is not None and user.locked_until > now:
        passwords.burn_time(password)
        audit.record(session, user, "login.failed", user, {"reason": "locked"}, ip=ip)
        raise _failed()
    verified = passwords.verify_password(password, user.password_hash)
    if not verified.ok:
        failure = {"reason": "wrong_password", **_count_failure(user, settings, now)}
        audit.record(session, user, "login.failed", user, failure, ip=ip)
        raise _failed()
    if not user.active:
        audit.record(session, user, "login.failed", user, {"reason": "disabled"}, ip=ip)
        raise _failed()
    if verified.needs_rehash:
        user.password_hash = passwords.hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.session_hours)
    row = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires_at,
        last_seen=now,
        ip=ip,
    )
    session.add(row)
    session.flush()
    detail = {"session_id": row.id, "rehashed": verified.needs_rehash}
    audit.record(session, user, "login", user, detail, ip=ip)
    return Login(user=user, token=token, expires_at=expires_at)


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> User:
    """The user behind a live session token, or ``Unauthorized`` saying why not
    (``unauthenticated``, ``session_expired``, ``session_revoked``, ``account_disabled``)."""
    now = now or utcnow()
    found = _live_login(session, hash_token(token))
    if found is None:
        raise Unauthorized("unknown session; please log in", code="unauthenticated")
    if found.revoked_at is not None:
        raise Unauthorized("this session was logged out; please log in", code="session_revoked")
    if found.expires_at <= now:
        raise Unauthorized("your session has expired; please log in again", code="session_expired")
    if found.user is None or not found.user.active:
        raise Unauthorized("this account is disabled", code="account_disabled")
    # Read-only requests never write (see gridgov.db.session_factory): last_seen is the time of
    # the last login or write request, to the minute.
    if now - found.last_seen >= TOUCH_INTERVAL and not session.info.get("read_only"):
        found.last_seen = now  # this worker's copy: its next requests need not write it again
        session.info[_TOUCH] = (found.session_id, now)
    return session.merge(found.user, load=False)


@dataclass
class _LiveLogin:
    """What authentication needs of a login session, kept per process (see below)."""

    session_id: int
    revoked_at: datetime | None
    expires_at: datetime
    last_seen: datetime
    user: User | None  # detached: every request merges a copy into its own session


# Every request authenticates, so logins are cached per process, read again when a login or
# a user changed (the "logins" revision, read with the other caches' versions): a logout, a
# revoked session or a disabled account counts on the next request in every worker. Writing
# last_seen does not change the revision (see _write_last_seen).
revisions.watch("logins", UserSession, User)

_LOGIN = (
    select(UserSession, User)
    .outerjoin(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def _live_login(session: Session, token_hash: str) -> _LiveLogin | None:
    """The login session of ``token_hash`` and its user, or None for an unknown token.

    Read through :func:`gridgov.db.read_first`: authentication runs in a dependency, on a worker
    thread of its own, before the endpoint waits for another. Were it to take SQLite's write
    lock there, requests queued for the lock would occupy every thread its holder needs (seen
    as 10-second stalls at 50 concurrent reporters with ``request_threads`` 8).
    """
    with read_first(session) as reader:

        def load() -> _LiveLogin | None:
            with detached_loader(reader) as loader:
                found = loader.execute(_LOGIN, {"token_hash": token_hash}).first()
            if found is None:
                return None
            row, user = found
            return _LiveLogin(row.id, row.revoked_at, row.expires_at, row.last_seen, user)

        return revisions.cached(reader, "logins", token_hash, load)


_TOUCH = "gridgov.accounts.touch"
_WRITE_LAST_SEEN = (
    update(UserSession.__table__)  # type: ignore[arg-type]
    .where(UserSession.__table__.c.id == bindparam("session_id"))
    .values(last_seen=bindparam("seen"))
)


@event.listens_for(Session, "before_commit")
def _write_last_seen(session: Session) -> None:
    """Write the last_seen that :func:`authenticate` noted, as the request commits. On the
    connection itself, not through the ORM: a write the "logins" revision does not see, so a
    minute's touch does not make every worker read every login again."""
    touch = session.info.pop(_TOUCH, None)
    if touch is not None:
        session_id, seen = touch
        session.connection().execute(_WRITE_LAST_SEEN, {"session_id": session_id, "seen": seen})


def logout(session: Session, token: str, *, ip: str | None = None) -> bool:
    """Revoke the session of ``token``; False when it was unknown or already over."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return False
    row.revoked_at = now
    user = session.get(User, row.user_id)
    audit.record(session, user, "logout", user, {"session_id": row.id}, ip=ip)
    session.flush()
    return True


def revoke_all(session: Session, user: User) -> int:
    """End every live session of ``user`` (password reset, deactivation)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def request_token(request: Request) -> str | None:
    """The bearer token from the ``Authorization`` header, else from the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


def client_ip(request: Request) -> str | None:
    return request.client.host[:45] if request.client else None


def user_from_request(session: Session, request: Request, *, required: bool = True) -> User | None:
    """The logged-in user. No token: ``Unauthorized`` when ``required``, else None. A token
    that is unknown, expired or revoked is always ``Unauthorized``, so a client never acts
    anonymously by accident."""
    token = request_token(request)
    if token is None:
        if required:
            raise Unauthorized("please log in", code="unauthenticated")
        return None
    return authenticate(session, token)
