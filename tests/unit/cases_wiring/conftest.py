"""The wiring tests' world (see ``world.py``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from tests.unit.cases_wiring.world import build


@pytest.fixture
def w(session: Session) -> dict[str, User]:
    return build(session)
