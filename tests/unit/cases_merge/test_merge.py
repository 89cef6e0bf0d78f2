"""合并 on SQLite and PostgreSQL: both events in one transaction, every reporter gets the result,
and every refusal leaves both cases as they were."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.accounts.models import AuditLog
from gridgov.cases import service
from gridgov.cases.models import Case, CaseStepDeadline
from gridgov.cases.workflow import State, WorkflowError
from gridgov.errors import Conflict, Forbidden, GridgovError, NotFound, ValidationError
from gridgov.notify.models import Notification, RecipientKind
from tests.unit.cases_db.world import World, build, main_path, walk
from tests.unit.cases_merge.reports import (
    act,
    by_phone,
    by_resident,
    by_supervisor,
    event_count,
    file,
    merge,
)


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


def _outbox(session: Session, kind: str) -> list[Notification]:
    stmt = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    return list(session.scalars(stmt))


def test_merge_folds_the_duplicate_into_the_master(session: Session, w: World):
    master = walk(session, w, by_supervisor(session, w), 1)  # registered, version 2
    dup = by_resident(session, w)
    assert (master.version, dup.version) == (2, 1)

    out = merge(session, w, dup, master, expected=1, master_expected=2, note="同一堆垃圾")

    assert out is master
    assert (master.state, master.version) == (State.REGISTERED, 3)
    assert (dup.state, dup.version) == (State.MERGED, 2)
    merged = service.history(session, dup.case_no)[-1]
    assert (merged.action.value, merged.note) == ("merge", "同一堆垃圾")
    assert merged.payload["master_id"] == master.id
    assert merged.payload["master_case_no"] == master.case_no
    absorbed = service.history(session, master.case_no)[-1]
    assert absorbed.action.value == "absorb" and absorbed.seq == 3
    assert absorbed.payload["duplicate_id"] == dup.id
    assert absorbed.payload["reporter_ids"] == [w.resident.id]
    assert service.from_snapshot(master.workflow).reporter_ids == (w.supervisor.id, w.resident.id)
    assert service.from_snapshot(dup.workflow).merged_into == master.id
    for case in (master, dup):  # the stored rows replay to the stored snapshot
        assert service.rebuild(session, case.case_no) == service.from_snapshot(case.workflow)
    running = session.scalars(
        select(CaseStepDeadline).where(
            CaseStepDeadline.case_id == dup.id, CaseStepDeadline.stopped_at.is_(None)
        )
    ).all()
    assert running == []  # the duplicate's 立案 clock stopped
    audited = session.scalars(
        select(AuditLog.action).where(AuditLog.action.in_(["case.merge", "case.absorb"]))
    ).all()
    assert sorted(audited) == ["case.absorb", "case.merge"]
    told = _outbox(session, "case.merged")
    assert [(n.recipient_kind, n.recipient) for n in told] == [
        (RecipientKind.USER, str(w.resident.id))
    ]
    assert master.case_no in told[0].body and dup.case_no in told[0].body


def test_master_closing_tells_every_reporter(session: Session, w: World):
    """专项反馈: the supervisor, a resident and a hotline caller with only a phone all hear."""
    master = by_supervisor(session, w)
    resident = by_resident(session, w)
    caller = by_phone(session, w, "13900139000")
    anonymous = file(session, None, contact={"phone": "13700137000"})
    for i, dup in enumerate((resident, caller, anonymous)):
        merge(session, w, dup, master, minutes=5 + i)
    absorbed = service.history(session, master.case_no)[1:]
    assert [e.payload["reporter_ids"] for e in absorbed] == [[w.resident.id], [0], [0]]
    assert service.get_case(session, w.resident, master.case_no).case is master

    master = walk(session, w, master, len(main_path(w)))
    assert master.state is State.CLOSED

    closed = _outbox(session, "case.closed")
    assert {(n.recipient_kind, n.recipient) for n in closed} == {
        (RecipientKind.USER, str(w.supervisor.id)),
        (RecipientKind.USER, str(w.resident.id)),
        (RecipientKind.PHONE, "13900139000"),
        (RecipientKind.PHONE, "13700137000"),
    }
    assert len(closed) == 4
    by_phone_no = {n.recipient: n for n in closed}
    assert caller.case_no in by_phone_no["13900139000"].subject  # their own case number
    assert by_phone_no["13900139000"].payload["master_case_code"] == master.case_no
    assert all("处置结果：已清理" in n.body for n in closed)
    rated = act(session, master, w.resident, "rate", score=5)
    assert service.from_snapshot(rated.workflow).ratings == ((w.resident.id, 5),)


def test_a_master_passes_on_what_it_absorbed(session: Session, w: World):
    """X merged into D, then D into M: X's caller still hears when M closes."""
    x = by_phone(session, w, "13600136000")
    d = by_resident(session, w)
    m = by_supervisor(session, w)
    merge(session, w, x, d)
    merge(session, w, d, m, minutes=40)
    assert service.from_snapshot(m.workflow).reporter_ids == (w.supervisor.id, w.resident.id, 0)
    walk(session, w, m, len(main_path(w)))
    phones = {n.recipient for n in _outbox(session, "case.closed")}
    assert "13600136000" in phones


def _state(session: Session, *cases: Case) -> list[tuple[str, int, int]]:
    out = []
    for case in cases:
        session.refresh(case)
        out.append((case.state.value, case.version, event_count(session, case)))
    return out


Refusal = Callable[[Session, World, Case, Case], Any]


@pytest.mark.parametrize(
    ("attempt", "error", "code", "where"),
    [
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, d),
            ValidationError,
            "merge_into_itself",
            {"field": "into"},
            id="into-itself",
        ),
        pytest.param(
            lambda s, w, d, m: service.merge_case(
                s,
                d.case_no,
                into="2099010100001",
                actor_user=w.acceptor,
                expected_version=1,
                now=m.created_at,
            ),
            ValidationError,
            "unknown_case",
            {"field": "into"},
            id="unknown-master",
        ),
        pytest.param(
            lambda s, w, d, m: service.merge_case(
                s,
                "2099010100001",
                into=m.case_no,
                actor_user=w.acceptor,
                expected_version=1,
                now=m.created_at,
            ),
            NotFound,
            "case_not_found",
            None,
            id="unknown-duplicate",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, user=w.dispatcher),
            Forbidden,
            "forbidden_role",
            None,
            id="dispatcher",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, user=w.far_lead),
            Forbidden,
            "outside_jurisdiction",
            None,
            id="other-street",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, expected=0),
            Conflict,
            "version_conflict",
            "duplicate",
            id="stale-duplicate",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, master_expected=1),
            Conflict,
            "version_conflict",
            "master",
            id="stale-master",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, note="x\x00"),
            ValidationError,
            "invalid",
            {"field": "note"},
            id="nul-note",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, note="长" * 2001),
            ValidationError,
            "invalid",
            {"field": "note"},
            id="long-note",
        ),
        pytest.param(
            lambda s, w, d, m: merge(s, w, d, m, expected=True),  # type: ignore[arg-type]
            ValidationError,
            "invalid",
            {"field": "expected_version"},
            id="bool-version",
        ),
    ],
)
def test_refusals_change_neither_case(
    session: Session,
    w: World,
    attempt: Refusal,
    error: type[GridgovError],
    code: str,
    where: dict[str, str] | str | None,
):
    master = walk(session, w, by_supervisor(session, w), 1)  # registered, version 2
    dup = by_resident(session, w)
    before = _state(session, dup, master)
    with pytest.raises(error) as err:
        attempt(session, w, dup, master)
    assert err.value.code == code
    if where == "duplicate":
        assert err.value.where == {"case_no": dup.case_no, "state": "reported", "version": 1}
    elif where == "master":
        assert err.value.where == {"case_no": master.case_no, "state": "registered", "version": 2}
    elif where is not None:
        assert err.value.where == where
    assert _state(session, dup, master) == before


def _closed(session: Session, w: World) -> Case:
    return walk(session, w, by_supervisor(session, w), len(main_path(w)))


def _voided(session: Session, w: World) -> Case:
    case = walk(session, w, by_supervisor(session, w), 1)
    case = act(session, case, w.acceptor, "request_void", reason="重复立案")
    return act(session, case, w.shift_lead, "approve_void")


def _rejected(session: Session, w: World) -> Case:
    return act(session, by_supervisor(session, w), w.shift_lead, "reject", reason="不属实")


@pytest.mark.parametrize("make", [_closed, _voided, _rejected], ids=["closed", "void", "rejected"])
def test_no_merging_into_a_finished_case(
    session: Session, w: World, make: Callable[[Session, World], Case]
):
    master = make(session, w)
    dup = by_resident(session, w)
    before = _state(session, dup, master)
    with pytest.raises(Conflict) as err:
        merge(session, w, dup, master)
    assert (err.value.status, err.value.code) == (409, "master_closed")
    assert err.value.where["state"] == master.state.value
    assert _state(session, dup, master) == before


def test_no_chains_a_merged_master_names_its_own_master(session: Session, w: World):
    top = by_supervisor(session, w)
    middle = by_resident(session, w)
    merge(session, w, middle, top)
    dup = by_phone(session, w, "13500135000")
    with pytest.raises(Conflict) as err:
        merge(session, w, dup, middle)
    assert err.value.code == "merge_chain"
    assert err.value.where["merged_into"] == top.case_no
    assert top.case_no in err.value.message
    assert dup.state is State.REPORTED and dup.version == 1


def test_a_dispatched_case_cannot_be_the_duplicate(session: Session, w: World):
    master = by_supervisor(session, w)
    dispatched = walk(session, w, by_supervisor(session, w), 2)
    with pytest.raises(WorkflowError) as err:
        merge(session, w, dispatched, master)
    assert (err.value.status, err.value.code) == (409, "not_allowed_in_state")
    assert (dispatched.state, master.version) == (State.DISPATCHED, 1)


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("merge", {"master_id": 1}),
        ("absorb", {"duplicate_id": 1, "reporter_ids": [1]}),
    ],
)
def test_the_halves_of_a_merge_are_never_stored_alone(
    session: Session, w: World, action: str, payload: dict[str, Any]
):
    """Absorbing alone would let the desk add any user as a reporter (who may then read it)."""
    case = by_resident(session, w)
    with pytest.raises(ValidationError) as err:
        service.act(session, case.case_no, action, w.acceptor, payload, 1, case.created_at)
    assert (err.value.code, err.value.where) == ("merge_only_together", {"field": "action"})
    assert (case.version, event_count(session, case)) == (1, 1)
    allowed = service.get_case(session, w.acceptor, case.case_no).allowed
    assert "merge" in allowed and "absorb" not in allowed
