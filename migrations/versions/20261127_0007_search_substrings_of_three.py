"""action search index: substrings of up to three characters, a faster action_grams

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

The index words become every substring of one to three characters within a run (0005 had one
and two), so a three-character term such as 孵化器 is one index word the index answers exactly,
with no LIKE over its candidates. PostgreSQL's action_grams, which must give the same words as
app.actions.search.grams, is rewritten without a set-returning function per character: an
index build or an action's write computed the old one at about 8 ms an action (a REINDEX of
100,000 actions took over ten minutes), this one at about 0.2 ms.
SQLite's FTS5 table is rebuilt with the ascii tokenizer, which splits only at ASCII
non-letters: the index words, all letters and digits, are then never split, whatever
SQLite's own Unicode tables say.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, text

from app.actions import search

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def action_grams(longest: int) -> str:
    """SQL defining action_grams: the words of every substring of one to longest characters
    within a run, as app.actions.search.grams gives them.

    The runs of the three fields, lower-cased, one space apart, are s. Each character of s,
    and s cut into pieces of n characters from each of the first n offsets, then split at the
    spaces, give every substring of n characters; a piece that held a space leaves shorter
    substrings of a run, which are words already. The high cost tells the planner to reach
    rows through the index rather than compute this for every row of a scan."""
    pieces = ["string_to_array(s, NULL)"] + [
        f"string_to_array(regexp_replace(substr(s, {offset}), '({'.' * n})', '\\1 ', 'g'), ' ')"
        for n in range(2, longest + 1)
        for offset in range(1, n + 1)
    ]
    return f"""
CREATE OR REPLACE FUNCTION action_grams(title text, detail text, quote text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
COST 10000
RETURN (
    SELECT array_to_tsvector(array_remove(array_remove({" || ".join(pieces)}, ' '), ''))
    FROM (
        SELECT regexp_replace(lower(concat_ws(' ', title, detail, quote)), '[^[:alnum:]]+', ' ', 'g')
    ) AS spaced (s)
)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(action_grams(search.LONGEST))
    else:
        create_sqlite_table(bind, "ascii")
    search.reindex_all(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(action_grams(2))  # 0005's words, computed as quickly
        search.reindex_all(bind)
        return
    create_sqlite_table(bind, "unicode61 remove_diacritics 0")
    # 0005's words: characters and pairs.
    statement = text(f"INSERT INTO {search.TABLE} (rowid, document) VALUES (:id, :grams)")
    for action in bind.execute(text("SELECT id, title, detail, quote FROM actions")):
        words = search.grams(action.title, action.detail, action.quote).split()
        short = " ".join(word for word in words if len(word) <= 2)
        bind.execute(statement, {"id": action.id, "grams": short})


def create_sqlite_table(bind: Connection, tokenizer: str) -> None:
    """The FTS5 table, empty, with tokenizer. detail=none: a word's rows only, no positions."""
    op.execute(f"DROP TABLE {search.TABLE}")
    op.execute(
        f"CREATE VIRTUAL TABLE {search.TABLE} USING fts5(document, content='', "
        f"detail=none, tokenize='{tokenizer}')"
    )
