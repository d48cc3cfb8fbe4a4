"""Search over an action's title, detail and quote that finds words of any length: the index
and the clause that reads it (`contains`, the q filter of listing.filter_clauses). A field
to search besides title, detail and quote changes what is indexed (see the end).

Chinese has no spaces and its words are often two or three characters (党建, 孵化器), so an
index of words or of trigrams alone misses most queries. Here an action is indexed by the set
of its substrings of one to three characters: a term of up to three characters is one index
entry, so the index answers it exactly; a longer term needs all its three-character
substrings, and LIKE then confirms the candidates. Neither database checks positions
(PostgreSQL's GIN index holds none).

Punctuation, quote marks and spaces are ignored in both the term and the fields
(app.squash): 标准地改革 finds 加快“标准地”改革. Each field is squashed and indexed on its own,
and the confirming LIKE reads the SQL function search_squash.

- SQLite: a contentless FTS5 table of `grams`, kept in step by the services (`index`).
- PostgreSQL: a GIN expression index over the SQL function action_grams (migrations 0005 and
  0007), which computes the same words as `grams`; the database keeps it in step itself, and
  the actions' own rows are what a search reads, not a second wide table.

The caller says whether its query reads every match (a count, a page that counts them all)
or stops at a page: PostgreSQL is then asked to read its index in the way that suits each.

Changing `grams` (or action_grams) changes what is indexed: a migration must then replace
both and call `reindex_all`.
"""

from collections.abc import Iterable
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    Select,
    and_,
    cast,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement, func
from sqlmodel import col

from app.actions.models import Action
from app.squash import squash

TABLE = "action_search"  # SQLite
POSTGRESQL_INDEX = "ix_actions_search"
BATCH_SIZE = 5000
LONGEST = 3  # the longest indexed substring


def grams(*texts: str | None) -> str:
    """The index words of texts: each substring of one to LONGEST (three) characters of each
    squashed text, distinct, sorted (so the same texts always give the same words)."""
    return " ".join(sorted(gram_set(*texts)))


def gram_set(*texts: str | None) -> set[str]:
    """The words of grams, unordered."""
    words: set[str] = set()
    for run in map(squash, texts):
        pairs = list(map(str.__add__, run, run[1:]))
        words.update(run, pairs, map(str.__add__, pairs, run[2:]))
    words.discard("")
    return words


def _substrings(run: str, size: int) -> list[str]:
    return [run[start : start + size] for start in range(len(run) - size + 1)]


def _term_grams(run: str) -> list[str]:
    """The index words an action must have to contain run: itself, or its longest substrings."""
    return [run] if len(run) <= LONGEST else _substrings(run, LONGEST)


class _Matches(FunctionElement[bool]):
    """SQL for: the action's index holds every word of a space-separated list (which both
    FTS5 and plainto_tsquery read as "all of these"), in a query that reads every match (a
    count, a whole read, a page that also counts every match). Compiled per dialect.

    Untyped on purpose: as a Boolean, SQLite would get "IN (...) = 1", which cannot use
    the index."""

    name = "matches"
    inherit_cache = True


class _PageMatches(_Matches):
    """_Matches in a query that stops at a page (or a chunk) of the matches. A class of its
    own, not a flag, so that SQLAlchemy caches the two compiled forms apart."""

    inherit_cache = True


def _tsquery(element: _Matches) -> ScalarSelect[Any]:
    # The words are letters and digits only, so "a b" → "a & b" is a valid tsquery. They
    # come as a subquery, which the planner cannot see into: had it counted a common word's
    # many rows, it would read actions in id order and compute action_grams for each until a
    # page is full, rather than take the rows the index names.
    return select(cast(func.replace(*element.clauses, " ", " & "), TSQUERY)).scalar_subquery()


@compiles(_Matches, "postgresql")
def _compile_postgresql(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    # Every match is read anyway: once, straight from the index.
    indexed = func.action_grams(Action.title, Action.detail, Action.quote)  # as indexed
    return compiler.process(indexed.op("@@")(_tsquery(element)), **kw)


@compiles(_PageMatches, "postgresql")
def _compile_postgresql_page(element: _PageMatches, compiler: SQLCompiler, **kw: Any) -> str:
    # The ids of every match, then the rows (and their joins) of the page's only.
    found = aliased(Action)
    indexed = func.action_grams(found.title, found.detail, found.quote)
    ids = select(col(found.id)).where(indexed.op("@@")(_tsquery(element)))
    return compiler.process(col(Action.id).in_(ids), **kw)


@compiles(_Matches, "sqlite")
@compiles(_PageMatches, "sqlite")
def _compile_sqlite(element: _Matches, compiler: SQLCompiler, **kw: Any) -> str:
    ids: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table(TABLE))
        .where(literal_column(TABLE).op("MATCH")(*element.clauses))
    )
    return compiler.process(col(Action.id).in_(ids), **kw)


def contains(term: str, *, reads_every_match: bool) -> ColumnElement[bool]:
    """SQL for: title, detail or quote contain term, case-insensitively and ignoring
    punctuation and spaces. reads_every_match: whether the query reads every match (a count, a
    whole read, a page that also counts every match) rather than stopping at a page;
    PostgreSQL reads the index differently for each."""
    fields = (Action.title, Action.detail, Action.quote)
    squashed = squash(term)
    if not squashed:  # only punctuation: looked for as it is
        pattern = f"%{_escape_like(term)}%"
        return or_(*(col(field).ilike(pattern, escape="\\") for field in fields))
    words = " ".join(sorted(set(_term_grams(squashed))))
    found = _Matches(words) if reads_every_match else _PageMatches(words)
    if len(squashed) <= LONGEST:
        return found  # one index word: the index answers exactly
    # The index found candidates; only the term as a whole says which contain it.
    pattern = f"%{squashed}%"  # letters and digits only: nothing to escape
    return and_(found, or_(*(func.search_squash(field).like(pattern) for field in fields)))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def index(connection: Connection, action_id: int, new: str, old: str | None = None) -> None:
    """Index an action by its grams (new); old are the grams indexed before, if any.
    PostgreSQL's expression index needs no help."""
    if connection.dialect.name == "postgresql":
        return
    if old is not None:  # a contentless FTS5 table forgets a row only when told its words
        connection.execute(
            text(f"INSERT INTO {TABLE} ({TABLE}, rowid, document) VALUES ('delete', :id, :old)"),
            {"id": action_id, "old": old},
        )
    connection.execute(
        text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :grams)"),
        {"id": action_id, "grams": new},
    )


def index_many(connection: Connection, rows: Iterable[tuple[int, str, str | None, str]]) -> None:
    """Index actions not yet indexed, in bulk, from (id, title, detail, quote) rows.
    PostgreSQL's expression index needs no help."""
    if connection.dialect.name == "postgresql":
        return
    statement = text(f"INSERT INTO {TABLE} (rowid, document) VALUES (:id, :grams)")
    pending = iter(rows)
    while batch := list(islice(pending, BATCH_SIZE)):
        connection.execute(statement, [{"id": row[0], "grams": grams(*row[1:])} for row in batch])


def reindex_all(connection: Connection) -> None:
    """Rebuild the whole index from the actions table."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"REINDEX INDEX {POSTGRESQL_INDEX}"))
        return
    connection.execute(text(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')"))
    actions = connection.execute(text("SELECT id, title, detail, quote FROM actions")).all()
    index_many(connection, [(a.id, a.title, a.detail, a.quote) for a in actions])
