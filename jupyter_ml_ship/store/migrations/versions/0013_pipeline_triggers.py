"""a pipeline file's triggers: triggers and their fires say whether they start a job or a pipeline

Revision ID: 0013
Revises: 0012

- ``triggers.target`` and ``trigger_fires.target``: ``job`` (every row before this) or
  ``pipeline``; a job and a pipeline of one name keep their own triggers, so the unique keys
  take the target in: (target, name, kind) and (target, name, kind, key).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("triggers") as t:
        t.add_column(sa.Column("target", sa.String(16), nullable=False, server_default="job"))
        t.drop_constraint("uq_triggers_name_kind", type_="unique")
        t.create_unique_constraint("uq_triggers_target_name_kind", ["target", "name", "kind"])
    with op.batch_alter_table("trigger_fires") as t:
        t.add_column(sa.Column("target", sa.String(16), nullable=False, server_default="job"))
        t.drop_constraint("uq_trigger_fires", type_="unique")
        t.create_unique_constraint("uq_trigger_fires", ["target", "name", "kind", "key"])


def downgrade() -> None:
    op.execute("DELETE FROM trigger_fires WHERE target = 'pipeline'")
    op.execute("DELETE FROM triggers WHERE target = 'pipeline'")
    with op.batch_alter_table("trigger_fires") as t:
        t.drop_constraint("uq_trigger_fires", type_="unique")
        t.create_unique_constraint("uq_trigger_fires", ["name", "kind", "key"])
        t.drop_column("target")
    with op.batch_alter_table("triggers") as t:
        t.drop_constraint("uq_triggers_target_name_kind", type_="unique")
        t.create_unique_constraint("uq_triggers_name_kind", ["name", "kind"])
        t.drop_column("target")
