"""HTTP API: login, logout, the current user; user administration and the audit log (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import audit, auth, service
from gridgov.accounts.models import AuditLog, Role, User
from gridgov.accounts.permissions import authorize
from gridgov.accounts.schemas import (
    AuditRead,
    JurisdictionIO,
    LoginIn,
    LoginOut,
    RegisterIn,
    UserCreate,
    UserRead,
    UserUpdate,
)
from gridgov.config import Settings
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.errors import Unauthorized
from gridgov.ratelimit import RateLimitRoute, client_key, enforce

router = APIRouter(tags=["accounts"], route_class=RateLimitRoute)
SIGNUP_LIMITER = "public-signup"

ADMIN = frozenset({Role.ADMIN})
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


def _admin(user: CurrentUser) -> User:
    """The current user if an admin; checked before the body, so others get 403, not 422."""
    authorize(user, ADMIN, action="manage users or read the audit log")
    return user


AdminUser = Annotated[User, Depends(_admin)]


def user_read(session: Session, user: User) -> UserRead:
    return UserRead(
        username=user.username,
        name=user.name,
        role=user.role,
        active=user.active,
        phone=service.mask_phone(user.phone),
        department_code=user.department_code,
        jurisdictions=[
            JurisdictionIO(kind=j.kind, code=j.code)
            for j in service.jurisdictions_of(session, user)
        ],
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


@router.post("/auth/login", response_model=LoginOut, responses={401: {"description": "failed"}})
def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep
) -> Any:
    """Log in with username and password. Too many failures lock the account for a while."""
    try:
        result = auth.login(
            session, settings, body.username, body.password, ip=auth.client_ip(request)
        )
    except Unauthorized as exc:
        # Answer without raising, so the failure count and the audit row are committed.
        return JSONResponse(status_code=exc.status, content=exc.to_dict())
    return _logged_in(session, settings, response, result)


def _logged_in(
    session: Session, settings: Settings, response: Response, result: auth.Login
) -> LoginOut:
    """The answer to a login: the token as a cookie too."""
    response.set_cookie(
        auth.COOKIE_NAME,
        result.token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        path="/",
    )
    return LoginOut(
        token=result.token, expires_at=result.expires_at, user=user_read(session, result.user)
    )


def _limit_signup(request: Request, settings: SettingsDep) -> None:
    """Sign-ups count per IP address, whatever session cookie the client sends."""
    if getattr(request.app.state, "engine", None) is not None:
        limit = settings.public_signups_per_minute
        message = f"too many sign-ups; at most {limit} a minute"
        enforce(request, SIGNUP_LIMITER, client_key(request), limit, message=message)


@router.post(
    "/auth/register",
    response_model=LoginOut,
    status_code=201,
    dependencies=[Depends(_limit_signup)],
    responses={409: {"description": "username taken"}, 429: {"description": "too many"}},
)
def register(
    body: RegisterIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> LoginOut:
    """居民注册: a resident opens their own account (to follow their reports from any device)
    and is logged in. Public and rate-limited per IP address (``public_signups_per_minute``);
    the role is always resident, with no jurisdiction. A taken username is a 409."""
    ip = auth.client_ip(request)
    service.create_user(
        session, body.username, body.name, Role.RESIDENT, body.password, phone=body.phone, ip=ip
    )
    result = auth.login(session, settings, body.username, body.password, ip=ip)
    return _logged_in(session, settings, response, result)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, session: SessionDep) -> Response:
    """End this session (idempotent) and clear the cookie."""
    token = auth.request_token(request)
    if token:
        auth.logout(session, token, ip=auth.client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(auth.COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


@router.get("/auth/me", response_model=UserRead)
def me(user: CurrentUser, session: SessionDep) -> UserRead:
    return user_read(session, user)


@router.get("/users", response_model=list[UserRead])
def list_users(
    user: AdminUser,
    session: SessionDep,
    role: Role | None = None,
    active: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[UserRead]:
    rows = service.list_users(session, role=role, active=active, limit=limit, offset=offset)
    return [user_read(session, u) for u in rows]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(
    body: UserCreate, user: AdminUser, session: SessionDep, request: Request
) -> UserRead:
    created = service.create_user(
        session,
        body.username,
        body.name,
        body.role,
        body.password,
        [(j.kind, j.code) for j in body.jurisdictions],
        phone=body.phone,
        department_code=body.department_code,
        actor=user,
        ip=auth.client_ip(request),
    )
    return user_read(session, created)


@router.get("/users/{username}", response_model=UserRead)
def get_user(username: str, user: AdminUser, session: SessionDep) -> UserRead:
    return user_read(session, service.get_user(session, username))


@router.patch("/users/{username}", response_model=UserRead)
def update_user(
    username: str, body: UserUpdate, user: AdminUser, session: SessionDep, request: Request
) -> UserRead:
    target = service.get_user(session, username)
    sent = body.model_fields_set
    optional: dict[str, Any] = {
        k: getattr(body, k) for k in ("phone", "department_code") if k in sent
    }
    jurisdictions = body.jurisdictions
    service.update_user(
        session,
        target,
        actor=user,
        ip=auth.client_ip(request),
        name=body.name,
        role=body.role,
        active=body.active,
        password=body.password,
        unlock=body.unlock,
        jurisdictions=None if jurisdictions is None else [(j.kind, j.code) for j in jurisdictions],
        **optional,
    )
    return user_read(session, target)


@router.get("/audit", response_model=list[AuditRead])
def list_audit(
    user: AdminUser,
    session: SessionDep,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    actor: Annotated[str | None, Query(description="username of who acted")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AuditRead]:
    """Audit rows, newest first."""
    user_id = None if actor is None else service.get_user(session, actor).id
    rows = audit.list_audit(
        session,
        object_type=object_type,
        object_id=object_id,
        user_id=user_id,
        action=action,
        limit=limit,
        offset=offset,
    )
    ids = {r.user_id for r in rows if r.user_id is not None}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    return [_audit_read(r, None if r.user_id is None else names.get(r.user_id)) for r in rows]


def _audit_read(row: AuditLog, username: str | None) -> AuditRead:
    return AuditRead(
        id=row.id,
        at=row.at,
        username=username,
        role=row.role,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        detail=row.detail or {},
        ip=row.ip,
    )
