"""action search index: characters and character pairs (FTS5 / tsvector + GIN)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

The index lives outside the models' metadata: an FTS5 virtual table has no SQLAlchemy
equivalent, and nothing reads it but app.actions.search.
"""

from collections.abc import Sequence

from alembic import op

from app.actions import search

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TABLE {search.TABLE} ("
            "action_id INTEGER PRIMARY KEY "
            "CONSTRAINT fk_action_search_action_id_actions REFERENCES actions (id) "
            "ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        op.execute(f"CREATE INDEX ix_action_search_document ON {search.TABLE} USING gin (document)")
    else:
        # The grams are already case-folded; unicode61 must not fold diacritics on top.
        # detail=none: a word's rows only, no positions (nothing asks for phrases).
        op.execute(
            f"CREATE VIRTUAL TABLE {search.TABLE} USING fts5(document, content='', "
            "detail=none, tokenize='unicode61 remove_diacritics 0')"
        )
    search.reindex_all(op.get_bind())


def downgrade() -> None:
    op.execute(f"DROP TABLE {search.TABLE}")
