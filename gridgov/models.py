"""Imports every domain's tables so metadata (Alembic, tests) sees them all."""

from gridgov.accounts.models import User
from gridgov.calendar_admin.models import CalendarRule
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.numbering import CaseCounter
from gridgov.components.models import Component, ComponentStateEvent
from gridgov.departments.models import Department, DepartmentRegion, ResponsibilityRule
from gridgov.gazetteer.models import GazetteerEntry
from gridgov.notify.models import Notification
from gridgov.patrol.models import Patrol, PatrolPosition
from gridgov.ratelimit import RateLimitCounter
from gridgov.regions.models import GridRevision, GridSet, GridSetMember, Region, UnitGrid
from gridgov.registry.models import Building
from gridgov.revisions import DataRevision
from gridgov.roads.models import Road
from gridgov.taxonomy.models import Subclass, SubclassTimeLimit, TaxonomyClass

__all__ = [
    "Building",
    "CalendarRule",
    "Case",
    "CaseCounter",
    "CaseEvent",
    "CaseStepDeadline",
    "Component",
    "ComponentStateEvent",
    "DataRevision",
    "Department",
    "DepartmentRegion",
    "GazetteerEntry",
    "GridRevision",
    "GridSet",
    "GridSetMember",
    "Notification",
    "Patrol",
    "PatrolPosition",
    "RateLimitCounter",
    "Region",
    "ResponsibilityRule",
    "Road",
    "Subclass",
    "SubclassTimeLimit",
    "TaxonomyClass",
    "UnitGrid",
    "User",
]
