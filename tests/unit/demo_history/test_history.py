"""The demo history drives the real workflow: replayable, varied, deterministic."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.cases.actions import from_snapshot
from gridgov.cases.models import Case, CaseEvent, CaseStepDeadline
from gridgov.cases.queries import rebuild
from gridgov.cases.workflow import State
from gridgov.demo.history import HistorySummary, Rates, generate_history, make_photos
from gridgov.departments import service as departments
from gridgov.media.storage import LocalStorage
from gridgov.regions import geocode
from gridgov.taxonomy.service import load_default as load_taxonomy
from tests.factories.regions import DISTRICT, make_district

NOW = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)  # Wednesday 12:00 Asia/Shanghai
#: Rare turns made common so 20-odd cases show every one of them.
BUSY = Rates(return_=0.25, extension=0.3, deny_extension=0.0, rework=0.3, stall=0.15, yellow=0.2)


def _world(session: Session) -> None:
    make_district(session)
    load_taxonomy(session)
    departments.load_default(session, DISTRICT)
    geocode.invalidate()


def _run(session: Session, tmp_path: Path, seed: int = 3) -> HistorySummary:
    photos = make_photos(LocalStorage(tmp_path / "media"), NOW, count=2)
    return generate_history(
        session, days=2, per_day=10, seed=seed, now=NOW, photos=photos, rates=BUSY
    )


def _actions(session: Session, case: Case) -> set[str]:
    rows = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))
    return {str(a) for a in rows}


def test_history_replays_and_covers_the_loop(session: Session, tmp_path: Path) -> None:
    _world(session)
    summary = _run(session, tmp_path)
    cases = list(session.scalars(select(Case).order_by(Case.case_no)))
    assert summary.cases == len(cases) >= 20
    for case in cases:
        replayed = rebuild(session, case.case_no)
        assert replayed == from_snapshot(case.workflow), case.case_no
        assert replayed.state is case.state
    states = {c.state for c in cases}
    assert State.CLOSED in states
    acted = [_actions(session, c) for c in cases]
    assert any("approve_return" in a for a in acted)
    assert any("approve_extension" in a for a in acted)
    assert any("check_fail" in a for a in acted)
    assert any("supervise" in a for a in acted)
    overdue = session.scalar(
        select(CaseStepDeadline.case_id).where(
            CaseStepDeadline.stopped_at.is_(None), CaseStepDeadline.due_at < NOW
        )
    )
    assert overdue is not None
    assert session.get(Case, overdue).state not in (State.CLOSED, State.REJECTED)  # type: ignore[union-attr]


def _states(session: Session) -> list[tuple[str, str, int]]:
    cases = session.scalars(select(Case).order_by(Case.case_no))
    return [(c.subclass_code, c.state.value, c.version) for c in cases]


def test_same_seed_same_history(session: Session, tmp_path: Path) -> None:
    _world(session)
    first = session.begin_nested()
    one = _run(session, tmp_path)
    states_one = _states(session)
    first.rollback()
    assert session.scalar(select(Case.id)) is None
    two = _run(session, tmp_path)
    assert two.cases == one.cases
    assert _states(session) == states_one
