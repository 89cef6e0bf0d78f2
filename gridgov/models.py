"""Imports every domain's tables so metadata (Alembic, tests) sees them all."""

from gridgov.accounts.models import User
from gridgov.components.models import Component, ComponentStateEvent
from gridgov.gazetteer.models import GazetteerEntry
from gridgov.regions.models import GridRevision, GridSet, GridSetMember, Region, UnitGrid
from gridgov.registry.models import Building
from gridgov.roads.models import Road
from gridgov.taxonomy.models import Subclass, SubclassTimeLimit, TaxonomyClass

__all__ = [
    "Building",
    "Component",
    "ComponentStateEvent",
    "GazetteerEntry",
    "GridRevision",
    "GridSet",
    "GridSetMember",
    "Region",
    "Road",
    "Subclass",
    "SubclassTimeLimit",
    "TaxonomyClass",
    "UnitGrid",
    "User",
]
