"""search ignores punctuation, quote marks and spaces

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

标准地改革 did not find 加快“标准地”改革: the index words were substrings of runs of letters and
digits, and punctuation split the runs. Now each field is squashed first (lower-cased, letters
and digits only) and its substrings of one to three characters are the words; a longer term
is confirmed by LIKE over search_squash(field), an SQL function here on PostgreSQL (on SQLite
app.db registers the same function in Python on every connection). PostgreSQL's action_grams
squashes each field the same way; SQLite's FTS5 table is filled again.

Like every revision, this one imports nothing from app: what it needs is copied here.
"""

import re
from collections.abc import Callable, Iterable, Sequence

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "action_search"  # SQLite
POSTGRESQL_INDEX = "ix_actions_search"
BATCH_SIZE = 5000
IGNORED = re.compile(r"[\W_]+")
RUN = re.compile(r"[^\W_]+")  # 0007's runs, for the downgrade

SEARCH_SQUASH = """
CREATE OR REPLACE FUNCTION search_squash(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN regexp_replace(lower(value), '[^[:alnum:]]+', '', 'g')
"""


RunsOf = Callable[..., Iterable[str]]  # (title, detail, quote) → the runs to index


def action_grams(fields: str) -> str:
    """SQL defining action_grams over fields, the SQL of the space-separated runs (0007's
    way of cutting them into every substring of one to three characters)."""
    pieces = ["string_to_array(s, NULL)"] + [
        f"string_to_array(regexp_replace(substr(s, {offset}), '({'.' * n})', '\\1 ', 'g'), ' ')"
        for n in (2, 3)
        for offset in range(1, n + 1)
    ]
    return f"""
CREATE OR REPLACE FUNCTION action_grams(title text, detail text, quote text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
COST 10000
RETURN (
    SELECT array_to_tsvector(array_remove(array_remove({" || ".join(pieces)}, ' '), ''))
    FROM (SELECT {fields}) AS spaced (s)
)
"""


SQUASHED_FIELDS = "concat_ws(' ', search_squash(title), search_squash(detail), search_squash(quote))"
RUNS_0007 = "regexp_replace(lower(concat_ws(' ', title, detail, quote)), '[^[:alnum:]]+', ' ', 'g')"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(SEARCH_SQUASH)
        op.execute(action_grams(SQUASHED_FIELDS))
        op.execute(f"REINDEX INDEX {POSTGRESQL_INDEX}")
    else:
        index_every_action(bind, lambda *texts: (IGNORED.sub("", (t or "").lower()) for t in texts))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(action_grams(RUNS_0007))
        op.execute(f"REINDEX INDEX {POSTGRESQL_INDEX}")
        op.execute("DROP FUNCTION search_squash(text)")
    else:
        index_every_action(bind, lambda *texts: RUN.findall("\n".join(t or "" for t in texts).lower()))


def grams(runs: Sequence[str]) -> str:
    """Each substring of one to three characters of runs, distinct, sorted."""
    words = {run[start : start + size] for run in runs for size in (1, 2, 3) for start in range(len(run) - size + 1)}
    return " ".join(sorted(words))


def index_every_action(bind: Connection, runs_of: RunsOf) -> None:
    """Fill SQLite's FTS5 table again with the words of every action."""
    op.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")
    actions = bind.execute(text("SELECT id, title, detail, quote FROM actions")).all()
    statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :grams)")
    for first in range(0, len(actions), BATCH_SIZE):
        batch = actions[first : first + BATCH_SIZE]
        rows = [{"id": a.id, "grams": grams(list(runs_of(a.title, a.detail, a.quote)))} for a in batch]
        bind.execute(statement, rows)
