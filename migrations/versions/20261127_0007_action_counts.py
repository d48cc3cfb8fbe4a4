"""action counts: how many actions have each status and archived flag, kept by triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

A list filtered by status alone (the commonest list) reads its total from here instead of
counting tens of thousands of index entries on every request.

SQLite: row triggers; its writers take turns (BEGIN IMMEDIATE), so the counts never wait.
PostgreSQL: statement triggers over the transition tables, so a bulk load adds one upsert a
statement; a statement whose changes cancel out (every edit that keeps status and archived)
touches no count. A statement that changes them locks the rows of the counts it changes
until its transaction ends, so transactions that change statuses take turns on those rows; a
long transaction changing many statuses (a large import) may then deadlock with another one,
and PostgreSQL refuses one of the two (a 503, to be retried).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL = """
INSERT INTO action_counts (status, archived, n)
SELECT status, archived, count(*) FROM actions GROUP BY status, archived
"""

SQLITE_ADD = """
INSERT INTO action_counts (status, archived, n) VALUES (NEW.status, NEW.archived, 1)
ON CONFLICT (status, archived) DO UPDATE SET n = n + 1;
"""
SQLITE_REMOVE = """
UPDATE action_counts SET n = n - 1 WHERE status = OLD.status AND archived = OLD.archived;
"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER action_counts_insert AFTER INSERT ON actions BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER action_counts_delete AFTER DELETE ON actions BEGIN {SQLITE_REMOVE} END",
    "CREATE TRIGGER action_counts_update AFTER UPDATE OF status, archived ON actions "
    "WHEN OLD.status IS NOT NEW.status OR OLD.archived IS NOT NEW.archived "
    f"BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]

# The rows a statement added (+1) and removed (-1), summed by count; in the order of the
# counts' key, so that two statements lock the counts they share in the same order.
POSTGRESQL_APPLY = """
CREATE FUNCTION action_counts_{operation}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO action_counts (status, archived, n)
    SELECT status, archived, sum(delta) FROM ({changes}) AS changes (status, archived, delta)
    GROUP BY status, archived
    HAVING sum(delta) <> 0
    ORDER BY status, archived
    ON CONFLICT (status, archived) DO UPDATE SET n = action_counts.n + excluded.n;
    RETURN NULL;
END
$$
"""
POSTGRESQL_TRUNCATE = """
CREATE FUNCTION action_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM action_counts;
    RETURN NULL;
END
$$
"""
def upgrade() -> None:
    op.create_table(
        "action_counts",
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status", "archived", name=op.f("pk_action_counts")),
    )
    op.execute(FILL)
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
        return
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)


def _postgresql_triggers() -> None:
    # One function per operation: a function's SQL may only name the transition tables its
    # trigger declares.
    for operation, tables, body in (
        ("insert", "NEW TABLE AS new_rows", "SELECT status, archived, 1 FROM new_rows"),
        ("delete", "OLD TABLE AS old_rows", "SELECT status, archived, -1 FROM old_rows"),
        (
            "update",
            "NEW TABLE AS new_rows OLD TABLE AS old_rows",
            "SELECT status, archived, 1 FROM new_rows "
            "UNION ALL SELECT status, archived, -1 FROM old_rows",
        ),
    ):
        op.execute(POSTGRESQL_APPLY.format(operation=operation, changes=body))
        op.execute(
            f"CREATE TRIGGER action_counts_{operation} AFTER {operation.upper()} ON actions "
            f"REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION action_counts_{operation}()"
        )
    op.execute(POSTGRESQL_TRUNCATE)
    op.execute(
        "CREATE TRIGGER action_counts_truncate AFTER TRUNCATE ON actions "
        "FOR EACH STATEMENT EXECUTE FUNCTION action_counts_clear()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER action_counts_truncate ON actions")
        op.execute("DROP FUNCTION action_counts_clear()")
        for operation in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER action_counts_{operation} ON actions")
            op.execute(f"DROP FUNCTION action_counts_{operation}()")
    else:
        for operation in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER action_counts_{operation}")
    op.drop_table("action_counts")
