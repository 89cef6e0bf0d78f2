"""case_time_indexes: indexes on case.reported_at, registered_at and closed_at

Revision ID: 0013_case_time_indexes
Revises: 0012_patrol
Create Date: 2026-12-03

The leader dashboard counts cases reported, registered and closed in a period (today, the
last days); these indexes keep those range queries off a full scan of the case table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_case_time_indexes"
down_revision: str | None = "0012_patrol"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("reported_at", "registered_at", "closed_at")


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.create_index(batch_op.f(f"ix_case_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_index(batch_op.f(f"ix_case_{column}"))
