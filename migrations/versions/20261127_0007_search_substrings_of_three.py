"""action search index: substrings of up to three characters, a faster action_grams

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

The index words become every substring of one to three characters within a run (0005 had one
and two), so a three-character term such as 孵化器 is one index word the index answers exactly,
with no LIKE over its candidates. PostgreSQL's action_grams, which must give the same words as
`grams` below (app.actions.search.grams as it was then), is rewritten without a set-returning
function per character: an index build or an action's write computed the old one at about
8 ms an action (a REINDEX of 100,000 actions took over ten minutes), this one at about 0.2 ms.
SQLite's FTS5 table is rebuilt with the ascii tokenizer, which splits only at ASCII
non-letters: the index words, all letters and digits, are then never split, whatever
SQLite's own Unicode tables say.

Like every revision, this one imports nothing from app: what it needs is copied here, so that
changing the app never changes what this revision did.
"""

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "action_search"  # SQLite
POSTGRESQL_INDEX = "ix_actions_search"
# Letters and digits; everything else (space, punctuation, _) separates runs.
RUN = re.compile(r"[^\W_]+")
BATCH_SIZE = 5000  # actions indexed per statement
LONGEST = 3  # the longest indexed substring; 0005 indexed up to 2


def action_grams(longest: int) -> str:
    """SQL defining action_grams: the words of every substring of one to longest characters
    within a run, as grams gives them.

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
        op.execute(action_grams(LONGEST))
        op.execute(f"REINDEX INDEX {POSTGRESQL_INDEX}")
    else:
        create_sqlite_table(bind, "ascii")
        index_every_action(bind, LONGEST)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(action_grams(2))  # 0005's words, computed as quickly
        op.execute(f"REINDEX INDEX {POSTGRESQL_INDEX}")
        return
    create_sqlite_table(bind, "unicode61 remove_diacritics 0")
    index_every_action(bind, 2)  # 0005's words: characters and pairs


def create_sqlite_table(bind: Connection, tokenizer: str) -> None:
    """The FTS5 table, empty, with tokenizer. detail=none: a word's rows only, no positions."""
    op.execute(f"DROP TABLE {TABLE}")
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5(document, content='', "
        f"detail=none, tokenize='{tokenizer}')"
    )


def grams(longest: int, *texts: str | None) -> str:
    """The index words of texts: each substring of one to longest characters within a run,
    lower-cased, distinct, sorted."""
    words: set[str] = set()
    for run in RUN.findall("\n".join(part or "" for part in texts).lower()):
        for size in range(1, longest + 1):
            words.update(run[start : start + size] for start in range(len(run) - size + 1))
    return " ".join(sorted(words))


def index_every_action(bind: Connection, longest: int) -> None:
    """Fill the (empty) FTS5 table with the words of every action."""
    actions = bind.execute(text("SELECT id, title, detail, quote FROM actions")).all()
    statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :grams)")
    for first in range(0, len(actions), BATCH_SIZE):
        batch = actions[first : first + BATCH_SIZE]
        bind.execute(
            statement,
            [{"id": a.id, "grams": grams(longest, a.title, a.detail, a.quote)} for a in batch],
        )
