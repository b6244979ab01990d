"""pipelines, pipeline versions, pipeline runs and their steps

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from jupyter_ml_ship.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("current_version", sa.Integer),
        sa.Column("source_path", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "pipeline_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pipeline_id", sa.Integer,
                  sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("author", sa.String(200), nullable=False, server_default=""),
        sa.Column("source_path", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("pipeline_id", "number", name="uq_pipeline_versions_number"),
        sa.UniqueConstraint("pipeline_id", "digest", name="uq_pipeline_versions_digest"),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("pipeline_id", sa.Integer,
                  sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version_id", sa.Integer,
                  sa.ForeignKey("pipeline_versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("backend", sa.String(32)),
        sa.Column("parallelism", sa.Integer, nullable=False, server_default="1"),
        sa.Column("use_cache", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("error", sa.JSON),
    )
    op.create_index("ix_pipeline_runs_pipeline", "pipeline_runs", ["pipeline_id", "id"])
    op.create_index("ix_pipeline_runs_status", "pipeline_runs", ["status"])
    op.create_table(
        "pipeline_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pipeline_run_id", sa.String(32),
                  sa.ForeignKey("pipeline_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(63), nullable=False),
        sa.Column("job", sa.String(63), nullable=False),
        sa.Column("version_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("cached", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cache_key", sa.String(64)),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("error", sa.JSON),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.UniqueConstraint("pipeline_run_id", "step", name="uq_pipeline_steps_step"),
    )
    op.create_index("ix_pipeline_steps_cache", "pipeline_steps", ["cache_key", "status"])


def downgrade() -> None:
    for table in ("pipeline_steps", "pipeline_runs", "pipeline_versions", "pipelines"):
        op.drop_table(table)
