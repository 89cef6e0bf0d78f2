"""User accounts. Issue 3 adds passwords, sessions, jurisdictions and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, String
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


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
