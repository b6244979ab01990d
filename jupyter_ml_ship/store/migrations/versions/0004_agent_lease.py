"""leases: one agent per store does the periodic work (``ml-ship agent``)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from jupyter_ml_ship.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False, server_default=""),
        sa.Column("pid", sa.Integer, nullable=False, server_default="0"),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("renewed_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("last_tick", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("leases")
