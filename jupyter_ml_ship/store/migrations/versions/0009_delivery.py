"""continuous delivery: git provenance of a version and named environments (staging, production)

Revision ID: 0009
Revises: 0008

- ``versions.git`` / ``pipeline_versions.git``: {commit, branch, dirty, remote} of the folder a
  version was shipped from (null: not in a git repository, or recorded before);
- ``versions.promotion_target``: the environment a running validation run promotes to;
- ``environment_pointers``: the version each environment other than production points at
  (production stays ``jobs.current_version`` / ``pipelines.current_version``).
"""

import sqlalchemy as sa
from alembic import op

from jupyter_ml_ship.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as t:
        t.add_column(sa.Column("git", sa.JSON, nullable=True))
        t.add_column(sa.Column("promotion_target", sa.String(63), nullable=True))
    with op.batch_alter_table("pipeline_versions") as t:
        t.add_column(sa.Column("git", sa.JSON, nullable=True))
    op.create_table(
        "environment_pointers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("environment", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False, server_default=""),
        sa.UniqueConstraint("kind", "name", "environment", name="uq_environment_pointers"),
    )


def downgrade() -> None:
    op.drop_table("environment_pointers")
    with op.batch_alter_table("pipeline_versions") as t:
        t.drop_column("git")
    with op.batch_alter_table("versions") as t:
        t.drop_column("promotion_target")
        t.drop_column("git")
