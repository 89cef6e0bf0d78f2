"""case_component: the component (部件) a case is about, by its 16-digit id

Revision ID: 0010_case_component
Revises: 0011_rate_limit
Create Date: 2026-12-03

Chained onto the head that existed when it was written (0011_rate_limit landed first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_case_component"
down_revision: str | None = "0011_rate_limit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("component_id", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_component_id"), ["component_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_component_id"))
        batch_op.drop_column("component_id")
