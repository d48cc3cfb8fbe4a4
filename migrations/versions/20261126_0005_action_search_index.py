"""action search index: characters and character pairs (FTS5 / tsvector + GIN)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

SQLite: a contentless FTS5 table of the words app.actions.search.grams gives, filled here and
kept in step by the services. PostgreSQL: a GIN index over action_grams(), a SQL function that
gives the same words. Neither is in the models' metadata (app.actions.search is all that
reads them), so autogenerate is told to leave them be (migrations/env.py).
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from app.actions import search
from app.migrations import MigrationError

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The same words as app.actions.search.grams: each character and each adjacent pair within a
# run of letters and digits, lower-cased. Its high cost tells the planner to reach rows through
# the index rather than compute this for every row of a scan.
ACTION_GRAMS = """
CREATE FUNCTION action_grams(title text, detail text, quote text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
COST 10000
RETURN (
    SELECT coalesce(array_to_tsvector(array_agg(DISTINCT substr(run, i, n))), ''::tsvector)
    FROM unnest(ARRAY[title, detail, quote]) AS field,
        regexp_split_to_table(lower(field), '[^[:alnum:]]+') AS run,
        generate_series(1, char_length(run)) AS i,
        (VALUES (1), (2)) AS sizes (n)
    WHERE i + n - 1 <= char_length(run)
)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Under the plain "C" locale PostgreSQL's regular expressions take no Chinese character
        # for a letter, and every search would silently find nothing.
        if not bind.execute(text("SELECT '招' ~ '[[:alnum:]]'")).scalar():
            raise MigrationError(
                "the database's LC_CTYPE does not class Chinese characters as letters; "
                "create it with a UTF-8 locale such as C.UTF-8"
            )
        op.execute(ACTION_GRAMS)
        op.execute(
            f"CREATE INDEX {search.POSTGRESQL_INDEX} ON actions "
            "USING gin (action_grams(title, detail, quote))"
        )
        return
    # The grams are already lower-cased; unicode61 must not fold diacritics on top.
    # detail=none: a word's rows only, no positions (nothing asks for phrases).
    op.execute(
        f"CREATE VIRTUAL TABLE {search.TABLE} USING fts5(document, content='', "
        "detail=none, tokenize='unicode61 remove_diacritics 0')"
    )
    search.reindex_all(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {search.POSTGRESQL_INDEX}")
        op.execute("DROP FUNCTION action_grams(text, text, text)")
        return
    op.execute(f"DROP TABLE {search.TABLE}")
