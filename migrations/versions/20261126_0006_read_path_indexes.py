"""read path indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:55:00

Counting a filtered list by status reads only the (status, archived) index instead of every
row; the last event before a moment (stale, as-of reads) reads only (action_id, at).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index('ix_actions_status_archived', ['status', 'archived'], unique=False)
    with op.batch_alter_table('action_events', schema=None) as batch_op:
        batch_op.create_index('ix_action_events_action_id_at', ['action_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_events', schema=None) as batch_op:
        batch_op.drop_index('ix_action_events_action_id_at')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_status_archived')
