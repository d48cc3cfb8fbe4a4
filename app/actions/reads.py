"""The hot reads of actions (the list, the get) in their API shape, as JSON bytes.

Each runs whole in one thread-pool call (page_body, action_body) on one connection. A list
picks its page's ids with the filtered, sorted Core query (listing.selecting), then reads
those actions (owner and proposer joined in) and their themes with two statements compiled
once per dialect and run on the DBAPI cursor (app.db.DriverQuery); the get runs the same two.
The values come out of the column types already as ActionRead has them, and pydantic_core's
to_json writes them as ActionRead would. ORM objects, SQLAlchemy's per-statement work and
validating each ActionRead again each cost more than the queries themselves."""

import json
from collections import defaultdict
from collections.abc import Sequence
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
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.actions import listing
from app.actions.derived import is_overdue
from app.actions.listing import Moment
from app.actions.models import Action, ActionTheme, Theme
from app.actions.schemas import COPIED_FROM_ACTION, ActionFilters
from app.actions.workflow import (
    KIND_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    Status,
)
from app.db import DriverQuery, driver_cursor
from app.errors import NotFound
from app.pagination import PageParams
from app.sources.models import Speech
from app.units.models import Unit

_speech_unit = aliased(Unit)


@cache
def select_reads() -> Select[Any]:
    """The columns of ActionRead as the actions are now, with their owner and proposer."""
    columns = [cast(ColumnElement[Any], getattr(Action, name)) for name in COPIED_FROM_ACTION]
    return (
        select(
            *columns,
            col(Action.status),
            col(Action.progress),
            col(Action.owner_id),
            col(Unit.name).label("owner_name"),
            col(Speech.id).label("proposer_speech_id"),
            col(Speech.speaker).label("speaker"),
            col(Speech.unit_id).label("speaker_unit_id"),
            col(_speech_unit.name).label("speaker_unit_name"),
        )
        .join(Unit, col(Unit.id) == col(Action.owner_id))
        .outerjoin(Speech, col(Speech.id) == col(Action.speech_id))
        .outerjoin(_speech_unit, col(_speech_unit.id) == col(Speech.unit_id))
    )


def _read(row: dict[str, Any], themes: list[str], today: date) -> dict[str, Any]:
    """The ActionRead fields of a row of select_reads, in ActionRead's order (JSON keeps it)."""
    proposer = None
    if row["proposer_speech_id"] is not None:
        proposer = {
            "speaker": row["speaker"],
            "unit_id": row["speaker_unit_id"],
            "unit_name": row["speaker_unit_name"],
        }
    status = row["status"]
    # The label maps are keyed by StrEnums, which hash and compare as their text.
    return {
        "id": row["id"],
        "title": row["title"],
        "detail": row["detail"],
        "kind": row["kind"],
        "kind_label": KIND_LABELS[row["kind"]],
        "themes": themes,
        "source_id": row["source_id"],
        "speech_id": row["speech_id"],
        "proposer": proposer,
        "quote": row["quote"],
        "quote_start": row["quote_start"],
        "quote_end": row["quote_end"],
        "owner": {"id": row["owner_id"], "name": row["owner_name"]},
        "assignee": row["assignee"],
        "status": status,
        "status_label": STATUS_LABELS[status],
        "priority": row["priority"],
        "priority_label": PRIORITY_LABELS[row["priority"]],
        "progress": row["progress"],
        "due_on": row["due_on"],
        "overdue": is_overdue(row["due_on"], Status(status), today),
        "completed_at": row["completed_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "archived": row["archived"],
        "seed_key": row["seed_key"],
    }


def _is_one_of_ids(column: Any, dialect: Dialect) -> ColumnElement[bool]:
    """column is one of the ids bound as "ids": a JSON array on SQLite, an array on PostgreSQL;
    one statement for any number of ids."""
    if dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam("ids", type_=ARRAY(Integer))))
    each: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("ids"))
    )
    return cast(ColumnElement[bool], column.in_(each))


def _ids(ids: Sequence[int], dialect: Dialect) -> Any:
    return list(ids) if dialect.name == "postgresql" else json.dumps(list(ids))


@dataclass(frozen=True)
class _Queries:
    rows: DriverQuery  # the reads of the actions with the given ids
    themes: DriverQuery  # their theme names, by name


@cache
def _queries(dialect: Dialect) -> _Queries:
    themes = (
        select(col(ActionTheme.action_id), col(Theme.name))
        .join(Theme, col(Theme.id) == col(ActionTheme.theme_id))
        .where(_is_one_of_ids(col(ActionTheme.action_id), dialect))
        .order_by(col(Theme.name))
    )
    rows = select_reads().where(_is_one_of_ids(col(Action.id), dialect))
    return _Queries(DriverQuery.of(rows, dialect), DriverQuery.of(themes, dialect))


def _reads_of(connection: Connection, ids: Sequence[int], today: date) -> list[dict[str, Any]]:
    """The ActionRead fields of the actions with ids, in that order. Values straight from the
    database, already of ActionRead's types: pydantic's to_json writes them as ActionRead
    would, without validating each again (that cost more than the whole rest of a list)."""
    queries = _queries(connection.dialect)
    with driver_cursor(connection) as cursor:
        rows = queries.rows.rows(cursor, ids=_ids(ids, connection.dialect))
        themes: dict[int, list[str]] = defaultdict(list)
        for theme in queries.themes.rows(cursor, ids=_ids(ids, connection.dialect)):
            themes[theme["action_id"]].append(theme["name"])
    by_id = {row["id"]: row for row in rows}
    return [_read(by_id[i], themes.get(i, []), today) for i in ids if i in by_id]


def action_body(engine: Engine, action_id: int, today: date) -> tuple[bytes, int]:
    """The JSON of the action with action_id (archived ones too) now, and its version; or
    NotFound."""
    with engine.connect() as connection:
        connection.begin()  # its two statements read one snapshot
        found = _reads_of(connection, [action_id], today)
    if not found:
        raise NotFound(f"action {action_id} does not exist")
    return to_json(found[0]), found[0]["version"]


def page_body(
    engine: Engine, filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment
) -> tuple[bytes, int]:
    """The JSON of a page of the actions filters select at the moment, and their total."""
    # PostgreSQL reads every row a search matches from the table (its GIN index cannot count
    # them; a common word matches thousands on thousands of pages): counted as the page is
    # picked, not read again for the total. SQLite counts from its FTS table and the archived
    # index, and stops a page at its last row.
    counted = bool(filters.q and filters.q.strip()) and engine.dialect.name == "postgresql"
    columns = select(
        col(Action.id), moment.status().label("status"), moment.progress().label("progress")
    )
    query = listing.selecting(columns, filters, sort, moment, page, reads_every_match=counted)
    if counted:
        query = query.add_columns(func.count().over().label("total"))
    with engine.connect() as connection:
        connection.begin()  # the page and its total read one snapshot
        picked = connection.execute(query).all()
        reads = _reads_of(connection, [row.id for row in picked], moment.today)
        if counted and picked:
            total = picked[0].total
        else:
            total = listing.count_actions(connection, filters, moment)
    for read, row in zip(reads, picked, strict=True):
        if moment.as_of is not None:
            read |= _status_and_progress(row.status, row.progress, read["due_on"], moment.today)
    body = {"items": reads, "total": total, "limit": page.limit, "offset": page.offset}
    return to_json(body), total


def _status_and_progress(
    status: str, progress: int, due_on: date | None, today: date
) -> dict[str, Any]:
    return {
        "status": status,
        "status_label": STATUS_LABELS[Status(status)],
        "progress": progress,
        "overdue": is_overdue(due_on, Status(status), today),
    }
