"""Component fixtures: the default taxonomy and the small synthetic district with 16 grids."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.regions import geocode
from gridgov.taxonomy.service import load_default
from tests.factories.regions import make_district


@pytest.fixture
def district(session: Session) -> Session:
    """A session with the taxonomy and district 110188 (grids 0.001° square near 116.40E 39.90N)."""
    load_default(session)
    make_district(session)
    geocode.invalidate()
    return session
