"""stats indexes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

/stats at 100k actions took ~300 ms, three queries of ~100 ms each. Two indexes answer them
from the index alone: the per-unit tallies group (owner_id, status) over the live actions
and sum progress, overdue and the light (start_on and due_on); the stale count reads the
open actions last moved before a day (updated_at is when the timeline last moved, see
app/actions/listing.stale_clause). Statistics are gathered afterwards: without them
SQLite's planner kept picking an older, narrower index and a unit-filtered stats got slower.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_actions_unit_tallies",
        "actions",
        ["archived", "owner_id", "status", "progress", "due_on", "start_on"],
    )
    op.create_index("ix_actions_stale", "actions", ["archived", "updated_at", "status"])
    analyze()


def downgrade() -> None:
    op.drop_index("ix_actions_stale", table_name="actions")
    op.drop_index("ix_actions_unit_tallies", table_name="actions")


def analyze() -> None:
    """Fresh planner statistics for the new indexes."""
    if op.get_context().dialect.name == "sqlite":
        op.execute("ANALYZE")
        op.execute("PRAGMA optimize")
    else:
        op.execute("ANALYZE actions")
