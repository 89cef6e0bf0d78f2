"""Departments fixtures: the small synthetic district's regions, then the default departments."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.departments import service
from tests.factories.regions import make_district


@pytest.fixture
def district(session: Session) -> Session:
    make_district(session, with_grids=False)
    return session


@pytest.fixture
def loaded(district: Session) -> Session:
    service.load_default(district)
    return district
