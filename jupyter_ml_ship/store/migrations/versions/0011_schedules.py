"""schedules as first-class objects: paused, time zone, cron edited without a new version

Revision ID: 0011
Revises: 0010

Reserved in the chain so that parallel work can fill it in; empty until then.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
