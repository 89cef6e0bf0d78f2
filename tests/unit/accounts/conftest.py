"""Account fixtures: cheap argon2 parameters (the real ones cost ~0.1 s a hash) and users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from gridgov.accounts import passwords, service
from gridgov.accounts.models import Role, User
from gridgov.config import Settings

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse 1"


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[PasswordHasher]:
    previous = passwords.use_hasher(FAST)
    yield FAST
    passwords.use_hasher(previous)


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", login_max_failures=3, login_lockout_minutes=10)


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def make(
        username: str = "zhangsan",
        role: Role = Role.SUPERVISOR,
        jurisdictions: list[tuple[str, str]] | None = None,
        **kw: Any,
    ) -> User:
        return service.create_user(
            session, username, "张三", role, kw.pop("password", PASSWORD), jurisdictions or [], **kw
        )

    return make
