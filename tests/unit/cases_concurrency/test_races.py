"""Concurrent actions on one case over two real connections (SQLite file and PostgreSQL).

Two users load the same case and act with the version they saw: exactly one action is stored,
the other gets a 409 carrying the state and version the winner left, and the event rows stay
one per version (no lost and no duplicate ``seq``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from gridgov.accounts.models import User
from gridgov.app import _install_error_handlers
from gridgov.cases import service
from gridgov.cases.api import router
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.workflow import State
from gridgov.config import Settings
from gridgov.db import session_scope
from gridgov.deps import SessionDep, get_current_user, get_session
from gridgov.errors import Conflict
from tests.unit.cases_db.world import T0, World, report
from tests.unit.cases_merge.reports import by_resident

LATER = T0 + timedelta(minutes=30)
#: (user id, action, payload) of one contender.
Move = tuple[int, str, dict[str, Any]]


def _file(engine: Engine, w: World, make: Callable[[Session, World], Case] = report) -> str:
    """A new committed case (reported, version 1); its number."""
    with Session(engine, expire_on_commit=False) as s:
        case_no = make(s, w).case_no
        s.commit()
    return case_no


def _contend(engine: Engine, case_no: str, moves: list[Move]) -> list[Any]:
    """Each move in its own thread and connection: load the case, wait for the others, act
    with the version seen, commit. The results: the stored version, or the Conflict."""
    start = threading.Barrier(len(moves))

    def run(move: Move) -> Any:
        uid, action, payload = move
        with Session(engine, expire_on_commit=False) as s:
            user = s.get(User, uid)
            seen = service.load_case(s, case_no).version
            s.commit()  # the client has the case on screen; no transaction stays open
            start.wait(timeout=30)
            try:
                if action == "merge":
                    case = service.merge_case(
                        s, case_no, actor_user=user, expected_version=seen, now=LATER, **payload
                    )
                else:
                    case = service.act(s, case_no, action, user, payload, seen, LATER)
                s.commit()
                return case.version
            except Conflict as exc:
                s.rollback()
                return exc

    with ThreadPoolExecutor(len(moves)) as pool:
        return list(pool.map(run, moves))


def _events(engine: Engine, case_no: str) -> list[tuple[int, str]]:
    with Session(engine) as s:
        case = service.load_case(s, case_no)
        rows = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert service.rebuild(s, case_no) == service.from_snapshot(case.workflow)
        return sorted((r.seq, r.action.value) for r in rows)


def _one_winner(results: list[Any]) -> tuple[int, Conflict]:
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert (len(won), len(lost)) == (1, 1), results
    return won[0], lost[0]


@pytest.mark.parametrize("round_", range(3))
def test_register_and_reject_race_one_wins(shared_engine: Engine, world: World, round_: int):
    no = _file(shared_engine, world)
    lead = world.shift_lead.id
    results = _contend(
        shared_engine, no, [(lead, "register", {}), (lead, "reject", {"reason": "不属实"})]
    )
    version, conflict = _one_winner(results)
    assert version == 2
    events = _events(shared_engine, no)
    assert [seq for seq, _ in events] == [1, 2]
    winner = events[-1][1]
    state = "registered" if winner == "register" else "rejected"
    assert (conflict.status, conflict.code) == (409, "version_conflict")
    assert conflict.where == {"state": state, "version": 2}


def test_the_same_action_twice_is_stored_once(shared_engine: Engine, world: World):
    no = _file(shared_engine, world)
    lead = world.shift_lead.id
    results = _contend(shared_engine, no, [(lead, "register", {}), (lead, "register", {})])
    _one_winner(results)
    assert _events(shared_engine, no) == [(1, "submit"), (2, "register")]


def test_merge_racing_an_action_on_the_duplicate(shared_engine: Engine, world: World):
    master = _file(shared_engine, world)
    dup = _file(shared_engine, world, by_resident)
    results = _contend(
        shared_engine,
        dup,
        [
            (world.acceptor.id, "merge", {"into": master}),
            (world.acceptor.id, "assign_verify", {"verifier_id": world.checker.id}),
        ],
    )
    _one_winner(results)
    dup_events, master_events = _events(shared_engine, dup), _events(shared_engine, master)
    assert [seq for seq, _ in dup_events] == [1, 2]
    if dup_events[-1][1] == "merge":
        assert master_events == [(1, "submit"), (2, "absorb")]
    else:
        assert master_events == [(1, "submit")]  # the merge left the master untouched too


def test_a_stale_copy_in_the_session_is_refused(shared_engine: Engine, world: World):
    """B read the case before A acted; B's session still holds version 1."""
    no = _file(shared_engine, world)
    with (
        Session(shared_engine, expire_on_commit=False) as a,
        Session(shared_engine, expire_on_commit=False) as b,
    ):
        seen = service.load_case(b, no).version
        b.commit()
        service.act(a, no, "register", a.get(User, world.shift_lead.id), {}, 1, LATER)
        a.commit()
        with pytest.raises(Conflict) as err:
            service.act(
                b, no, "reject", b.get(User, world.shift_lead.id), {"reason": "x"}, 1, LATER
            )
        b.rollback()
    assert seen == 1
    assert err.value.where == {"state": "registered", "version": 2}
    assert _events(shared_engine, no) == [(1, "submit"), (2, "register")]


def test_the_version_bump_is_a_compare_and_set(shared_engine: Engine, world: World):
    """Below the version check: an UPDATE from a stale row changes nothing and fails."""
    no = _file(shared_engine, world)
    with (
        Session(shared_engine, expire_on_commit=False) as a,
        Session(shared_engine, expire_on_commit=False) as b,
    ):
        stale = b.scalars(select(Case).where(Case.case_no == no)).one()
        b.commit()
        service.act(a, no, "register", a.get(User, world.shift_lead.id), {}, 1, LATER)
        a.commit()
        stale.version, stale.state = 2, State.REJECTED
        with pytest.raises(StaleDataError):
            b.flush()
        b.rollback()
    with Session(shared_engine) as s:
        stored = service.load_case(s, no)
        assert (stored.state, stored.version) == (State.REGISTERED, 2)


# ---- the same over HTTP ---------------------------------------------------------------------


@pytest.fixture
def http(shared_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    """The cases router on the shared database: every request its own committed session; the
    user is named by the ``X-User`` header."""
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(router, prefix="/api")
    app.state.settings = Settings(data_dir=tmp_path, environment="test")

    def _session() -> Iterator[Session]:
        with session_scope(shared_engine) as s:
            yield s

    def _user(request: Request, session: SessionDep) -> User:
        user = session.get(User, int(request.headers["X-User"]))
        assert user is not None
        return user

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_current_user] = _user
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_two_requests_with_the_same_version_over_http(
    http: TestClient, shared_engine: Engine, world: World
):
    no = _file(shared_engine, world)
    lead = {"X-User": str(world.shift_lead.id)}
    assert http.get(f"/api/cases/{no}", headers=lead).json()["version"] == 1
    start = threading.Barrier(2)
    bodies = [
        {"action": "register", "expected_version": 1},
        {"action": "reject", "payload": {"reason": "不属实"}, "expected_version": 1},
    ]

    def post(body: dict[str, Any]) -> Any:
        start.wait(timeout=30)
        return http.post(f"/api/cases/{no}/actions", json=body, headers=lead)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(post, bodies))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    won = next(r.json() for r in answers if r.status_code == 200)
    lost = next(r.json() for r in answers if r.status_code == 409)
    assert lost["code"] == "version_conflict"
    assert lost["where"] == {"state": won["state"], "version": 2}
    assert [e["seq"] for e in won["events"]] == [1, 2]
    # The loser reloads and sees the winner's case.
    again = http.get(f"/api/cases/{no}", headers=lead).json()
    assert (again["state"], again["version"]) == (won["state"], 2)
