"""calendar: imported holiday notices and local overrides of the working calendar

Revision ID: 0008_calendar
Revises: 0004_departments
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gridgov.db import UTCDateTime

revision: str = "0008_calendar"
down_revision: str | None = "0004_departments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("holiday", "workday")
SOURCES = ("package", "notice", "override")


def upgrade() -> None:
    op.create_table(
        "calendar_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="calendar_day_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column(
            "source",
            sa.Enum(*SOURCES, name="calendar_rule_source", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["user_account.id"],
            name=op.f("fk_calendar_rule_imported_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_rule")),
        sa.UniqueConstraint("day", "source", name=op.f("uq_calendar_rule_day")),
    )


def downgrade() -> None:
    op.drop_table("calendar_rule")
