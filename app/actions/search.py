"""Full-text search over an action's title, detail and quote that finds words of any length.

Chinese has no spaces and its words are often two characters (招商, 党建), so an index of
words or of trigrams misses most queries. Here every character is a token with its position,
and a term is the phrase of its characters: 招商 is 招 followed by 商. The index is SQLite FTS5
(contentless) or a PostgreSQL tsvector under a GIN index, both fed the same document.

Changing `document` changes what is indexed: a migration must then call `reindex_all`.
"""

import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Select,
    and_,
    column,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement, func
from sqlmodel import col

from app.actions.models import Action

TABLE = "action_search"
# Letters and digits; everything else (space, punctuation, _) separates runs.
RUN = re.compile(r"[^\W_]+")
# A token no term can produce (terms give one-character tokens), placed between runs so that a
# phrase never spans punctuation or two fields.
RUN_BREAK = "zz"

BATCH_SIZE = 5000

search_table = table(TABLE, column("action_id"), column("document"))


def document(title: str, detail: str | None, quote: str) -> str:
    """The text the index tokenises: the characters of every run, space-separated."""
    runs = RUN.findall(f"{title}\n{detail or ''}\n{quote}".casefold())
    return f" {RUN_BREAK} ".join(" ".join(run) for run in runs)


class _Matches(FunctionElement[bool]):
    """SQL for: the action's document matches the query, a string FTS5 and PostgreSQL's
    websearch_to_tsquery read alike: quoted phrases, all required. Compiled per dialect."""

    name = "matches"
    type = Boolean()
    inherit_cache = True


@compiles(_Matches, "postgresql")
def _compile_postgresql(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    tsquery = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), *element.clauses)
    ids = select(search_table.c.action_id).where(search_table.c.document.op("@@")(tsquery))
    return compiler.process(col(Action.id).in_(ids), **kw)


@compiles(_Matches, "sqlite")
def _compile_sqlite(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    ids: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table(TABLE))
        .where(literal_column(TABLE).op("MATCH")(*element.clauses))
    )
    return compiler.process(col(Action.id).in_(ids), **kw)


def contains(term: str) -> ColumnElement[bool]:
    """SQL for: title, detail or quote contain term, case-insensitively.

    The index finds the actions that hold every run of letters and digits of the term; a term
    with anything else (spaces, punctuation, LIKE wildcards) is then checked whole with LIKE."""
    runs = RUN.findall(term.casefold())
    clauses: list[ColumnElement[bool]] = []
    if runs:
        clauses.append(_Matches(" ".join(f'"{" ".join(run)}"' for run in runs)))
    if runs != [term.casefold()]:
        pattern = f"%{_escape_like(term)}%"
        fields = (Action.title, Action.detail, Action.quote)
        clauses.append(or_(*(col(field).ilike(pattern, escape="\\") for field in fields)))
    return and_(*clauses)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def index(connection: Connection, action_id: int, new: str, old: str | None = None) -> None:
    """Index an action's document; old is the document indexed before, if any."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                f"INSERT INTO {TABLE} (action_id, document) "
                "VALUES (:id, to_tsvector('simple', :document)) "
                "ON CONFLICT (action_id) DO UPDATE SET document = excluded.document"
            ),
            {"id": action_id, "document": new},
        )
        return
    if old is not None:  # a contentless FTS5 table forgets a row only when told its tokens
        connection.execute(
            text(f"INSERT INTO {TABLE} ({TABLE}, rowid, document) VALUES ('delete', :id, :old)"),
            {"id": action_id, "old": old},
        )
    connection.execute(
        text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :document)"),
        {"id": action_id, "document": new},
    )


def index_many(connection: Connection, rows: Iterable[tuple[int, str, str | None, str]]) -> None:
    """Index actions not yet indexed, in bulk, from (id, title, detail, quote) rows."""
    if connection.dialect.name == "postgresql":
        statement = text(
            f"INSERT INTO {TABLE} (action_id, document) "
            "VALUES (:id, to_tsvector('simple', :document))"
        )
    else:
        statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :document)")
    pending = iter(rows)
    while batch := list(islice(pending, BATCH_SIZE)):
        connection.execute(
            statement,
            [
                {"id": id_, "document": document(title, detail, quote)}
                for id_, title, detail, quote in batch
            ],
        )


def reindex_all(connection: Connection) -> None:
    """Rebuild the whole index from the actions table."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DELETE FROM {TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')"))
    actions = connection.execute(text("SELECT id, title, detail, quote FROM actions")).all()
    index_many(connection, [(a.id, a.title, a.detail, a.quote) for a in actions])
