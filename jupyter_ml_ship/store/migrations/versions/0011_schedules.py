"""schedules as first-class objects: paused, time zone, cron edited without a new version

Revision ID: 0011
Revises: 0010

A row exists once a schedule was edited (``ml-ship schedule``, ``PATCH /schedules/…``); a
schedule without one is the shipped cron, in UTC, not paused, as before.
"""

import sqlalchemy as sa
from alembic import op

from jupyter_ml_ship.store.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("cron", sa.String(200)),
        sa.Column("base", sa.String(200)),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("schedules")
