"""Case services (案件服务): the stored side of the closed loop.

Split by subtopic: ``intake`` (上报: ``create_case``), ``actions`` (流转: ``act``), ``deadlines``
(时限 and lights), ``queries`` (one case, history, the scoped list, replay), ``merging`` (合并:
``merge_case``), ``duplicates`` (合并候选), ``linked`` (the component a case is about). This
module gathers them so callers import one place. Plain functions, ``session`` first, no HTTP
errors.
"""

from __future__ import annotations

from gridgov.cases.actions import act, actor_for, from_snapshot, load_case, snapshot
from gridgov.cases.deadlines import deadline_dict, deadline_light, step_limit
from gridgov.cases.duplicates import Candidate, duplicate_candidates
from gridgov.cases.intake import create_case
from gridgov.cases.linked import LinkedComponent, linked_component
from gridgov.cases.merging import merge_case
from gridgov.cases.queries import (
    CaseDetail,
    CaseListing,
    check_can_read,
    deadlines_of,
    get_case,
    history,
    lights_now,
    list_cases,
    rebuild,
)

__all__ = [
    "Candidate",
    "CaseDetail",
    "CaseListing",
    "LinkedComponent",
    "act",
    "actor_for",
    "check_can_read",
    "create_case",
    "deadline_dict",
    "deadline_light",
    "deadlines_of",
    "duplicate_candidates",
    "from_snapshot",
    "get_case",
    "history",
    "lights_now",
    "linked_component",
    "list_cases",
    "load_case",
    "merge_case",
    "rebuild",
    "snapshot",
    "step_limit",
]
