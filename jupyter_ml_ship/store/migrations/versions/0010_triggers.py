"""runs started by events: webhook trigger tokens, files already seen, after-upstream triggers

Revision ID: 0010
Revises: 0009

Reserved in the chain so that parallel work can fill it in; empty until then.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
