"""team mode: owners of jobs and pipelines, who started each run, runs queued for the agent

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as t:
        t.add_column(sa.Column("owner", sa.String(200), nullable=False, server_default=""))
    with op.batch_alter_table("pipelines") as t:
        t.add_column(sa.Column("owner", sa.String(200), nullable=False, server_default=""))
    with op.batch_alter_table("runs") as t:
        t.add_column(sa.Column("started_by", sa.String(200), nullable=False, server_default=""))
        t.add_column(sa.Column("queue", sa.String(16)))
    with op.batch_alter_table("pipeline_runs") as t:
        t.add_column(sa.Column("started_by", sa.String(200), nullable=False, server_default=""))
    op.create_index("ix_runs_queue", "runs", ["queue"])
    op.create_index("ix_events_created_at", "events", ["created_at"])
    # the owner of an existing job or pipeline: who shipped its first version
    op.execute("UPDATE jobs SET owner = COALESCE((SELECT v.author FROM versions v WHERE "
               "v.job_id = jobs.id ORDER BY v.number LIMIT 1), '')")
    op.execute("UPDATE pipelines SET owner = COALESCE((SELECT v.author FROM pipeline_versions v "
               "WHERE v.pipeline_id = pipelines.id ORDER BY v.number LIMIT 1), '')")


def downgrade() -> None:
    op.drop_index("ix_events_created_at", "events")
    op.drop_index("ix_runs_queue", "runs")
    with op.batch_alter_table("pipeline_runs") as t:
        t.drop_column("started_by")
    with op.batch_alter_table("runs") as t:
        t.drop_column("queue")
        t.drop_column("started_by")
    with op.batch_alter_table("pipelines") as t:
        t.drop_column("owner")
    with op.batch_alter_table("jobs") as t:
        t.drop_column("owner")
