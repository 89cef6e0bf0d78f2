"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from gridgov.accounts.models import Role, ScopeKind
from gridgov.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from gridgov.accounts.service import DEPARTMENT_PATTERN, PHONE_PATTERN, USERNAME_PATTERN


def _lower(v: Any) -> Any:
    return v.strip().lower() if isinstance(v, str) else v


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


Username = Annotated[
    str,
    BeforeValidator(_lower),
    Field(
        pattern=USERNAME_PATTERN,
        description="3–60 characters: a–z, 0–9, '_', '.', '-'; stored in lower case",
        examples=["zhangsan"],
    ),
]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
Name = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=60)]
Phone = Annotated[str, BeforeValidator(_strip), Field(pattern=PHONE_PATTERN)]
DepartmentCode = Annotated[str, BeforeValidator(_strip), Field(pattern=DEPARTMENT_PATTERN)]

_STRICT = ConfigDict(extra="forbid")


class LoginIn(BaseModel):
    model_config = _STRICT
    # No format rules here: a malformed username fails like any other wrong login.
    username: str = Field(max_length=200)
    password: str = Field(max_length=MAX_LENGTH)


class JurisdictionIO(BaseModel):
    model_config = _STRICT
    kind: ScopeKind
    code: str = Field(min_length=1, max_length=40)


class UserCreate(BaseModel):
    model_config = _STRICT
    username: Username
    name: Name
    role: Role
    password: Password
    phone: Phone | None = None
    department_code: DepartmentCode | None = None
    jurisdictions: list[JurisdictionIO] = Field(default_factory=list, max_length=5000)


class RegisterIn(BaseModel):
    """居民注册: what a resident gives to open their own account."""

    model_config = _STRICT
    username: Username
    name: Name
    password: Password
    phone: Phone | None = None


class UserUpdate(BaseModel):
    """Only the fields sent are changed; ``password`` resets it (and ends the user's sessions)."""

    model_config = _STRICT
    name: Name | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None
    unlock: bool = False
    phone: Phone | None = None
    department_code: DepartmentCode | None = None
    jurisdictions: list[JurisdictionIO] | None = Field(default=None, max_length=5000)


class UserRead(BaseModel):
    username: str
    name: str
    role: Role
    active: bool
    phone: str | None = Field(description="masked, e.g. 138****5678")
    department_code: str | None
    jurisdictions: list[JurisdictionIO]
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class LoginOut(BaseModel):
    token: str = Field(description="send as 'Authorization: Bearer <token>' (also set as a cookie)")
    expires_at: datetime
    user: UserRead


class AuditRead(BaseModel):
    id: int
    at: datetime
    username: str | None
    role: Role | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]
    ip: str | None
