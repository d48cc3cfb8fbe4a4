"""action search index: characters and character pairs (FTS5 / tsvector + GIN)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

SQLite: a contentless FTS5 table of each action's characters and character pairs (`grams`
below, as app.actions.search.grams gave them then), filled here and kept in step by the
services. PostgreSQL: a GIN index over action_grams(), a SQL function that gives the same
words. Neither is in the models' metadata (app.actions.search is all that reads them), so
autogenerate is told to leave them be (migrations/env.py).

Like every revision, this one imports nothing from app: what it needs is copied here, so that
changing the app never changes what this revision did.
"""

import re
from collections.abc import Sequence

from alembic import op
from alembic.util import CommandError
from sqlalchemy import Connection, text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "action_search"  # SQLite
POSTGRESQL_INDEX = "ix_actions_search"
# Letters and digits; everything else (space, punctuation, _) separates runs.
RUN = re.compile(r"[^\W_]+")
BATCH_SIZE = 5000  # actions indexed per statement

# The same words as grams below: each character and each adjacent pair within a run of letters
# and digits, lower-cased. Its high cost tells the planner to reach rows through the index
# rather than compute this for every row of a scan.
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
            raise CommandError(
                "the database's LC_CTYPE does not class Chinese characters as letters; "
                "create it with a UTF-8 locale such as C.UTF-8"
            )
        op.execute(ACTION_GRAMS)
        op.execute(
            f"CREATE INDEX {POSTGRESQL_INDEX} ON actions "
            "USING gin (action_grams(title, detail, quote))"
        )
        return
    # The grams are already lower-cased; unicode61 must not fold diacritics on top.
    # detail=none: a word's rows only, no positions (nothing asks for phrases).
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(document, content='', "
        "detail=none, tokenize='unicode61 remove_diacritics 0')"
    )
    index_every_action(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {POSTGRESQL_INDEX}")
        op.execute("DROP FUNCTION action_grams(text, text, text)")
        return
    op.execute(f"DROP TABLE {TABLE}")


def grams(*texts: str | None) -> str:
    """The index words of texts: each character and each adjacent pair within a run,
    lower-cased, distinct, sorted."""
    words: set[str] = set()
    for run in RUN.findall("\n".join(part or "" for part in texts).lower()):
        words.update(run)
        words.update(map(str.__add__, run, run[1:]))
    return " ".join(sorted(words))


def index_every_action(bind: Connection) -> None:
    """Fill the FTS5 table with the words of every action."""
    actions = bind.execute(text("SELECT id, title, detail, quote FROM actions")).all()
    statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :grams)")
    for first in range(0, len(actions), BATCH_SIZE):
        batch = actions[first : first + BATCH_SIZE]
        bind.execute(
            statement, [{"id": a.id, "grams": grams(a.title, a.detail, a.quote)} for a in batch]
        )
