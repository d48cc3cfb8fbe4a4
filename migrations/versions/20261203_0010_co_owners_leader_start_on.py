"""co-owners, leader and start_on

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10

Lead and cooperating units (牵头单位, 配合单位): the link table action_co_owners holds an
action's cooperating units, the lead staying in actions.owner_id. On actions, the nullable
columns leader (责任领导, free text) and start_on (the day the work is counted from). Existing
actions keep their one owner, no co-owners, no leader and no start date; nothing is backfilled.
No app code is imported: the tables are written out here as they are on this day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_co_owners",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_co_owners_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_action_co_owners_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("action_id", "unit_id", name=op.f("pk_action_co_owners")),
    )
    with op.batch_alter_table("action_co_owners", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_co_owners_unit_id"), ["unit_id"], unique=False
        )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leader", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("start_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_co_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_co_owners_unit_id"))
    op.drop_table("action_co_owners")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("start_on")
        batch_op.drop_column("leader")
