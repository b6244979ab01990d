"""kernels, scripts, command steps, Spark and an environment per version

Revision ID: 0012
Revises: 0011

Reserved in the chain so that parallel work can fill it in; empty until then.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
