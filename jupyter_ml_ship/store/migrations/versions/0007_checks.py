"""checks on outputs: a run's health and checks, a version's reference run

Revision ID: 0007
Revises: 0006

Runs recorded before are ``healthy`` with no checks (nothing checked them).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as t:
        t.add_column(sa.Column("health", sa.String(16), nullable=False,
                               server_default="healthy"))
        t.add_column(sa.Column("checks", sa.JSON, nullable=True))
    with op.batch_alter_table("versions") as t:
        t.add_column(sa.Column("reference_run_id", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions") as t:
        t.drop_column("reference_run_id")
    with op.batch_alter_table("runs") as t:
        t.drop_column("checks")
        t.drop_column("health")
