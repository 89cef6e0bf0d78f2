"""Users and their jurisdictions: create, change, list. Every change writes an audit row."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gridgov.accounts import audit, passwords
from gridgov.accounts.auth import revoke_all
from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.codes.admin import parse_region_code
from gridgov.errors import Conflict, GridgovError, NotFound, ValidationError
from gridgov.regions.models import Region, UnitGrid

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{2,59}$"
USERNAME_RE = re.compile(USERNAME_PATTERN)
PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{4,28}$"
DEPARTMENT_PATTERN = r"^[\w.\-]{1,40}$"


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True)
class JurisdictionSpec:
    kind: ScopeKind
    code: str


JurisdictionLike = JurisdictionSpec | tuple[str, str]


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``: the first 3 and last 4 characters stay."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * (len(phone) - 2) + phone[-2:]


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not USERNAME_RE.match(name):
        raise ValidationError(
            f"username {username!r} must be 3–60 characters: letters, digits, '_', '.', '-', "
            "starting with a letter or digit",
            field="username",
        )
    return name


def check_password(password: str) -> None:
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise ValidationError(
            f"password must be {passwords.MIN_LENGTH}–{passwords.MAX_LENGTH} characters",
            field="password",
        )


def _check_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not re.match(PHONE_PATTERN, phone):
        raise ValidationError(
            "phone must be digits (with an optional +, spaces or -)", field="phone"
        )
    return phone


def _check_department(code: str | None, field: str = "department_code") -> str | None:
    if code is None or not code.strip():
        return None
    code = code.strip()
    if not re.match(DEPARTMENT_PATTERN, code):
        raise ValidationError(f"department code {code!r} is not valid", field=field)
    return code


def _spec(item: JurisdictionLike) -> JurisdictionSpec:
    if isinstance(item, JurisdictionSpec):
        return item
    kind, code = item
    try:
        return JurisdictionSpec(ScopeKind(kind), str(code).strip())
    except ValueError:
        raise ValidationError(
            f"jurisdiction kind {kind!r} must be one of: region, grid, department",
            field="jurisdictions",
        ) from None


def check_jurisdictions(
    session: Session, items: Iterable[JurisdictionLike]
) -> list[JurisdictionSpec]:
    """Validate each item: regions and grids must exist; duplicates are dropped."""
    out: list[JurisdictionSpec] = []
    for item in items:
        spec = _spec(item)
        if spec.kind is ScopeKind.REGION:
            try:
                parse_region_code(spec.code)
            except GridgovError as exc:
                raise ValidationError(exc.message, field="jurisdictions") from None
            if session.scalar(select(Region.id).where(Region.code == spec.code)) is None:
                raise ValidationError(f"region {spec.code} does not exist", field="jurisdictions")
        elif spec.kind is ScopeKind.GRID:
            found = session.scalar(select(UnitGrid.id).where(UnitGrid.code == spec.code).limit(1))
            if found is None:
                raise ValidationError(f"grid {spec.code} does not exist", field="jurisdictions")
        else:
            _check_department(spec.code, field="jurisdictions")
        if spec not in out:
            out.append(spec)
    return out


def jurisdictions_of(session: Session, user: User) -> list[JurisdictionSpec]:
    rows = session.execute(
        select(Jurisdiction.scope_kind, Jurisdiction.code)
        .where(Jurisdiction.user_id == user.id)
        .order_by(Jurisdiction.scope_kind, Jurisdiction.code)
    ).all()
    return [JurisdictionSpec(k, c) for k, c in rows]


def _replace_jurisdictions(session: Session, user: User, specs: list[JurisdictionSpec]) -> None:
    session.execute(delete(Jurisdiction).where(Jurisdiction.user_id == user.id))
    session.add_all(Jurisdiction(user_id=user.id, scope_kind=s.kind, code=s.code) for s in specs)


def _as_json(specs: list[JurisdictionSpec]) -> list[dict[str, str]]:
    return [{"kind": s.kind.value, "code": s.code} for s in specs]


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == normalize_username(username)))
    if user is None:
        raise NotFound(f"user {username!r} does not exist", field="username")
    return user


def list_users(
    session: Session,
    *,
    role: Role | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[User]:
    q = select(User)
    if role is not None:
        q = q.where(User.role == role)
    if active is not None:
        q = q.where(User.active == active)
    return list(session.scalars(q.order_by(User.username).limit(limit).offset(offset)))


def create_user(
    session: Session,
    username: str,
    name: str,
    role: Role | str,
    password: str,
    jurisdictions: Iterable[JurisdictionLike] = (),
    *,
    phone: str | None = None,
    department_code: str | None = None,
    actor: User | None = None,
    ip: str | None = None,
) -> User:
    """Create a user (for the API, the demo loader and the CLI). ``jurisdictions`` are
    ``(kind, code)`` pairs, e.g. ``[("region", "110101001001"), ("grid", "11010100100101")]``."""
    username = check_username(username)
    name = name.strip()
    if not 1 <= len(name) <= 60:
        raise ValidationError("name must be 1–60 characters", field="name")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(f"unknown role {role!r}", field="role") from None
    check_password(password)
    specs = check_jurisdictions(session, jurisdictions)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken", code="username_taken", field="username")
    user = User(
        username=username,
        name=name,
        role=role,
        active=True,
        password_hash=passwords.hash_password(password),
        phone=_check_phone(phone),
        department_code=_check_department(department_code),
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    _replace_jurisdictions(session, user, specs)
    detail = {
        "role": role.value,
        "department_code": user.department_code,
        "jurisdictions": _as_json(specs),
    }
    audit.record(session, actor, "user.create", user, detail, ip=ip)
    session.flush()
    return user


def _guard_last_admin(session: Session, user: User, role: Role, active: bool) -> None:
    if user.role is not Role.ADMIN or not user.active or (role is Role.ADMIN and active):
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(
            "the last active admin cannot be deactivated or given another role",
            code="last_admin",
            field="role" if role is not Role.ADMIN else "active",
        )


def update_user(
    session: Session,
    user: User,
    *,
    actor: User | None,
    ip: str | None = None,
    name: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
    phone: str | _Unset | None = UNSET,
    department_code: str | _Unset | None = UNSET,
    jurisdictions: Iterable[JurisdictionLike] | None = None,
) -> User:
    """Change a user. A new password or deactivation ends all their sessions; a new password
    also lifts a lockout. The audit row lists what changed (never the password)."""
    changes: dict[str, Any] = {}
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.active
    _guard_last_admin(session, user, new_role, new_active)
    if name is not None and name.strip() != user.name:
        if not 1 <= len(name.strip()) <= 60:
            raise ValidationError("name must be 1–60 characters", field="name")
        changes["name"] = [user.name, name.strip()]
        user.name = name.strip()
    if new_role is not user.role:
        changes["role"] = [user.role.value, new_role.value]
        user.role = new_role
    if not isinstance(phone, _Unset):
        phone = _check_phone(phone)
        if phone != user.phone:
            changes["phone"] = "changed"
            user.phone = phone
    if not isinstance(department_code, _Unset):
        code = _check_department(department_code)
        if code != user.department_code:
            changes["department_code"] = [user.department_code, code]
            user.department_code = code
    if jurisdictions is not None:
        old = jurisdictions_of(session, user)
        specs = check_jurisdictions(session, jurisdictions)
        if sorted(map(str, specs)) != sorted(map(str, old)):
            changes["jurisdictions"] = [_as_json(old), _as_json(specs)]
            _replace_jurisdictions(session, user, specs)
    if password is not None:
        check_password(password)
        user.password_hash = passwords.hash_password(password)
        changes["password_reset"] = True
        unlock = True
    if unlock and (user.failed_logins or user.locked_until):
        changes["unlocked"] = True
    if unlock:
        user.failed_logins = 0
        user.locked_until = None
    if new_active != user.active:
        changes["active"] = [user.active, new_active]
        user.active = new_active
    if password is not None or not user.active:
        revoke_all(session, user)
    if changes:
        audit.record(session, actor, "user.update", user, changes, ip=ip)
    session.flush()
    return user
