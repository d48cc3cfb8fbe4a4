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
from app.actions.derived import LightRules, expected_progress, is_due_soon, is_overdue, light
from app.actions.listing import Moment
from app.actions.models import Action, ActionCoOwner, ActionTheme, Theme
from app.actions.schemas import ActionFilters
from app.actions.workflow import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS
from app.db import DriverQuery, driver_cursor
from app.errors import NotFound
from app.evidence.models import Evidence
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


def _ids(ids: Sequence[int], dialect: Dialect) -> Any:
    return list(ids) if dialect.name == "postgresql" else json.dumps(list(ids))


@dataclass(frozen=True)
class _Queries:
    rows: DriverQuery  # the rows of the actions with the given ids
    lists: DriverQuery  # their theme names and cooperating units, by name


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
    return _Queries(DriverQuery.of(rows, dialect), DriverQuery.of(lists, dialect))


def _reads_of(
    connection: Connection, ids: Sequence[int], moment: Moment, states: Sequence[Row] | None = None
) -> list[Row]:
    """The ActionRead fields of the actions with ids, in that order, judged on the moment's
    day; states, when given, are the status and progress of each as of an earlier moment."""
    queries = _queries(connection.dialect)
    with driver_cursor(connection) as cursor:
        rows = queries.rows.rows(cursor, ids=_ids(ids, connection.dialect))
        themes: dict[int, list[str]] = defaultdict(list)
        co_owners: dict[int, list[Row]] = defaultdict(list)
        for item in queries.lists.rows(cursor, ids=_ids(ids, connection.dialect)):
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


def get_action_body(engine: Engine, action_id: int, moment: Moment) -> tuple[bytes, int]:
    """action_body on a connection of its own."""
    with engine.connect() as connection:
        connection.begin()  # its two statements read one snapshot
        return action_body(connection, action_id, moment)


def page_body(
    engine: Engine, filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment
) -> tuple[bytes, int]:
    """The JSON of a page of the actions filters select at the moment, and their total."""
    # PostgreSQL reads every row a search matches from the table (its GIN index cannot count
    # them; a common word matches thousands on thousands of pages): counted as the page is
    # picked, not read again for the total. SQLite counts from its FTS table and the archived
    # index, and stops a page at its last row.
    counted = bool(filters.q and filters.q.strip()) and engine.dialect.name == "postgresql"
    query = _page_query(filters, page, sort, moment, counted)
    with engine.connect() as connection:
        connection.begin()  # the page and its total read one snapshot
        picked = connection.execute(query).all()
        states = None
        if moment.as_of is not None:
            states = [{"status": row.status, "progress": row.progress} for row in picked]
        reads = _reads_of(connection, [row.id for row in picked], moment, states)
        if counted and picked:
            total = picked[0].total
        else:
            total = listing.count_actions(connection, filters, moment)
    body = {"items": reads, "total": total, "limit": page.limit, "offset": page.offset}
    return to_json(body), total


def _page_query(
    filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment, counted: bool
) -> Select[Any]:
    """The ids of a page's actions with their status and progress at the moment; counted:
    with the number of every match beside each."""
    columns = select(
        col(Action.id), moment.status().label("status"), moment.progress().label("progress")
    )
    query = listing.selecting(columns, filters, sort, moment, page, reads_every_match=counted)
    return query.add_columns(func.count().over().label("total")) if counted else query
