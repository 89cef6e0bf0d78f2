"""Account tables: users, their jurisdictions, login sessions and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # 监督员 / 网格员
    ACCEPTOR = "acceptor"  # 受理员
    SHIFT_LEAD = "shift_lead"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT = "department"  # 专业部门
    LEADER = "leader"  # 领导
    RESIDENT = "resident"  # 居民
    REGISTRAR = "registrar"  # 信息采集员
    ADMIN = "admin"  # 系统管理员


class ScopeKind(StrEnum):
    """What a jurisdiction row names: a region (and every grid under it), a grid, a department."""

    REGION = "region"
    GRID = "grid"
    DEPARTMENT = "department"


class User(Base):
    """A person who logs in. The password is an argon2 hash; the phone is stored as given and
    masked in every API answer (encryption at rest comes with the registry's personal data)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A user without a password hash cannot log in.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    department_code: Mapped[str | None] = mapped_column(String(40), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("user", self.username)


class Jurisdiction(Base):
    """One region, grid or department a user is responsible for (管辖范围)."""

    __tablename__ = "jurisdiction"
    __table_args__ = (UniqueConstraint("user_id", "scope_kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    scope_kind: Mapped[ScopeKind] = mapped_column(str_enum(ScopeKind, "scope_kind"))
    code: Mapped[str] = mapped_column(String(40))


class UserSession(Base):
    """A login: the sha256 of an opaque bearer token, never the token itself."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))


class AuditLog(Base):
    """One change or sensitive read (审计日志): who, in which role, did what to which object."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[Role | None] = mapped_column(str_enum(Role, "role"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
