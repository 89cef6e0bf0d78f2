"""Working-calendar DB fixtures: an admin and a supervisor account, default settings."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.accounts.models import Role, User
from gridgov.config import Settings


@pytest.fixture
def settings() -> Settings:
    """Default settings (office hours 08:30–12:00, 13:30–17:30, Asia/Shanghai)."""
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def admin(session: Session) -> User:
    user = User(username="cal_admin", name="日历管理员", role=Role.ADMIN)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def supervisor(session: Session) -> User:
    user = User(username="cal_supervisor", name="监督员", role=Role.SUPERVISOR)
    session.add(user)
    session.flush()
    return user
