"""Whole paths through the closed loop, the approvals, and separation of duties (监管分离)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from gridgov.accounts.models import Role
from gridgov.cases.model import NO_ACCOUNT
from gridgov.cases.workflow import (
    Action,
    CaseState,
    Channel,
    ClockOp,
    ItemClass,
    Policy,
    State,
    Step,
    SupervisionLevel,
    WorkflowError,
    apply,
    replay,
)
from tests.unit.cases.builders import (
    ACCEPTOR,
    CHECKER,
    DISCOVERER,
    DISPATCHER,
    HANDLER,
    HANDLER2,
    NOW,
    RESIDENT,
    SHIFT_LEAD,
    VERIFIER,
    Plan,
    actor,
    busy_case,
    run,
    supervisor_report,
)

A = Action
SUP = actor(Role.SUPERVISOR)
RES = actor(Role.RESIDENT)
ACC = actor(Role.ACCEPTOR)
LEAD = actor(Role.SHIFT_LEAD)
DISP = actor(Role.DISPATCHER)
DEPT = actor(Role.DEPARTMENT)
LEADER = actor(Role.LEADER)
VERIFIER_ACTOR = actor(Role.SUPERVISOR, VERIFIER)
CHECKER_ACTOR = actor(Role.SUPERVISOR, CHECKER)
PHOTO = {"photos": ["p.jpg"]}
DONE = {"result": "已清理", "photos": ["after.jpg"]}


def _handle_and_check() -> Plan:
    return [
        (A.DISPATCH, DISP, {"department_id": 20}),
        (A.ACCEPT, DEPT, {}),
        (A.REPORT_BACK, DEPT, DONE),
        (A.ASSIGN_CHECK, ACC, {"checker_id": CHECKER}),
        (A.CHECK_PASS, CHECKER_ACTOR, PHOTO),
        (A.CLOSE, LEAD, {}),
    ]


def test_public_report_main_path_with_verification() -> None:
    steps: Plan = [
        (A.SUBMIT, RES, {"description": "路灯不亮"}),
        (A.ASSIGN_VERIFY, ACC, {"verifier_id": VERIFIER}),
        (A.VERIFY, VERIFIER_ACTOR, PHOTO),
        (A.REGISTER, LEAD, {}),
        *_handle_and_check(),
        (A.RATE, RES, {"score": 4}),
    ]
    case, events = run(CaseState(), steps)
    assert [e.to_state for e in events] == [
        State.REPORTED,
        State.VERIFYING,
        State.VERIFIED,
        State.REGISTERED,
        State.DISPATCHED,
        State.HANDLING,
        State.HANDLED,
        State.CHECKING,
        State.CHECKED,
        State.CLOSED,
        State.CLOSED,
    ]
    assert [e.version for e in events] == list(range(1, 12))
    assert case.channel is Channel.PUBLIC
    assert case.reporter_ids == (RESIDENT,)
    assert case.discoverer_id is None
    assert (case.verifier_id, case.checker_id, case.closed_by) == (VERIFIER, CHECKER, SHIFT_LEAD)
    assert case.handler_ids == (HANDLER,)
    assert case.dispatcher_ids == (DISPATCHER,)
    assert case.ratings == ((RESIDENT, 4),)
    assert replay(events) == case


def test_public_report_cannot_skip_verification() -> None:
    case, _ = run(CaseState(), [(A.SUBMIT, RES, {"description": "路灯不亮"})])
    with pytest.raises(WorkflowError) as err:
        apply(case, A.REGISTER, LEAD, {}, NOW)
    assert (err.value.code, err.value.status) == ("guard_failed", 409)


def test_verification_channels_are_a_setting() -> None:
    case, _ = run(CaseState(), [(A.SUBMIT, RES, {"description": "路灯不亮"})])
    policy = Policy(verify_channels=frozenset())
    assert apply(case, A.REGISTER, LEAD, {}, NOW, policy).state.state is State.REGISTERED


def test_verified_false_is_not_registered() -> None:
    case, events = run(
        CaseState(),
        [
            (A.SUBMIT, ACC, {"description": "来电: 噪音", "channel": "hotline"}),
            (A.ASSIGN_VERIFY, ACC, {"verifier_id": VERIFIER}),
            (A.VERIFY_FALSE, VERIFIER_ACTOR, {"reason": "现场无此问题"}),
        ],
    )
    assert case.state is State.REJECTED
    assert case.channel is Channel.HOTLINE
    assert case.reporter_ids == (NO_ACCOUNT,)  # the caller without an account, told by phone
    assert events[-1].note == "现场无此问题"


def test_only_the_assigned_verifier_verifies() -> None:
    case, _ = run(
        CaseState(),
        [
            (A.SUBMIT, RES, {"description": "路灯不亮"}),
            (A.ASSIGN_VERIFY, ACC, {"verifier_id": VERIFIER}),
        ],
    )
    with pytest.raises(WorkflowError) as err:
        apply(case, A.VERIFY, SUP, PHOTO, NOW)
    assert (err.value.code, err.value.status) == ("not_assignee", 403)


def test_supervisor_report_main_path_without_verification() -> None:
    steps: Plan = [
        (A.SUBMIT, SUP, supervisor_report()),
        (A.REGISTER, LEAD, {}),
        *_handle_and_check(),
    ]
    case, events = run(CaseState(), steps)
    assert case.state is State.CLOSED
    assert case.channel is Channel.SUPERVISOR
    assert (case.reporter_ids, case.discoverer_id) == ((DISCOVERER,), DISCOVERER)
    assert len(events) == 8
    assert replay(events, CaseState()) == case


def test_supervisor_report_needs_a_photo() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(CaseState(), A.SUBMIT, SUP, {"description": "暴露垃圾"}, NOW)
    assert (err.value.code, err.value.where) == ("missing_field", {"field": "photos"})


def test_clock_ops_of_the_main_path() -> None:
    case = CaseState()
    clocks = []
    steps: Plan = [
        (A.SUBMIT, SUP, supervisor_report()),
        (A.REGISTER, LEAD, {}),
        *_handle_and_check(),
    ]
    for action, who, payload in steps:
        out = apply(case, action, who, payload, NOW)
        case = out.state
        clocks.append(out.clock)
    assert clocks == [
        ClockOp(start=(Step.REGISTER,)),
        ClockOp(start=(Step.DISPATCH,), stop=(Step.REGISTER,)),
        ClockOp(start=(Step.HANDLE,), stop=(Step.DISPATCH,)),
        None,
        ClockOp(stop=(Step.HANDLE,)),
        ClockOp(start=(Step.CHECK,)),
        ClockOp(stop=(Step.CHECK,)),
        ClockOp(stop_all=True),
    ]


def test_rework_loop_counts_against_the_department() -> None:
    fail = {"photos": ["still.jpg"], "reason": "仍有垃圾"}
    steps: Plan = [
        (A.SUBMIT, SUP, supervisor_report()),
        (A.REGISTER, LEAD, {}),
        (A.DISPATCH, DISP, {"department_id": 20}),
        (A.ACCEPT, DEPT, {}),
        (A.REPORT_BACK, DEPT, DONE),
        (A.ASSIGN_CHECK, ACC, {"checker_id": CHECKER}),
        (A.CHECK_FAIL, CHECKER_ACTOR, fail),
        (A.ACCEPT, actor(Role.DEPARTMENT, HANDLER2), {}),
        (A.REPORT_BACK, actor(Role.DEPARTMENT, HANDLER2), DONE),
        (A.ASSIGN_CHECK, ACC, {"checker_id": CHECKER}),
        (A.CHECK_FAIL, CHECKER_ACTOR, fail),
        (A.ACCEPT, DEPT, {}),
        (A.REPORT_BACK, DEPT, DONE),
        (A.ASSIGN_CHECK, ACC, {"checker_id": CHECKER}),
        (A.CHECK_PASS, CHECKER_ACTOR, PHOTO),
        (A.CLOSE, LEAD, {}),
    ]
    case, events = run(CaseState(), steps)
    assert case.state is State.CLOSED
    assert case.rework_count == 2
    assert case.handler_ids == (HANDLER, HANDLER2)
    assert [e.to_state for e in events].count(State.REWORK) == 2
    out = apply(_at(steps, 6), A.CHECK_FAIL, CHECKER_ACTOR, fail, NOW)
    assert out.clock == ClockOp(start=(Step.HANDLE,), stop=(Step.CHECK,))


def _at(steps: Plan, n: int) -> CaseState:
    """The case after the first ``n`` steps."""
    return run(CaseState(), steps[:n])[0]


# ---- approvals ----------------------------------------------------------------------------


def test_return_approved_goes_back_to_dispatch() -> None:
    case, _ = run(
        busy_case(State.HANDLING),
        [
            (A.REQUEST_RETURN, DEPT, {"reason": "非本部门职责"}),
            (A.APPROVE_RETURN, DISP, {}),
            (A.DISPATCH, DISP, {"department_id": 21}),
        ],
    )
    assert case.state is State.DISPATCHED
    assert (case.department_id, case.paused_from) == (21, None)


@pytest.mark.parametrize("origin", [State.DISPATCHED, State.HANDLING])
def test_denied_return_goes_back_where_it_came_from(origin: State) -> None:
    case, _ = run(
        busy_case(origin),
        [
            (A.REQUEST_RETURN, DEPT, {"reason": "非本部门职责"}),
            (A.DENY_RETURN, DISP, {"reason": "属本部门"}),
        ],
    )
    assert (case.state, case.paused_from) == (origin, None)


def test_approved_extension_sets_the_new_deadline() -> None:
    due = NOW + timedelta(days=5)
    requested, _ = run(
        busy_case(State.HANDLING),
        [(A.REQUEST_EXTENSION, DEPT, {"reason": "等材料", "due_at": due})],
    )
    assert requested.state is State.EXTENSION_REQUESTED
    out = apply(requested, A.APPROVE_EXTENSION, DISP, {"due_at": due}, NOW)
    assert out.state.state is State.HANDLING
    assert out.clock == ClockOp(start=(Step.HANDLE,), due_field="due_at")
    assert out.event.payload["due_at"] == due
    denied = apply(requested, A.DENY_EXTENSION, DISP, {"reason": "不予延期"}, NOW)
    assert denied.state.state is State.HANDLING
    assert denied.clock is None
    with pytest.raises(WorkflowError) as err:
        apply(requested, A.APPROVE_EXTENSION, DISP, {"due_at": NOW - timedelta(hours=1)}, NOW)
    assert err.value.code == "invalid_field"


def test_hang_stops_the_clock_until_resumed() -> None:
    _, events = run(
        busy_case(State.HANDLING),
        [
            (A.REQUEST_HANG, DEPT, {"reason": "需待拆迁"}),
            (A.APPROVE_HANG, DISP, {}),
            (A.RESUME, DISP, {}),
        ],
    )
    assert [e.to_state for e in events] == [State.HANG_REQUESTED, State.HUNG, State.HANDLING]
    denied, _ = run(
        busy_case(State.HANDLING),
        [(A.REQUEST_HANG, DEPT, {"reason": "x"}), (A.DENY_HANG, DISP, {"reason": "可处置"})],
    )
    assert denied.state is State.HANDLING


@pytest.mark.parametrize("origin", [State.REGISTERED, State.DISPATCHED, State.HANDLING])
def test_void_needs_the_shift_leads_approval(origin: State) -> None:
    requested, _ = run(busy_case(origin), [(A.REQUEST_VOID, ACC, {"reason": "重复立案"})])
    with pytest.raises(WorkflowError) as err:
        apply(requested, A.APPROVE_VOID, DISP, {}, NOW)
    assert err.value.code == "wrong_role"
    assert apply(requested, A.APPROVE_VOID, LEAD, {}, NOW).state.state is State.VOIDED
    back = apply(requested, A.DENY_VOID, LEAD, {"reason": "有效案件"}, NOW).state
    assert back.state is origin


def test_escalation_accepted_by_the_upper_level() -> None:
    upper = actor(Role.DISPATCHER, 30)
    up = {"reason": "跨街道, 本级无法处置", "to_region": "110000"}
    case, _ = run(
        busy_case(State.HANDLING),
        [
            (A.ESCALATE, DEPT, up),
            (A.ACCEPT_ESCALATION, upper, {}),
            (A.DISPATCH, upper, {"department_id": 40}),
        ],
    )
    assert case.state is State.DISPATCHED
    assert (case.level, case.level_region, case.escalated_to) == (1, "110000", None)
    assert case.department_id == 40
    declined, _ = run(
        busy_case(State.HANDLING),
        [
            (A.ESCALATE, DEPT, up),
            (A.DECLINE_ESCALATION, upper, {"reason": "本级处置"}),
        ],
    )
    assert (declined.state, declined.level, declined.level_region) == (State.HANDLING, 0, None)
    assert declined.escalated_to is None


def test_escalation_names_the_level_asked() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.REGISTERED), A.ESCALATE, DISP, {"reason": "本级无法处置"}, NOW)
    assert (err.value.code, err.value.where["field"]) == ("missing_field", "to_region")
    out = apply(
        busy_case(State.REGISTERED),
        A.ESCALATE,
        DISP,
        {"reason": "本级无法处置", "to_region": "110188"},
        NOW,
    )
    assert (out.state.state, out.state.escalated_to) == (State.ESCALATED, "110188")


def test_the_desk_records_a_callers_rating_once() -> None:
    case, _ = run(
        CaseState(),
        [
            (A.SUBMIT, ACC, {"description": "来电: 路灯不亮", "channel": "hotline"}),
        ],
    )
    closed = replace(busy_case(State.CLOSED), reporter_ids=case.reporter_ids)
    rated = apply(closed, A.RECORD_RATING, ACC, {"score": 4, "note": "回访: 满意"}, NOW).state
    assert rated.ratings == ((NO_ACCOUNT, 4),)
    with pytest.raises(WorkflowError) as err:
        apply(rated, A.RECORD_RATING, ACC, {"score": 5}, NOW)
    assert err.value.code == "already_rated"
    with pytest.raises(WorkflowError) as err:  # a reporter with an account rates it themselves
        apply(busy_case(State.CLOSED), A.RECORD_RATING, ACC, {"score": 5}, NOW)
    assert err.value.code == "guard_failed"


@pytest.mark.parametrize("level", list(SupervisionLevel))
def test_supervision_records_a_level_without_changing_state(level: SupervisionLevel) -> None:
    out = apply(busy_case(State.HANDLING), A.SUPERVISE, LEADER, {"level": level}, NOW)
    assert out.state.state is State.HANDLING
    assert out.state.supervision_level is level
    assert out.event.payload["level"] == level
    assert out.state.version == busy_case(State.HANDLING).version + 1


def test_only_a_leader_supervises() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.HANDLING), A.SUPERVISE, DISP, {"level": "red"}, NOW)
    assert err.value.code == "wrong_role"


def test_self_handled_case_goes_straight_to_close() -> None:
    case, _ = run(
        CaseState(),
        [
            (A.SUBMIT, SUP, supervisor_report()),
            (A.SELF_HANDLE, SUP, {"result": "已扶正", "photos": ["after.jpg"]}),
            (A.CLOSE, LEAD, {}),
        ],
    )
    assert case.state is State.CLOSED
    assert case.self_handled
    assert case.checker_id is None
    other = actor(Role.SUPERVISOR, 14)
    reported = _at([(A.SUBMIT, SUP, supervisor_report())], 1)
    with pytest.raises(WorkflowError) as err:
        apply(reported, A.SELF_HANDLE, other, DONE, NOW)
    assert (err.value.code, err.value.status) == ("not_reporter", 403)


def test_merge_keeps_every_reporter_and_each_may_rate() -> None:
    neighbour = actor(Role.RESIDENT, 13)
    master, _ = run(CaseState(), [(A.SUBMIT, SUP, supervisor_report()), (A.REGISTER, LEAD, {})])
    dup, dup_events = run(CaseState(), [(A.SUBMIT, neighbour, {"description": "这里垃圾很多"})])
    dup, more = run(dup, [(A.MERGE, ACC, {"master_id": 1})])
    assert (dup.state, dup.merged_into) == (State.MERGED, 1)
    assert replay(dup_events + more) == dup
    master, _ = run(
        master,
        [
            (A.ABSORB, ACC, {"duplicate_id": 2, "reporter_ids": list(dup.reporter_ids)}),
            *_handle_and_check(),
            (A.RATE, neighbour, {"score": 5}),
        ],
    )
    assert master.reporter_ids == (DISCOVERER, 13)
    assert master.ratings == ((13, 5),)
    with pytest.raises(WorkflowError) as err:
        apply(master, A.RATE, neighbour, {"score": 3}, NOW)
    assert (err.value.code, err.value.status) == ("already_rated", 409)
    with pytest.raises(WorkflowError) as err:
        apply(master, A.RATE, actor(Role.RESIDENT, 77), {"score": 3}, NOW)
    assert err.value.code == "not_reporter"


# ---- item classes of service requests (办件类别) --------------------------------------------


def _request(item: ItemClass) -> CaseState:
    payload = {"description": "办理居住证明", "item_class": item}
    return run(CaseState(), [(A.SUBMIT, RES, payload)])[0]


def test_on_the_spot_item_closes_at_once() -> None:
    case = apply(_request(ItemClass.ON_THE_SPOT), A.RESOLVE_ON_SPOT, ACC, {"result": "已办"}, NOW)
    assert case.state.state is State.CLOSED
    assert case.state.closed_by == ACCEPTOR


def test_promised_item_carries_its_promised_date() -> None:
    due = NOW + timedelta(days=3)
    out = apply(_request(ItemClass.PROMISED), A.PROMISE, ACC, {"due_at": due}, NOW)
    assert out.state.state is State.REGISTERED
    assert out.clock == ClockOp(
        start=(Step.PROMISE, Step.DISPATCH), stop=(Step.REGISTER,), due_field="due_at"
    )


def test_pending_documents_item_waits_for_documents() -> None:
    case, _ = run(
        _request(ItemClass.PENDING_DOCUMENTS),
        [
            (A.REQUEST_DOCUMENTS, ACC, {"notice": "请补交户口本"}),
            (A.DOCUMENTS_RECEIVED, ACC, {"documents": ["hukou.pdf"]}),
        ],
    )
    assert case.state is State.REGISTERED


def test_needs_approval_item_starts_the_reply_clock_on_approval() -> None:
    asked = apply(_request(ItemClass.NEEDS_APPROVAL), A.REQUEST_APPROVAL, ACC, {"reason": "x"}, NOW)
    out = apply(asked.state, A.GRANT_APPROVAL, LEADER, {}, NOW)
    assert out.state.state is State.REGISTERED
    assert out.clock is not None
    assert Step.REPLY in out.clock.start
    refused = apply(asked.state, A.REFUSE_APPROVAL, LEADER, {"reason": "不符合条件"}, NOW)
    assert refused.state.state is State.REJECTED


def test_suggestion_item_is_referred_out() -> None:
    out = apply(_request(ItemClass.SUGGESTION), A.REFER, ACC, {"referred_to": "区人大"}, NOW)
    assert out.state.state is State.REFERRED


@pytest.mark.parametrize(
    "action", [A.RESOLVE_ON_SPOT, A.PROMISE, A.REQUEST_DOCUMENTS, A.REQUEST_APPROVAL, A.REFER]
)
def test_item_class_actions_need_their_item_class(action: Action) -> None:
    payload = {
        "result": "x",
        "due_at": NOW + timedelta(days=1),
        "notice": "x",
        "reason": "x",
        "referred_to": "x",
    }
    ordinary = run(CaseState(), [(A.SUBMIT, RES, {"description": "x"})])[0]
    with pytest.raises(WorkflowError) as err:
        apply(ordinary, action, ACC, payload, NOW)
    assert (err.value.code, err.value.status) == ("guard_failed", 409)


# ---- separation of duties (监管分离) -------------------------------------------------------


def test_dispatcher_role_can_never_close() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.CHECKED), A.CLOSE, DISP, {}, NOW)
    assert err.value.code == "wrong_role"


def test_a_user_who_dispatched_the_case_cannot_close_it_as_shift_lead() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.CHECKED), A.CLOSE, actor(Role.SHIFT_LEAD, DISPATCHER), {}, NOW)
    assert (err.value.code, err.value.status) == ("separation_of_duties", 403)


def test_a_handler_cannot_close() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.CHECKED), A.CLOSE, actor(Role.SHIFT_LEAD, HANDLER), {}, NOW)
    assert err.value.code == "separation_of_duties"


def test_checker_is_never_the_handler() -> None:
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.HANDLED), A.ASSIGN_CHECK, ACC, {"checker_id": HANDLER}, NOW)
    assert err.value.code == "separation_of_duties"
    # a checker cannot become the handler on rework either
    with pytest.raises(WorkflowError) as err:
        apply(busy_case(State.REWORK), A.ACCEPT, actor(Role.DEPARTMENT, CHECKER), {}, NOW)
    assert err.value.code == "separation_of_duties"


@pytest.mark.parametrize(("may_check", "allowed"), [(False, False), (True, True)])
def test_discoverer_checks_only_if_the_policy_allows(may_check: bool, allowed: bool) -> None:
    policy = Policy(discoverer_may_check=may_check)
    handled = busy_case(State.HANDLED)
    assign = {"checker_id": DISCOVERER}
    if not allowed:
        with pytest.raises(WorkflowError) as err:
            apply(handled, A.ASSIGN_CHECK, ACC, assign, NOW, policy)
        assert err.value.code == "separation_of_duties"
        return
    checking = apply(handled, A.ASSIGN_CHECK, ACC, assign, NOW, policy).state
    out = apply(checking, A.CHECK_PASS, SUP, PHOTO, NOW, policy)
    assert out.state.state is State.CHECKED
    # the same case under the stricter policy: the discoverer may not do the check
    with pytest.raises(WorkflowError) as err:
        apply(checking, A.CHECK_PASS, SUP, PHOTO, NOW, Policy())
    assert err.value.code == "separation_of_duties"
