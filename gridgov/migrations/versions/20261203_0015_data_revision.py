"""data_revision: a token per topic (jurisdictions ...), set anew by every change

Revision ID: 0015_data_revision
Revises: 0014_case_level_region
Create Date: 2026-12-03

Workers cache data such as users' jurisdiction rows per process and check these tokens, read
with the other caches' versions in one statement per request (gridgov.revisions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_data_revision"
down_revision: str | None = "0014_case_level_region"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_revision",
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_data_revision")),
    )


def downgrade() -> None:
    op.drop_table("data_revision")
