"""gated promotion and automatic roll back: a version's promotion state, its reason, its
validation run, and the automatic roll back it went through

Revision ID: 0008
Revises: 0007

Versions recorded before have no promotion state (they became current at once, as shipped).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as t:
        t.add_column(sa.Column("promotion", sa.String(16), nullable=True))
        t.add_column(sa.Column("promotion_reason", sa.Text, nullable=True))
        t.add_column(sa.Column("validation_run_id", sa.String(32), nullable=True))
        t.add_column(sa.Column("auto_rollback", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions") as t:
        t.drop_column("auto_rollback")
        t.drop_column("validation_run_id")
        t.drop_column("promotion_reason")
        t.drop_column("promotion")
