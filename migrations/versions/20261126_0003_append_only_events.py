"""action events are append-only: triggers refuse UPDATE and DELETE

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

A later migration that rebuilds action_events in batch mode on SQLite drops these triggers
with the old table and must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "action_events is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION action_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER action_events_append_only BEFORE UPDATE OR DELETE ON action_events "
            "FOR EACH ROW EXECUTE FUNCTION action_events_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER action_events_no_{operation.lower()} BEFORE {operation} "
            f"ON action_events BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER action_events_append_only ON action_events")
        op.execute("DROP FUNCTION action_events_append_only()")
        return
    for operation in ("update", "delete"):
        op.execute(f"DROP TRIGGER action_events_no_{operation}")
