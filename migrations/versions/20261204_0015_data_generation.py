"""data generation

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

A one-row table whose numbers change with every committed write to the tables the reads of
actions depend on, so that every server process (and every machine) can tell from one
indexed row whether what it cached is still the data: database triggers advance it, so the
API, imports, the seed, the CLI, the scheduler, other tools and raw SQL all do.

- generation: any write to those tables;
- shown: a write that changes what an action shows without changing its version (a unit,
  speech, source or theme renamed, theme or co-owner links, evidence, or an actions row
  updated without its version, which only raw SQL does). An action's JSON cached by
  (id, version) is still right while shown stays.

SQLite: row triggers (one writer at a time: no contention). PostgreSQL: deferred constraint
triggers, so the row is locked only while the transaction commits (never while it holds
other rows' locks, which could deadlock two writers), and advanced once per transaction.
Every process reads it by the same name; nothing of the app is imported here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, whether a write to it changes what an action shows without its version)
TABLES = (
    ("action_events", False),
    ("action_themes", True),
    ("action_co_owners", True),
    ("themes", True),
    ("units", True),
    ("sources", True),
    ("speeches", True),
    ("evidence", True),
)
PREFIX = "tashan_generation"
# An actions row updated with its version changed, or kept.
POSTGRESQL_VERSION = {
    "changed": "NEW.version IS DISTINCT FROM OLD.version",
    "same": "NEW.version IS NOT DISTINCT FROM OLD.version",
}
SQLITE_VERSION = {"changed": "NEW.version IS NOT OLD.version", "same": "NEW.version IS OLD.version"}

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION {PREFIX}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    done text := coalesce(current_setting('tashan.generation', true), '');
    is_shown boolean := TG_ARGV[0] = 'shown';
BEGIN
    -- Once per transaction (twice when a shown change follows a plain one).
    IF done = 'shown' OR (done = 'data' AND NOT is_shown) THEN
        RETURN NULL;
    END IF;
    UPDATE data_generation
    SET generation = generation + 1, shown = shown + CASE WHEN is_shown THEN 1 ELSE 0 END
    WHERE id = 1;
    PERFORM set_config('tashan.generation', CASE WHEN is_shown THEN 'shown' ELSE 'data' END, true);
    RETURN NULL;
END $$
"""


def _triggers() -> list[tuple[str, str, str, str | None, bool]]:
    """(name, table, operation, condition, shown) of every trigger."""
    triggers: list[tuple[str, str, str, str | None, bool]] = []
    for table, shown in TABLES:
        operations = ("INSERT",) if table == "action_events" else ("INSERT", "UPDATE", "DELETE")
        for operation in operations:
            name = f"{PREFIX}_{table}_{operation.lower()}"
            triggers.append((name, table, operation, None, shown))
    triggers += [
        (f"{PREFIX}_actions_insert", "actions", "INSERT", None, False),
        (f"{PREFIX}_actions_delete", "actions", "DELETE", None, True),
        (
            f"{PREFIX}_actions_update",
            "actions",
            "UPDATE",
            "changed",
            False,
        ),
        (
            f"{PREFIX}_actions_update_unversioned",
            "actions",
            "UPDATE",
            "same",
            True,
        ),
    ]
    return triggers


def upgrade() -> None:
    op.create_table(
        "data_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("shown", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_generation")),
    )
    op.execute("INSERT INTO data_generation (id, generation, shown) VALUES (1, 1, 1)")
    postgresql = op.get_context().dialect.name == "postgresql"
    if postgresql:
        op.execute(POSTGRESQL_FUNCTION)
    for name, table, operation, condition, shown in _triggers():
        if postgresql:
            when = f"WHEN ({POSTGRESQL_VERSION[condition]}) " if condition else ""
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {operation} ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}"
                f"EXECUTE FUNCTION {PREFIX}('{'shown' if shown else 'data'}')"
            )
        else:
            when = f"WHEN {SQLITE_VERSION[condition]} " if condition else ""
            bump = "shown = shown + 1, " if shown else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {operation} ON {table} {when}BEGIN "
                f"UPDATE data_generation SET {bump}generation = generation + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for name, table, *_ in _triggers():
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
    if postgresql:
        op.execute(f"DROP FUNCTION {PREFIX}()")
    op.drop_table("data_generation")
