"""latest note index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

A report line shows its action's latest note: the newest event with a note before the
report's moment. Through (action_id, at) that read every event of the action (about ten,
each a visit to the table on PostgreSQL); this partial index names only those with a note,
newest last.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_action_events_notes",
        "action_events",
        ["action_id", "id"],
        sqlite_where=text("note IS NOT NULL"),
        postgresql_where=text("note IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_action_events_notes", table_name="action_events")
