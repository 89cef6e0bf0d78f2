"""Photo ids named by a case must be stored photos (SQLite and PostgreSQL): on 上报 and on
the actions that carry photos (核实, 处置反馈, 自行处置, 核查); else a 422 naming the id, and
nothing is stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.accounts.models import User
from gridgov.cases import service
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import State, WorkflowError
from gridgov.demo.history import make_photos
from gridgov.errors import ValidationError
from gridgov.media.storage import LocalStorage
from tests.unit.cases_db.world import DEPT, GARBAGE, LAT, LON, T0, World, build

NOBODY = "0" * 64  # a well-formed id nobody uploaded


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


@pytest.fixture
def photos(store: LocalStorage) -> list[str]:
    return make_photos(store, T0, count=2)


def _report(session: Session, w: World, store: LocalStorage, photos: list[str], **kw: Any) -> Case:
    return service.create_case(
        session,
        actor=kw.pop("actor", w.supervisor),
        channel=None,
        subclass=GARBAGE,
        subclass_kind="event",
        urgency="normal",
        lon=LON,
        lat=LAT,
        description="路边垃圾",
        photos=photos,
        now=T0,
        media=store,
        **kw,
    )


def _act(
    session: Session, store: LocalStorage, case: Case, user: User, action: str, **payload: Any
) -> Case:
    return service.act(
        session,
        case.case_no,
        action,
        user,
        payload,
        case.version,
        T0 + timedelta(minutes=10 * case.version),
        media=store,
    )


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Case)),
        session.scalar(select(func.count()).select_from(CaseEvent)),
    )


def test_report_with_stored_photos_is_filed(
    session: Session, w: World, store: LocalStorage, photos: list[str]
):
    case = _report(session, w, store, photos)
    assert case.photos == photos
    assert service.history(session, case.case_no)[0].payload["photos"] == photos


@pytest.mark.parametrize(
    ("bad", "field"),
    [(NOBODY, "photos[1]"), ("p1.jpg", "photos[1]"), ("../../etc/passwd", "photos[1]")],
    ids=["not-uploaded", "file-name", "path"],
)
def test_report_naming_an_unknown_photo_is_422_and_stores_nothing(
    session: Session, w: World, store: LocalStorage, photos: list[str], bad: str, field: str
):
    before = _counts(session)
    with pytest.raises(ValidationError) as err:
        _report(session, w, store, [photos[0], bad])
    assert (err.value.status, err.value.code) == (422, "unknown_photo")
    assert err.value.where == {"field": field, "photo": bad}
    assert bad in err.value.message
    assert _counts(session) == before


def test_actions_with_photos_check_every_id(
    session: Session, w: World, store: LocalStorage, photos: list[str]
):
    case = _report(session, w, store, photos)
    case = _act(session, store, case, w.shift_lead, "register")
    case = _act(
        session, store, case, w.dispatcher, "dispatch", department_id=1, department_code=DEPT
    )
    case = _act(session, store, case, w.department, "accept")
    before = (case.version, _counts(session))
    with pytest.raises(ValidationError) as err:
        _act(session, store, case, w.department, "report_back", result="已清理", photos=[NOBODY])
    assert err.value.where == {"field": "payload.photos[0]", "photo": NOBODY}
    session.refresh(case)
    assert (case.version, _counts(session)) == before and case.state is State.HANDLING
    case = _act(session, store, case, w.department, "report_back", result="已清理", photos=photos)
    case = _act(session, store, case, w.acceptor, "assign_check", checker_id=w.checker.id)
    with pytest.raises(ValidationError):
        _act(session, store, case, w.checker, "check_pass", photos=[photos[0], NOBODY])
    case = _act(session, store, case, w.checker, "check_pass", photos=[photos[1]])
    assert case.state is State.CHECKED


def test_self_handle_checks_its_photos(
    session: Session, w: World, store: LocalStorage, photos: list[str]
):
    case = _report(session, w, store, photos)
    with pytest.raises(ValidationError) as err:
        _act(session, store, case, w.supervisor, "self_handle", result="已扶正", photos=[NOBODY])
    assert err.value.code == "unknown_photo"
    case = _act(session, store, case, w.supervisor, "self_handle", result="已扶正", photos=photos)
    assert case.state is State.CHECKED


def test_role_and_state_refusals_come_before_the_photo_check(
    session: Session, w: World, store: LocalStorage, photos: list[str]
):
    """A user who may not act at all learns that, not that a photo is missing."""
    case = _report(session, w, store, photos)
    with pytest.raises(WorkflowError) as err:
        _act(session, store, case, w.department, "report_back", result="x", photos=[NOBODY])
    assert err.value.code == "not_allowed_in_state"


def test_an_action_names_at_most_twenty_photos(
    session: Session, w: World, store: LocalStorage, photos: list[str]
):
    case = _report(session, w, store, photos)
    with pytest.raises(ValidationError) as err:
        _act(session, store, case, w.supervisor, "self_handle", result="好", photos=photos * 11)
    assert err.value.where == {"field": "payload.photos"}
    assert "at most 20" in err.value.message
