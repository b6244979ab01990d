"""runs started by events: webhook trigger tokens, files already seen, after-upstream triggers

Revision ID: 0010
Revises: 0009

- ``triggers``: a job's triggers (webhook, files, after), in step with its last shipped version;
  a webhook's token only as its SHA-256 (``token_hash``), ``revoked_at`` once revoked;
- ``trigger_fires``: what each trigger started, unique per (job, kind, key): a file's path or an
  upstream run's id starts one run only, across restarts.
"""

import sqlalchemy as sa
from alembic import op

from jupyter_ml_ship.store.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triggers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_fired_at", UTCDateTime, nullable=True),
        sa.UniqueConstraint("name", "kind", name="uq_triggers_name_kind"),
    )
    op.create_table(
        "trigger_fires",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("fired_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", "kind", "key", name="uq_trigger_fires"),
    )
    op.create_index("ix_trigger_fires_at", "trigger_fires", ["name", "kind", "fired_at"])


def downgrade() -> None:
    op.drop_index("ix_trigger_fires_at", "trigger_fires")
    op.drop_table("trigger_fires")
    op.drop_table("triggers")
