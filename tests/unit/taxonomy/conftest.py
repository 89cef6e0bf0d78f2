"""Taxonomy fixtures: a session with the default taxonomy loaded."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.taxonomy import service


@pytest.fixture
def seeded(session: Session) -> Session:
    service.load_default(session)
    return session
