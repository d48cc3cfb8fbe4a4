"""Actions as the API shows them (ActionRead), written as JSON bytes: the list, the get, and
the answer of every write. action_read is the one place that turns an action's row into
ActionRead's fields.

A new field of ActionRead: declare it in schemas.ActionRead, then give it its value in
action_read, in ActionRead's order (the JSON keeps it). A column of actions is selected
already; a value from another table joins in _select_reads (one per action) or is read
beside the themes (a list per action); a value worked out from others (overdue, …) comes
from derived.py.

Why it is built this way: a list picks its page's ids with the filtered, sorted query of
listing.py, then reads those actions (owner and proposer joined in) and, in one statement,
their themes and cooperating units: two statements compiled once per dialect and run on the
DBAPI cursor (app.db.DriverQuery); the get and the writes' answers run the same two. The
values come out of the column types already as ActionRead has them, so pydantic_core's
to_json writes them as ActionRead would (tests/actions/test_read.py holds it to that, byte
for byte). ORM objects, SQLAlchemy's per-statement work and validating each ActionRead again
each cost more than the queries."""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, cast

from pydantic_core import to_json
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Dialect,
    Engine,
    Integer,
    ScalarSelect,
    Select,
    any_,
    bindparam,
    func,
    inspect,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.actions import listing
from app.actions.cache import ReadCache, action_key, filters_key
from app.actions.derived import LightRules, expected_progress, is_due_soon, is_overdue, light
from app.actions.filter_references import check_references, names_anything
from app.actions.listing import Moment
from app.actions.models import Action, ActionCoOwner, ActionTheme, Theme
from app.actions.schemas import ActionFilters
from app.actions.workflow import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS
from app.db import DriverQuery, LoopReads, begin_read, bound_ids, driver_cursor
from app.errors import NotFound
from app.evidence.models import Evidence
from app.generation import DataGeneration, Generation, read_generation
from app.pagination import PageParams
from app.sources.models import Speech
from app.units.models import Unit

Row = dict[str, Any]


def action_read(
    row: Row, themes: list[str], co_owners: list[Row], today: date, rules: LightRules
) -> Row:
    """The ActionRead fields of a row of _select_reads, the action's theme names and its
    cooperating units ({"id", "name"}), with overdue, expected progress, the light and
    due-soon judged against today."""
    # The label maps are keyed by StrEnums, which hash and compare as their text.
    status, kind, priority = row["status"], row["kind"], row["priority"]
    due_on, start_on, progress = row["due_on"], row["start_on"], row["progress"]
    return {
        "id": row["id"],
        "title": row["title"],
        "detail": row["detail"],
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "themes": themes,
        "source_id": row["source_id"],
        "speech_id": row["speech_id"],
        "proposer": _proposer(row),
        "quote": row["quote"],
        "quote_start": row["quote_start"],
        "quote_end": row["quote_end"],
        "owner": {"id": row["owner_id"], "name": row["owner_name"]},
        "co_owners": co_owners,
        "assignee": row["assignee"],
        "leader": row["leader"],
        "status": status,
        "status_label": STATUS_LABELS[status],
        "priority": priority,
        "priority_label": PRIORITY_LABELS[priority],
        "progress": progress,
        "due_on": due_on,
        "overdue": is_overdue(due_on, status, today),
        "original_due_on": row["original_due_on"],
        "extension_count": row["extension_count"],
        "start_on": start_on,
        "expected_progress": expected_progress(start_on, due_on, today),
        "light": light(status, progress, start_on, due_on, today, rules),
        "due_soon": is_due_soon(due_on, status, today, rules),
        "completed_at": row["completed_at"],
        "evidence_count": row["evidence_count"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "archived": row["archived"],
        "seed_key": row["seed_key"],
    }


def _proposer(row: Row) -> Row | None:
    """Who proposed the action: the speaker of its speech, if it lies in one."""
    if row["proposer_speech_id"] is None:
        return None
    return {
        "speaker": row["speaker"],
        "unit_id": row["speaker_unit_id"],
        "unit_name": row["speaker_unit_name"],
    }


def _evidence_count() -> ScalarSelect[Any]:
    """How many evidence files an action has, not withdrawn: counted on read (a page is at
    most 200 actions, each a probe of the evidence table's action_id index), so there is no
    counter to keep in step with uploads and withdrawals."""
    return (
        select(func.count())
        .where(col(Evidence.action_id) == col(Action.id), col(Evidence.withdrawn_at).is_(None))
        .correlate(Action)
        .scalar_subquery()
    )


def _select_reads() -> Select[Any]:
    """Every column of actions, with what action_read needs of its owner and its proposer,
    and its evidence count."""
    speech_unit = aliased(Unit)
    return (
        select(
            *inspect(Action).local_table.columns,
            _evidence_count().label("evidence_count"),
            col(Unit.name).label("owner_name"),
            col(Speech.id).label("proposer_speech_id"),
            col(Speech.speaker).label("speaker"),
            col(Speech.unit_id).label("speaker_unit_id"),
            col(speech_unit.name).label("speaker_unit_name"),
        )
        .join(Unit, col(Unit.id) == col(Action.owner_id))
        .outerjoin(Speech, col(Speech.id) == col(Action.speech_id))
        .outerjoin(speech_unit, col(speech_unit.id) == col(Speech.unit_id))
    )


def _is_one_of_ids(column: Any, dialect: Dialect) -> ColumnElement[bool]:
    """column is one of the ids bound as "ids": a JSON array on SQLite, an array on PostgreSQL;
    one statement for any number of ids."""
    if dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam("ids", type_=ARRAY(Integer))))
    each: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("ids"))
    )
    return cast(ColumnElement[bool], column.in_(each))


@dataclass(frozen=True)
class _Queries:
    rows: DriverQuery  # the rows of the actions with the given ids
    lists: DriverQuery  # their theme names and cooperating units, by name
    version: DriverQuery  # the generation, and the version of the action with the given id
    versions: DriverQuery  # the generation, and the ids and versions of those of the ids


@cache
def _queries(dialect: Dialect) -> _Queries:
    # One statement for both lists of an action: a theme's row has no unit_id.
    themes: Select[*tuple[Any, ...]] = (
        select(
            col(ActionTheme.action_id).label("action_id"),
            null().cast(Integer).label("unit_id"),
            col(Theme.name).label("name"),
        )
        .join(Theme, col(Theme.id) == col(ActionTheme.theme_id))
        .where(_is_one_of_ids(col(ActionTheme.action_id), dialect))
    )
    co_owners: Select[*tuple[Any, ...]] = (
        select(
            col(ActionCoOwner.action_id).label("action_id"),
            col(Unit.id).label("unit_id"),
            col(Unit.name).label("name"),
        )
        .join(Unit, col(Unit.id) == col(ActionCoOwner.unit_id))
        .where(_is_one_of_ids(col(ActionCoOwner.action_id), dialect))
    )
    both = union_all(themes, co_owners).subquery()
    lists = select(both).order_by(both.c.name, both.c.unit_id)
    rows = _select_reads().where(_is_one_of_ids(col(Action.id), dialect))
    version: Select[*tuple[Any, ...]] = (
        select(
            col(DataGeneration.generation).label("generation"),
            col(DataGeneration.shown).label("shown"),
            col(Action.version).label("version"),
        )
        .select_from(DataGeneration)
        .outerjoin(Action, col(Action.id) == bindparam("id", type_=Integer))
        .where(col(DataGeneration.id) == literal_column("1"))
    )
    versions: Select[*tuple[Any, ...]] = (
        select(
            col(DataGeneration.generation).label("generation"),
            col(DataGeneration.shown).label("shown"),
            col(Action.id).label("id"),
            col(Action.version).label("version"),
        )
        .select_from(DataGeneration)
        .outerjoin(Action, _is_one_of_ids(col(Action.id), dialect))
        .where(col(DataGeneration.id) == literal_column("1"))
    )
    return _Queries(
        DriverQuery.of(rows, dialect),
        DriverQuery.of(lists, dialect),
        DriverQuery.of(version, dialect),
        DriverQuery.of(versions, dialect),
    )


def _reads_of(
    connection: Connection, ids: Sequence[int], moment: Moment, states: Sequence[Row] | None = None
) -> list[Row]:
    """The ActionRead fields of the actions with ids, in that order, judged on the moment's
    day; states, when given, are the status and progress of each as of an earlier moment."""
    queries = _queries(connection.dialect)
    with driver_cursor(connection) as cursor:
        rows = queries.rows.rows(cursor, ids=bound_ids(ids, connection.dialect))
        themes: dict[int, list[str]] = defaultdict(list)
        co_owners: dict[int, list[Row]] = defaultdict(list)
        for item in queries.lists.rows(cursor, ids=bound_ids(ids, connection.dialect)):
            if item["unit_id"] is None:
                themes[item["action_id"]].append(item["name"])
            else:
                unit = {"id": item["unit_id"], "name": item["name"]}
                co_owners[item["action_id"]].append(unit)
    by_id = {row["id"]: row for row in rows}
    if states is not None:
        for action_id, state in zip(ids, states, strict=True):
            by_id[action_id] |= state
    return [
        action_read(by_id[i], themes.get(i, []), co_owners.get(i, []), moment.today, moment.lights)
        for i in ids
        if i in by_id
    ]


def action_body(connection: Connection, action_id: int, moment: Moment) -> tuple[bytes, int]:
    """The JSON of the action with action_id (archived ones too) and its version, read in
    connection's transaction and judged on the moment's day; or NotFound."""
    found = _reads_of(connection, [action_id], moment)
    if not found:
        raise NotFound(f"action {action_id} does not exist")
    return to_json(found[0]), found[0]["version"]


def get_action_body(
    engine: Engine, action_id: int, moment: Moment, cache: ReadCache | None = None
) -> tuple[bytes, int]:
    """action_body on a connection of its own; kept in cache by (id, version, shown
    generation, day), so that a kept action costs one indexed row read."""
    with engine.connect() as connection:
        begin_read(connection)
        if cache is None or moment.as_of is not None:
            return action_body(connection, action_id, moment)
        with driver_cursor(connection) as cursor:
            found = _queries(connection.dialect).version.rows(cursor, id=action_id)
        version: int | None = found[0]["version"]
        if version is None:
            raise NotFound(f"action {action_id} does not exist")
        key = action_key(action_id, version, found[0]["shown"], moment.today)
        if (kept := cache.actions.get(key)) is not None:
            return kept, version
        reads = _reads_of(connection, [action_id], moment)
        if not reads:
            raise NotFound(f"action {action_id} does not exist")
        body = to_json(reads[0])
        cache.actions.put(action_key(action_id, reads[0]["version"], key[2], key[3]), body)
        return body, reads[0]["version"]


async def kept_action_body(
    loop_reads: LoopReads, action_id: int, moment: Moment, cache: ReadCache
) -> tuple[bytes, int] | None:
    """The JSON of the action with action_id and its version when cache keeps it as it is
    now, found with a read on the event loop (shared with the requests waiting at once: see
    LoopReads.rows_among); None when it does not, or the loop reads nothing (get_action_body
    then); NotFound when there is no such action."""
    if moment.as_of is not None:
        return None
    found = await loop_reads.rows_among(_queries(loop_reads.dialect).versions, action_id)
    if found is None:
        return None
    version: int | None = next((row["version"] for row in found if row["id"] == action_id), None)
    if version is None:
        raise NotFound(f"action {action_id} does not exist")
    kept = cache.actions.get(action_key(action_id, version, found[0]["shown"], moment.today))
    return None if kept is None else (kept, version)


@dataclass(frozen=True)
class PageAnswer:
    """A list's answer: its JSON and total, and its ETag when it has one; no body when the
    client's copy (If-None-Match) is current."""

    body: bytes | None
    total: int
    etag: str | None


def page_body(
    engine: Engine,
    filters: ActionFilters,
    page: PageParams,
    sort: str | None,
    moment: Moment,
    cache: ReadCache | None = None,
    is_current: Callable[[str], bool] = lambda _: False,
    generation: Generation | None = None,
) -> PageAnswer:
    """The JSON of a page of the actions filters select at the moment, and their total; with
    cache, totals and actions' JSON kept (not as of a past day), and an ETag from the query,
    the data generation and the day, checked with is_current before any row is read; or
    InvalidInput when filters name a unit, source, speech or theme that does not exist.
    generation: as kept_page_answer read it just before, not read again (what is read after
    it is as new as it, or newer: a cached value is never older than its key)."""
    # PostgreSQL reads every row a search matches from the table (its GIN index cannot count
    # them; a common word matches thousands on thousands of pages): counted as the page is
    # picked, not read again for the total. SQLite counts from its FTS table and the archived
    # index, and stops a page at its last row.
    counted = bool(filters.q and filters.q.strip()) and engine.dialect.name == "postgresql"
    query = _page_query(filters, page, sort, moment, counted)
    keeps = cache is not None and moment.as_of is None
    with engine.connect() as connection:
        begin_read(connection)  # the generation, then the page and its total
        generation = generation or read_generation(connection)
        etag, answer = _kept_answer(filters, page, sort, moment, generation, cache, is_current)
        if answer is not None:
            return answer
        pages = cache.pages if keeps and cache else None
        totals = cache.totals if keeps and _keeps_total(filters) and cache else None
        total_key = (filters_key(filters), generation.data, moment.today)
        total = totals.get(total_key) if totals is not None else None
        # A unit, source, speech or theme named must exist (else 422). Not asked again of an
        # ETag, a kept page or a kept total: they were made at this generation, when it did
        # (adding or removing one advances the generation).
        if total is None and names_anything(filters):
            check_references(connection, filters, ["query"])
        picked = connection.execute(query).all()
        if keeps:
            assert cache is not None
            items = _kept_items(connection, picked, moment, generation, cache)
        else:
            states = None
            if moment.as_of is not None:
                states = [{"status": row.status, "progress": row.progress} for row in picked]
            reads = _reads_of(connection, [row.id for row in picked], moment, states)
            items = [to_json(read) for read in reads]
        if total is None:
            if counted and picked:
                total = int(picked[0].total)
            else:
                total = listing.count_actions(connection, filters, moment)
            if totals is not None:
                totals.put(total_key, total)
    tail = f'],"total":{total},"limit":{page.limit},"offset":{page.offset}}}'
    body = b'{"items":[' + b",".join(items) + tail.encode()
    if pages is not None and etag is not None:
        pages.put(etag, (body, total))
    return PageAnswer(body, total, etag)


async def kept_page_answer(
    loop_reads: LoopReads,
    filters: ActionFilters,
    page: PageParams,
    sort: str | None,
    moment: Moment,
    cache: ReadCache,
    is_current: Callable[[str], bool],
) -> tuple[Generation | None, PageAnswer | None]:
    """page_body's answer when it needs no row of actions (the client's copy is current, or
    the page is kept), found with a read of the generation on the event loop (shared with
    the requests waiting at once); else None, with the generation read, for page_body.
    (None, None) when the loop reads nothing."""
    found = await loop_reads.rows_among(_queries(loop_reads.dialect).versions, None)
    if found is None:
        return None, None
    generation = Generation(found[0]["generation"], found[0]["shown"])
    _, answer = _kept_answer(filters, page, sort, moment, generation, cache, is_current)
    return generation, answer


def _kept_answer(
    filters: ActionFilters,
    page: PageParams,
    sort: str | None,
    moment: Moment,
    generation: Generation,
    cache: ReadCache | None,
    is_current: Callable[[str], bool],
) -> tuple[str | None, PageAnswer | None]:
    """The list's ETag at generation, and its answer when no row need be read: none when the
    client's copy is current, the kept page when there is one."""
    etag = _list_etag(filters, page, sort, moment, generation)
    if etag is None:
        return None, None
    if is_current(etag):
        return etag, PageAnswer(None, 0, etag)
    pages = cache.pages if cache is not None and moment.as_of is None else None
    kept = pages.get(etag) if pages is not None else None
    return etag, None if kept is None else PageAnswer(*kept, etag)


def _keeps_total(filters: ActionFilters) -> bool:
    """Whether a total stays right while the data and the day stay: not stale's, whose
    cutoff moves with the clock."""
    return filters.stale is None


def _list_etag(
    filters: ActionFilters,
    page: PageParams,
    sort: str | None,
    moment: Moment,
    generation: Generation,
) -> str | None:
    """W/"<digest of the query, the data generation and the day>"; none for stale=, whose
    answer changes with the clock alone."""
    if not _keeps_total(filters):
        return None
    query = f"{filters_key(filters)}|{page.limit}|{page.offset}|{sort}|{moment.as_of}"
    text = f"{query}|{generation.data}|{moment.today}"
    return f'W/"{hashlib.blake2b(text.encode(), digest_size=12).hexdigest()}"'


def _kept_items(
    connection: Connection,
    picked: Sequence[Any],
    moment: Moment,
    generation: Generation,
    cache: ReadCache,
) -> list[bytes]:
    """The JSON of each picked action, from the cache or read (and kept)."""
    keys = [action_key(row.id, row.version, generation.shown, moment.today) for row in picked]
    kept = [cache.actions.get(key) for key in keys]
    missing = [row.id for row, body in zip(picked, kept, strict=True) if body is None]
    if missing:
        read = {r["id"]: r for r in _reads_of(connection, missing, moment)}
        for index, body in enumerate(kept):
            if body is None and (row := read.get(picked[index].id)) is not None:
                kept[index] = made = to_json(row)
                # Keyed by the version read: on PostgreSQL a later statement may see a newer one.
                key = action_key(row["id"], row["version"], generation.shown, moment.today)
                cache.actions.put(key, made)
    return [body for body in kept if body is not None]


def _page_query(
    filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment, counted: bool
) -> Select[Any]:
    """The ids of a page's actions with their status and progress at the moment; counted:
    with the number of every match beside each."""
    columns = select(
        col(Action.id),
        moment.status().label("status"),
        moment.progress().label("progress"),
        col(Action.version).label("version"),
    )
    query = listing.selecting(columns, filters, sort, moment, page, reads_every_match=counted)
    return query.add_columns(func.count().over().label("total")) if counted else query
