"""The vocabulary of the closed loop (闭环): states, actions, channels, item classes, clock steps.

All are ``StrEnum``s stored in lower_snake and translated in the UI.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a case stands (案件状态)."""

    NEW = "new"  # not yet submitted: the blank case every history starts from
    REPORTED = "reported"  # 上报
    VERIFYING = "verifying"  # 核实: a supervisor checks a public/hotline report on site
    VERIFIED = "verified"  # 核实属实: confirmed on site, waiting for 立案
    REGISTERED = "registered"  # 立案: waiting for 派遣
    REJECTED = "rejected"  # 不予立案
    DISPATCHED = "dispatched"  # 派遣: sent to a department, not yet taken up
    HANDLING = "handling"  # 处置
    HANDLED = "handled"  # 处置反馈: the department reported back
    CHECKING = "checking"  # 核查: a supervisor checks the result on site
    CHECKED = "checked"  # 核查通过: ready for 结案
    CLOSED = "closed"  # 结案
    REWORK = "rework"  # 返工: the check failed, back with the department
    RETURN_REQUESTED = "return_requested"  # 回退 pending approval
    EXTENSION_REQUESTED = "extension_requested"  # 延期 pending approval
    HANG_REQUESTED = "hang_requested"  # 挂账 pending approval
    HUNG = "hung"  # 挂账: cannot be fixed now
    VOID_REQUESTED = "void_requested"  # 作废 pending approval
    VOIDED = "voided"  # 作废
    ESCALATED = "escalated"  # 上报上级: waiting for the next level up
    MERGED = "merged"  # 合并: a duplicate folded into a master case
    AWAITING_DOCUMENTS = "awaiting_documents"  # 补办: written notice sent, documents missing
    AWAITING_APPROVAL = "awaiting_approval"  # 上报 item class: needs higher approval
    REFERRED = "referred"  # 建议: outside our remit, referred out


class Action(StrEnum):
    """What a user does to a case; every transition of the table is one action."""

    SUBMIT = "submit"  # 上报
    ASSIGN_VERIFY = "assign_verify"  # 派核实任务
    VERIFY = "verify"  # 核实属实
    VERIFY_FALSE = "verify_false"  # 核实不属实: not a problem
    REGISTER = "register"  # 立案
    REJECT = "reject"  # 不予立案
    DISPATCH = "dispatch"  # 派遣
    ACCEPT = "accept"  # 接收处置
    REPORT_BACK = "report_back"  # 处置反馈
    ASSIGN_CHECK = "assign_check"  # 派核查任务
    CHECK_PASS = "check_pass"  # 核查通过
    CHECK_FAIL = "check_fail"  # 核查不通过 → 返工
    CLOSE = "close"  # 结案
    REQUEST_RETURN = "request_return"  # 申请回退
    APPROVE_RETURN = "approve_return"
    DENY_RETURN = "deny_return"
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    REQUEST_HANG = "request_hang"  # 申请挂账
    APPROVE_HANG = "approve_hang"
    DENY_HANG = "deny_hang"
    RESUME = "resume"  # 解除挂账
    REQUEST_VOID = "request_void"  # 申请作废
    APPROVE_VOID = "approve_void"
    DENY_VOID = "deny_void"
    SUPERVISE = "supervise"  # 督办
    ESCALATE = "escalate"  # 上报上级
    ACCEPT_ESCALATION = "accept_escalation"  # 上级受理
    DECLINE_ESCALATION = "decline_escalation"  # 上级退回
    SELF_HANDLE = "self_handle"  # 自行处置
    MERGE = "merge"  # 合并 (on the duplicate)
    ABSORB = "absorb"  # 合并 (on the master: gains the duplicate's reporters)
    RATE = "rate"  # 评价
    RECORD_RATING = "record_rating"  # 回访评价: the desk records a caller's rating
    RESOLVE_ON_SPOT = "resolve_on_spot"  # 即办
    PROMISE = "promise"  # 承诺: accept with a promised date
    REQUEST_DOCUMENTS = "request_documents"  # 补办: written notice of missing documents
    DOCUMENTS_RECEIVED = "documents_received"
    REQUEST_APPROVAL = "request_approval"  # 上报 item class: ask for higher approval
    GRANT_APPROVAL = "grant_approval"
    REFUSE_APPROVAL = "refuse_approval"
    REFER = "refer"  # 建议: refer out


class Channel(StrEnum):
    """How a report came in (来源渠道); decides whether 核实 is needed (see ``Policy``)."""

    SUPERVISOR = "supervisor"  # 监督员上报
    PUBLIC = "public"  # 公众举报 (web, app, Open311)
    HOTLINE = "hotline"  # 热线
    VIDEO = "video"  # 视频巡查
    SENSOR = "sensor"  # 物联感知


class ItemClass(StrEnum):
    """办件类别 of a resident service request; ordinary problem cases have none."""

    ON_THE_SPOT = "on_the_spot"  # 即办: resolved and closed at once
    PROMISED = "promised"  # 承诺: accepted with a promised date
    PENDING_DOCUMENTS = "pending_documents"  # 补办: waits for documents (written notice)
    NEEDS_APPROVAL = "needs_approval"  # 上报: needs higher approval, reply within 3 working days
    SUGGESTION = "suggestion"  # 建议: outside our remit, referred out


class SupervisionLevel(StrEnum):
    """督办 level: normal, yellow card, red card."""

    NORMAL = "normal"
    YELLOW = "yellow"
    RED = "red"


class Step(StrEnum):
    """A step with its own time limit (时限); deadlines are computed in ``cases.deadlines``."""

    REGISTER = "register"  # 立案 within N working hours of the report
    VERIFY = "verify"  # 核实
    DISPATCH = "dispatch"  # 派遣
    HANDLE = "handle"  # 处置 (per subclass and urgency)
    CHECK = "check"  # 核查
    PROMISE = "promise"  # 承诺 date given to the resident
    APPROVAL = "approval"  # 上报 item class: the higher level's decision
    REPLY = "reply"  # reply within 3 working days of the approval


#: Side states waiting for a decision; the case remembers where it came from (``paused_from``).
PAUSED: frozenset[State] = frozenset(
    {
        State.RETURN_REQUESTED,
        State.EXTENSION_REQUESTED,
        State.HANG_REQUESTED,
        State.VOID_REQUESTED,
        State.ESCALATED,
    }
)
#: States no action leaves (except rating a closed case).
TERMINAL: frozenset[State] = frozenset(
    {State.CLOSED, State.REJECTED, State.VOIDED, State.MERGED, State.REFERRED}
)
#: Registered and not finished: 督办 applies here.
IN_PROGRESS: tuple[State, ...] = (
    State.REGISTERED,
    State.DISPATCHED,
    State.HANDLING,
    State.HANDLED,
    State.CHECKING,
    State.CHECKED,
    State.REWORK,
    State.RETURN_REQUESTED,
    State.EXTENSION_REQUESTED,
    State.HANG_REQUESTED,
    State.HUNG,
    State.VOID_REQUESTED,
    State.ESCALATED,
)
#: Every state a live case can be in (a master case can gain reporters in any of them).
OPEN: tuple[State, ...] = (
    State.REPORTED,
    State.VERIFYING,
    State.VERIFIED,
    State.AWAITING_DOCUMENTS,
    State.AWAITING_APPROVAL,
    *IN_PROGRESS,
)
