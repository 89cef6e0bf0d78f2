"""cases: case, case_event, case_step_deadline

Revision ID: 0007_cases
Revises: 0006_notify
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridgov.db

revision: str = "0007_cases"
down_revision: str | None = "0006_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CASE_STATE = sa.Enum(
    "new",
    "reported",
    "verifying",
    "verified",
    "registered",
    "rejected",
    "dispatched",
    "handling",
    "handled",
    "checking",
    "checked",
    "closed",
    "rework",
    "return_requested",
    "extension_requested",
    "hang_requested",
    "hung",
    "void_requested",
    "voided",
    "escalated",
    "merged",
    "awaiting_documents",
    "awaiting_approval",
    "referred",
    name="case_state",
    native_enum=False,
    length=20,
)
CASE_ACTION = sa.Enum(
    "submit",
    "assign_verify",
    "verify",
    "verify_false",
    "register",
    "reject",
    "dispatch",
    "accept",
    "report_back",
    "assign_check",
    "check_pass",
    "check_fail",
    "close",
    "request_return",
    "approve_return",
    "deny_return",
    "request_extension",
    "approve_extension",
    "deny_extension",
    "request_hang",
    "approve_hang",
    "deny_hang",
    "resume",
    "request_void",
    "approve_void",
    "deny_void",
    "supervise",
    "escalate",
    "accept_escalation",
    "decline_escalation",
    "self_handle",
    "merge",
    "absorb",
    "rate",
    "resolve_on_spot",
    "promise",
    "request_documents",
    "documents_received",
    "request_approval",
    "grant_approval",
    "refuse_approval",
    "refer",
    name="case_action",
    native_enum=False,
    length=20,
)
CASE_CHANNEL = sa.Enum(
    "supervisor",
    "public",
    "hotline",
    "video",
    "sensor",
    name="case_channel",
    native_enum=False,
    length=20,
)
CASE_ITEM_CLASS = sa.Enum(
    "on_the_spot",
    "promised",
    "pending_documents",
    "needs_approval",
    "suggestion",
    name="case_item_class",
    native_enum=False,
    length=20,
)
CASE_STEP = sa.Enum(
    "register",
    "verify",
    "dispatch",
    "handle",
    "check",
    "promise",
    "approval",
    "reply",
    name="case_step",
    native_enum=False,
    length=20,
)
ROLE = sa.Enum(
    "supervisor",
    "acceptor",
    "shift_lead",
    "dispatcher",
    "department",
    "leader",
    "resident",
    "registrar",
    "admin",
    name="role",
    native_enum=False,
    length=20,
)
UTC = gridgov.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=20), nullable=False),
        sa.Column("state", CASE_STATE, nullable=False),
        sa.Column("item_class", CASE_ITEM_CLASS, nullable=True),
        sa.Column("channel", CASE_CHANNEL, nullable=False),
        sa.Column("subclass_kind", sa.String(length=20), nullable=False),
        sa.Column("subclass_code", sa.String(length=4), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=20), nullable=False),
        sa.Column("community_code", sa.String(length=20), nullable=True),
        sa.Column("street_code", sa.String(length=20), nullable=True),
        sa.Column("district_code", sa.String(length=20), nullable=True),
        sa.Column("reporter_user_id", sa.Integer(), nullable=True),
        sa.Column("reporter_name", sa.String(length=60), nullable=True),
        sa.Column("reporter_phone", sa.String(length=30), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("department_code", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("reported_at", UTC, nullable=True),
        sa.Column("registered_at", UTC, nullable=True),
        sa.Column("dispatched_at", UTC, nullable=True),
        sa.Column("handled_at", UTC, nullable=True),
        sa.Column("checked_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("workflow", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_user_id"],
            ["user_account.id"],
            name=op.f("fk_case_reporter_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("case_no", name=op.f("uq_case_case_no")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_case_idempotency_key")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        for column in (
            "state",
            "subclass_code",
            "grid_code",
            "district_code",
            "reporter_user_id",
            "department_code",
        ):
            batch_op.create_index(batch_op.f(f"ix_case_{column}"), [column], unique=False)

    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", CASE_ACTION, nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("from_state", CASE_STATE, nullable=False),
        sa.Column("to_state", CASE_STATE, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["user_account.id"],
            name=op.f("fk_case_event_actor_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_case_event_case_id")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_event_at"), ["at"], unique=False)

    op.create_table(
        "case_step_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("step", CASE_STEP, nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("stopped_at", UTC, nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("limit_unit", sa.String(length=20), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
            name=op.f("fk_case_step_deadline_case_id_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_step_deadline")),
    )
    with op.batch_alter_table("case_step_deadline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_step_deadline_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_step_deadline_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("case_step_deadline")
    op.drop_table("case_event")
    op.drop_table("case")
