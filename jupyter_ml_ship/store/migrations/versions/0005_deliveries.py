"""deliveries of notifications and MLflow logs, and the runs whose end was planned

Revision ID: 0005
Revises: 0004

Runs that ended before this migration are marked as planned: upgrading must not mail about
every old failure.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TERMINAL = ("succeeded", "failed", "cancelled", "timed_out", "skipped")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("subject", "channel", "target", "event", name="uq_deliveries_event"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_subject", "deliveries", ["subject"])
    op.create_table(
        "delivery_marks",
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    statuses = ", ".join(f"'{s}'" for s in TERMINAL)
    op.execute(
        "INSERT INTO delivery_marks (subject, subject_kind, created_at) "
        f"SELECT id, 'run', CURRENT_TIMESTAMP FROM runs WHERE status IN ({statuses})"
    )


def downgrade() -> None:
    op.drop_table("delivery_marks")
    op.drop_index("ix_deliveries_subject", "deliveries")
    op.drop_index("ix_deliveries_due", "deliveries")
    op.drop_table("deliveries")
