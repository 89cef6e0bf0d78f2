"""case_no_counter: one row per local day holding the last case serial handed out

Revision ID: 0009_case_no_counter
Revises: 0008_calendar
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_case_no_counter"
down_revision: str | None = "0008_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_counter",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_case_counter")),
    )
    # Continue the numbering of cases filed before the counter existed.
    op.execute(
        """
        INSERT INTO case_counter (day, last)
        SELECT substr(case_no, 1, 8), max(CAST(substr(case_no, 9) AS INTEGER))
        FROM "case" GROUP BY substr(case_no, 1, 8)
        """
    )


def downgrade() -> None:
    op.drop_table("case_counter")
