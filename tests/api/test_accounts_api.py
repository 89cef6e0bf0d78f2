"""HTTP tests of the accounts API on a small app holding only its router (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from gridgov.accounts import passwords, service
from gridgov.accounts.api import router
from gridgov.accounts.models import AuditLog, Role, User, UserSession
from gridgov.app import _install_error_handlers
from gridgov.config import Settings
from gridgov.db import utcnow
from gridgov.deps import OptionalUser, get_session
from tests.factories.regions import COMMUNITIES, make_district

ADMIN_PW = "admin password"
USER_PW = "supervisor pw"


@pytest.fixture
def api(session: Session, engine: Engine, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = FastAPI()
    app.state.settings = Settings(
        data_dir=tmp_path, environment="test", login_max_failures=3, login_lockout_minutes=10
    )
    app.state.engine = engine  # the rate limiter's counters (its own connection)
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")

    @app.get("/api/whoami")
    def whoami(user: OptionalUser) -> dict[str, str | None]:
        return {"username": user.username if user else None}

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    make_district(session)
    service.create_user(session, "admin", "管理员", Role.ADMIN, ADMIN_PW)
    service.create_user(
        session,
        "zhangsan",
        "张三",
        Role.SUPERVISOR,
        USER_PW,
        [("region", COMMUNITIES[0])],
        phone="13812345678",
    )
    session.flush()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    passwords.use_hasher(previous)


def _login(api: TestClient, username: str, password: str) -> dict[str, str]:
    r = api.post("/api/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    api.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_login_me_and_cookie(api: TestClient) -> None:
    r = api.post("/api/auth/login", json={"username": "zhangsan", "password": USER_PW})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["username"] == "zhangsan"
    assert body["user"]["phone"] == "138****5678"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("gridgov_session=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    # The cookie alone authenticates ...
    me = api.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["jurisdictions"] == [{"kind": "region", "code": COMMUNITIES[0]}]
    # ... and so does the bearer token alone.
    api.cookies.clear()
    assert api.get("/api/auth/me").json()["code"] == "unauthenticated"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert api.get("/api/auth/me", headers=headers).json()["username"] == "zhangsan"


def test_failed_logins_look_identical(api: TestClient, session: Session) -> None:
    answers = [
        api.post("/api/auth/login", json={"username": u, "password": p})
        for u, p in [("zhangsan", "wrong password"), ("nobody", USER_PW), ("", "")]
    ]
    assert {r.status_code for r in answers} == {401}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["code"] == "login_failed"
    assert "set-cookie" not in answers[0].headers
    # The failure was counted and audited although the answer was an error.
    user = service.get_user(session, "zhangsan")
    assert user.failed_logins == 1


def test_lockout_over_http(api: TestClient, session: Session) -> None:
    for _ in range(3):
        api.post("/api/auth/login", json={"username": "zhangsan", "password": "wrong pass"})
    r = api.post("/api/auth/login", json={"username": "zhangsan", "password": USER_PW})
    assert (r.status_code, r.json()["code"]) == (401, "login_failed")
    headers = _login(api, "admin", ADMIN_PW)
    me = api.get("/api/users/zhangsan", headers=headers).json()
    assert me["locked_until"] is not None
    # An admin lifts the lock.
    r = api.patch("/api/users/zhangsan", json={"unlock": True}, headers=headers)
    assert r.json()["locked_until"] is None
    _login(api, "zhangsan", USER_PW)


def test_expired_session_is_401_session_expired(api: TestClient, session: Session) -> None:
    headers = _login(api, "zhangsan", USER_PW)
    session.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = api.get("/api/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.json()["code"] == "session_expired"


def test_logout_revokes_and_clears_the_cookie(api: TestClient) -> None:
    headers = _login(api, "zhangsan", USER_PW)
    r = api.post("/api/auth/logout", headers=headers)
    assert r.status_code == 204
    assert 'gridgov_session=""' in r.headers["set-cookie"]
    assert api.get("/api/auth/me", headers=headers).json()["code"] == "session_revoked"
    assert api.post("/api/auth/logout", headers=headers).status_code == 204  # idempotent


def test_admin_endpoints_refuse_other_roles(api: TestClient) -> None:
    headers = _login(api, "zhangsan", USER_PW)
    for method, path in [
        ("get", "/api/users"),
        ("post", "/api/users"),
        ("patch", "/api/users/admin"),
        ("get", "/api/audit"),
    ]:
        r = api.request(method, path, headers=headers, json={} if method != "get" else None)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "forbidden_role"
        assert r.json()["message"].startswith("role supervisor may not")
    assert api.get("/api/users").status_code == 401


def test_create_list_and_mask(api: TestClient, session: Session) -> None:
    headers = _login(api, "admin", ADMIN_PW)
    body = {
        "username": "LiSi",
        "name": "李四",
        "role": "dispatcher",
        "password": "dispatch me",
        "phone": "13987654321",
        "jurisdictions": [{"kind": "region", "code": "110188"}],
    }
    r = api.post("/api/users", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "lisi"
    assert r.json()["phone"] == "139****4321"
    listed = api.get("/api/users", params={"role": "dispatcher"}, headers=headers).json()
    assert [(u["username"], u["phone"]) for u in listed] == [("lisi", "139****4321")]
    assert "13987654321" not in api.get("/api/users", headers=headers).text
    assert service.get_user(session, "lisi").phone == "13987654321"  # stored as given
    assert api.post("/api/users", json=body, headers=headers).json()["code"] == "username_taken"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "bad name!"}, "username"),
        ({"password": "short"}, "password"),
        ({"role": "mayor"}, "role"),
        ({"phone": "call me"}, "phone"),
        ({"jurisdictions": [{"kind": "city", "code": "110000"}]}, "jurisdictions.0.kind"),
        ({"jurisdictions": [{"kind": "region", "code": "110188099"}]}, "jurisdictions"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_user_validation_names_the_field(api: TestClient, change: dict, field: str) -> None:
    headers = _login(api, "admin", ADMIN_PW)
    body = {"username": "wangwu", "name": "王五", "role": "acceptor", "password": "long enough"}
    r = api.post("/api/users", json={**body, **change}, headers=headers)
    assert r.status_code == 422, r.text
    answer = r.json()
    fields = [p["field"] for p in answer.get("problems", [])] or [answer["where"]["field"]]
    assert field in fields, answer
    assert field.split(".")[0] in answer["message"] or "region 110188099" in answer["message"]


def test_patch_role_jurisdictions_active_password(api: TestClient, session: Session) -> None:
    admin = _login(api, "admin", ADMIN_PW)
    user = _login(api, "zhangsan", USER_PW)
    r = api.patch(
        "/api/users/zhangsan",
        json={"role": "acceptor", "jurisdictions": [{"kind": "grid", "code": "11018800200101"}]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "acceptor"
    assert r.json()["jurisdictions"] == [{"kind": "grid", "code": "11018800200101"}]
    assert api.get("/api/auth/me", headers=user).json()["role"] == "acceptor"  # immediately
    r = api.patch("/api/users/zhangsan", json={"password": "a new password"}, headers=admin)
    assert r.status_code == 200
    assert api.get("/api/auth/me", headers=user).json()["code"] == "session_revoked"
    assert (
        api.post("/api/auth/login", json={"username": "zhangsan", "password": USER_PW}).status_code
        == 401
    )
    user = _login(api, "zhangsan", "a new password")
    api.patch("/api/users/zhangsan", json={"active": False}, headers=admin)
    assert api.get("/api/auth/me", headers=user).status_code == 401
    r = api.patch("/api/users/admin", json={"active": False}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "last_admin")
    r = api.patch("/api/users/nobody", json={"active": False}, headers=admin)
    assert r.status_code == 404


def test_audit_trail_over_http(api: TestClient, session: Session) -> None:
    admin = _login(api, "admin", ADMIN_PW)
    api.post("/api/auth/login", json={"username": "zhangsan", "password": "wrong pass"})
    _login(api, "zhangsan", USER_PW)
    api.patch("/api/users/zhangsan", json={"role": "registrar"}, headers=admin)
    r = api.get(
        "/api/audit", params={"object_type": "user", "object_id": "zhangsan"}, headers=admin
    )
    assert r.status_code == 200
    rows = r.json()
    assert [row["action"] for row in rows] == [
        "user.update",
        "login",
        "login.failed",
        "user.create",
    ]
    assert rows[0]["username"] == "admin" and rows[0]["role"] == "admin"
    assert rows[0]["detail"] == {"role": ["supervisor", "registrar"]}
    assert rows[2]["detail"]["reason"] == "wrong_password"
    assert rows[1]["ip"] == "testclient"
    by_actor = api.get("/api/audit", params={"actor": "admin", "action": "login"}, headers=admin)
    assert len(by_actor.json()) == 1
    stored = session.scalars(select(AuditLog).where(AuditLog.action == "login")).all()
    assert len(stored) == 2
    assert session.scalar(select(User.failed_logins).where(User.username == "zhangsan")) == 0


def test_optional_user_and_auth_before_validation(api: TestClient) -> None:
    assert api.get("/api/whoami").json() == {"username": None}
    headers = _login(api, "zhangsan", USER_PW)
    assert api.get("/api/whoami", headers=headers).json() == {"username": "zhangsan"}
    # A dead token is never silently anonymous.
    bad = {"Authorization": "Bearer not-a-real-token"}
    assert api.get("/api/whoami", headers=bad).json()["code"] == "unauthenticated"
    # Not logged in: 401 before the body is even looked at.
    assert api.post("/api/users", json={"colour": "red"}).status_code == 401


def test_a_resident_signs_up_and_is_logged_in(api: TestClient, session: Session) -> None:
    api.app.state.settings = api.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"public_signups_per_minute": 100}
    )
    body = {"username": "Wang.Li", "name": "王丽", "password": "a long password", "phone": None}
    r = api.post("/api/auth/register", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["user"]["username"] == "wang.li" and made["user"]["role"] == "resident"
    assert api.get("/api/whoami").json() == {"username": "wang.li"}  # the cookie is set
    user = session.scalar(select(User).where(User.username == "wang.li"))
    assert user is not None and user.role is Role.RESIDENT
    # Taken names, weak passwords, roles asked for and unknown fields are refused; nothing made.
    again = api.post("/api/auth/register", json=body | {"name": "另一个"})
    assert (again.status_code, again.json()["code"]) == (409, "username_taken")
    for bad, field in (
        ({"password": "short"}, "password"),
        ({"username": "x"}, "username"),
        ({"phone": "12"}, "phone"),
        ({"role": "admin"}, "role"),
    ):
        r = api.post("/api/auth/register", json=body | {"username": "zhao.yi"} | bad)
        assert r.status_code == 422, (bad, r.text)
        assert field in r.text
    assert session.scalar(select(User).where(User.username == "zhao.yi")) is None


def test_sign_up_is_rate_limited(api: TestClient) -> None:
    app = api.app
    app.state.settings = app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"public_signups_per_minute": 2}
    )
    # Counted per IP address (whatever cookie the client holds): a fresh address of its own,
    # because the counters outlive a test.
    ip = ".".join(str(b) for b in secrets.token_bytes(4))
    tag = secrets.token_hex(3)
    codes = []
    with TestClient(app, client=(ip, 50000), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        for i in range(3):
            body = {"username": f"res{tag}{i}", "name": "居民", "password": "a long password"}
            codes.append(c.post("/api/auth/register", json=body).status_code)
    assert codes == [201, 201, 429]
