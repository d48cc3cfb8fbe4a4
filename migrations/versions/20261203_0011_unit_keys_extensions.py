"""unit keys, actor units and extension requests

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Keys may belong to a unit (api_keys.unit_id; null: office-wide, as every existing key stays).
Events record the acting key's unit (action_events.actor_unit). Extension requests (延期申请)
live in action_extensions, at most one pending per action (a partial unique index). On
actions, original_due_on (the first due date ever set) and extension_count: existing actions
take their present due date as the original one, since no extension existed before, and a
count of 0. No app code is imported: the tables are written out here as they are on this day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_keys_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_unit_id_units"), "units", ["unit_id"], ["id"]
        )
    # Not in batch mode: rebuilding action_events on SQLite would drop its append-only triggers.
    op.add_column("action_events", sa.Column("actor_unit", sa.String(length=200), nullable=True))
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute("UPDATE actions SET original_due_on = due_on")
    _create_extensions()


def _create_extensions() -> None:
    op.create_table(
        "action_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("from_due_on", sa.Date(), nullable=False),
        sa.Column("new_due_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_unit", sa.String(length=200), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_extensions_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_extensions")),
    )
    with op.batch_alter_table("action_extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_extensions_action_id"), ["action_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_action_extensions_state"), ["state"], unique=False)
        batch_op.create_index(
            "ux_action_extensions_pending",
            ["action_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )


def downgrade() -> None:
    op.drop_table("action_extensions")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_column("extension_count")
        batch_op.drop_column("original_due_on")
    op.drop_column("action_events", "actor_unit")  # SQLite 3.35+ drops it in place
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_keys_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_keys_unit_id"))
        batch_op.drop_column("unit_id")
