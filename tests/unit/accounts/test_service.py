"""Creating and changing users: validation, jurisdictions, the last admin, audit rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts import service
from gridgov.accounts.audit import list_audit, record
from gridgov.accounts.models import AuditLog, Role, ScopeKind, User
from gridgov.accounts.service import JurisdictionSpec
from gridgov.errors import Conflict, ValidationError
from tests.factories.regions import COMMUNITIES, make_district


@pytest.mark.parametrize(
    ("kw", "field", "fragment"),
    [
        ({"username": "a b"}, "username", "username 'a b' must be"),
        ({"username": "ab"}, "username", "must be 3–60"),
        ({"password": "short"}, "password", "password must be 8–256"),
        ({"role": "mayor"}, "role", "unknown role 'mayor'"),
        ({"name": "  "}, "name", "name must be"),
        ({"phone": "call me"}, "phone", "phone must be digits"),
        ({"jurisdictions": [("region", "999999999")]}, "jurisdictions", "region 999999999"),
        ({"jurisdictions": [("region", "12ab")]}, "jurisdictions", "digits only"),
        ({"jurisdictions": [("grid", "11018800100199")]}, "jurisdictions", "does not exist"),
        ({"jurisdictions": [("street", "110188001")]}, "jurisdictions", "kind 'street'"),
    ],
)
def test_create_user_refuses_bad_input(
    session: Session, kw: dict, field: str, fragment: str
) -> None:
    make_district(session)
    args = {"username": "wangwu", "name": "王五", "role": "supervisor", "password": "long enough"}
    args.update(kw)
    with pytest.raises(ValidationError) as err:
        service.create_user(session, **args)
    assert err.value.where["field"] == field
    assert fragment in err.value.message
    assert session.scalar(select(User).where(User.username == "wangwu")) is None


def test_create_user_stores_jurisdictions_and_audits(session: Session) -> None:
    make_district(session)
    user = service.create_user(
        session,
        "WangWu",
        " 王五 ",
        Role.SUPERVISOR,
        "long enough",
        [("region", COMMUNITIES[0]), ("grid", "11018800200101"), ("region", COMMUNITIES[0])],
        phone="13812345678",
    )
    assert (user.username, user.name, user.phone) == ("wangwu", "王五", "13812345678")
    assert service.jurisdictions_of(session, user) == [
        JurisdictionSpec(ScopeKind.GRID, "11018800200101"),
        JurisdictionSpec(ScopeKind.REGION, COMMUNITIES[0]),
    ]
    (row,) = list_audit(session, object_type="user", object_id="wangwu")
    assert row.action == "user.create"
    assert row.user_id is None  # created by the loader, not a person
    assert row.detail["jurisdictions"] == [
        {"kind": "region", "code": COMMUNITIES[0]},
        {"kind": "grid", "code": "11018800200101"},
    ]
    assert "13812345678" not in str(row.detail)
    with pytest.raises(Conflict, match="username 'wangwu' is taken"):
        service.create_user(session, "wangwu", "另一个", Role.ACCEPTOR, "long enough")


def test_update_user_records_what_changed(session: Session, make_user: Callable[..., User]) -> None:
    make_district(session)
    admin = make_user("admin1", Role.ADMIN)
    user = make_user(jurisdictions=[("region", COMMUNITIES[0])])
    service.update_user(
        session,
        user,
        actor=admin,
        ip="10.1.1.1",
        role=Role.ACCEPTOR,
        jurisdictions=[("region", COMMUNITIES[1])],
        phone="13900001111",
        department_code=None,
    )
    row = list_audit(session, object_type="user", object_id="zhangsan", action="user.update")[0]
    assert (row.user_id, row.role, row.ip) == (admin.id, Role.ADMIN, "10.1.1.1")
    assert row.detail == {
        "role": ["supervisor", "acceptor"],
        "phone": "changed",
        "jurisdictions": [
            [{"kind": "region", "code": COMMUNITIES[0]}],
            [{"kind": "region", "code": COMMUNITIES[1]}],
        ],
    }
    # No change, no audit row.
    before = session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    service.update_user(session, user, actor=admin, role=Role.ACCEPTOR)
    after = session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    assert before == after


def test_the_last_active_admin_stays(session: Session, make_user: Callable[..., User]) -> None:
    admin = make_user("admin1", Role.ADMIN)
    with pytest.raises(Conflict, match="last active admin"):
        service.update_user(session, admin, actor=admin, active=False)
    with pytest.raises(Conflict, match="last active admin"):
        service.update_user(session, admin, actor=admin, role=Role.LEADER)
    make_user("admin2", Role.ADMIN)
    service.update_user(session, admin, actor=admin, role=Role.LEADER)
    assert admin.role is Role.LEADER


def test_record_accepts_models_and_pairs(session: Session, make_user: Callable[..., User]) -> None:
    user = make_user()
    record(session, user, "case.report", ("case", 42), {"grid": "11018800100101"})
    record(session, None, "system.start")
    session.flush()
    rows = list_audit(session, object_type="case", object_id="42")
    assert [(r.action, r.role, r.detail) for r in rows] == [
        ("case.report", Role.SUPERVISOR, {"grid": "11018800100101"})
    ]
    assert list_audit(session, action="system.start")[0].object_type is None
