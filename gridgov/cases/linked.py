"""The component (部件) a case is about: checked at 上报, shown with the case, used by routing.

A case names its component by the 16-digit id (``case.component_id``). Older cases, and state
changes made through the component API with a ``case_no``, link the other way: a
``component_state_event`` row naming the case. :func:`linked_component_id` reads both, so the
case detail and the routing suggestion (先属主: the component's owner) always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.cases.models import Case
from gridgov.components.models import Component, ComponentStateEvent
from gridgov.components.service import history
from gridgov.departments.models import Department
from gridgov.errors import ValidationError
from gridgov.taxonomy.models import Kind, Subclass

_ID = re.compile(r"^\d{16}$")


def component_for_report(session: Session, component_id: Any) -> Component:
    """The component a new report names; 422 (field ``component_id``) for a malformed or
    unknown id."""
    if not isinstance(component_id, str) or not _ID.fullmatch(component_id.strip()):
        raise ValidationError(
            f"component_id {component_id!r} must be a 16-digit component id",
            code="invalid_component_id",
            field="component_id",
        )
    found = session.get(Component, component_id.strip())
    if found is None:
        raise ValidationError(
            f"no component with id {component_id}",
            code="unknown_component",
            field="component_id",
        )
    return found


def check_component_subclass(component: Component, sub: Subclass) -> None:
    """A component case (部件类案件) must have the component's own subclass: a report of a
    broken lamp cannot name a manhole cover. Event cases may name any component nearby."""
    if sub.kind is Kind.COMPONENT and component.subclass_code != sub.code:
        raise ValidationError(
            f"component {component.id} ({component.name or 'unnamed'}) is of subclass "
            f"{component.subclass_code}, but the case is about component subclass {sub.code} "
            f"({sub.name}); choose subclass {component.subclass_code} or another component",
            code="component_subclass_mismatch",
            field="component_id",
        )


def linked_component_id(session: Session, case: Case) -> str | None:
    """The case's component: its ``component_id``, else the component whose latest state
    change names the case (``component_state_event.case_no``)."""
    if case.component_id:
        return case.component_id
    return session.scalar(
        select(ComponentStateEvent.component_id)
        .where(ComponentStateEvent.case_no == case.case_no)
        .order_by(ComponentStateEvent.id.desc())
        .limit(1)
    )


@dataclass
class LinkedComponent:
    """The component of a case as the case detail shows it, with its state history."""

    component: Component
    owner_dept_name: str | None
    history: list[ComponentStateEvent]

    def summary(self) -> dict[str, Any]:
        c = self.component
        return {
            "id": c.id,
            "name": c.name,
            "subclass_code": c.subclass_code,
            "state": c.state.value,
            "state_label": c.state_label,
            "grid_code": c.grid_code,
            "lon": c.lon,
            "lat": c.lat,
            "owner_dept_code": c.owner_dept_code,
            "owner_dept_name": self.owner_dept_name,
        }


def linked_component(session: Session, case: Case) -> LinkedComponent | None:
    """The case's component with its owner department's name and its state rows (oldest
    first); None when the case is about no component (or it has been deleted since)."""
    cid = linked_component_id(session, case)
    comp = session.get(Component, cid) if cid else None
    if comp is None:
        return None
    owner = None
    if comp.owner_dept_code:
        owner = session.scalar(
            select(Department.name).where(Department.code == comp.owner_dept_code)
        )
    return LinkedComponent(comp, owner, history(session, comp.id))
