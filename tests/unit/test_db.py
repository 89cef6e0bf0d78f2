"""The engine keeps transactions whole on SQLite too."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov import migrate
from gridgov.accounts.models import Role, User
from gridgov.db import make_engine


def test_a_released_savepoint_does_not_commit_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        # The savepoint is the first statement of the transaction: pysqlite alone lets SAVEPOINT
        # open the transaction, so RELEASE commits what was written inside it.
        with session.begin_nested():
            session.add(User(username="u1", name="张三", role=Role.ADMIN))
        session.rollback()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
