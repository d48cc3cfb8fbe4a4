"""Building the queries that select many actions: which ones (the filters), in what order
(the sort), and at what moment (now, or as of the end of a past day, with status, progress
and archiving rebuilt from the timelines). The list, /stats and the reports all select
through here, so a filter or sort field added here works in each of them.

- A new filter: a field of ActionFilters (schemas.py) and its clause in filter_clauses;
  a filter on a column of the same name only needs its name in EQUALITY_FILTERS.
- A new sort field: one entry in _SORTABLE.
- A rule worked out from several fields (overdue, the light, …): its SQL form in derived.py.
- The search filter (q) is built by search.py, which owns the index it reads.

Running the queries and shaping their rows is for the callers: reads.py (the API's list
and get), stats.py, app/reports/builder.py."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, not_, or_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from app.actions import search
from app.actions.derived import LightRules, light_sql, overdue_sql
from app.actions.models import Action, ActionCoOwner, ActionEvent, ActionTheme, EventKind, Theme
from app.actions.schemas import ActionFilters
from app.actions.workflow import CLOSED, TRANSITIONS, Priority
from app.config import Settings
from app.errors import InvalidInput
from app.pagination import PageParams, order_by

AnySelect = TypeVar("AnySelect", bound=Select[Any])


@dataclass(frozen=True)
class Moment:
    """When actions are read. Now: from their rows. As of a past day: status, progress and
    archiving from the last events before that day ended, in the deployment time zone."""

    now: datetime
    as_of: date | None
    stale_days: int
    lights: LightRules = field(default_factory=LightRules)  # thresholds of the light

    @property
    def today(self) -> date:
        """The calendar day overdue is judged against."""
        return self.as_of or self.now.date()

    def status(self) -> ColumnElement[Any]:
        """The status column or its as-of reconstruction."""
        if self.as_of is None:
            return cast(ColumnElement[Any], col(Action.status))
        return self._latest("to_status")

    def progress(self) -> ColumnElement[Any]:
        """The progress column or its as-of reconstruction."""
        if self.as_of is None:
            return cast(ColumnElement[Any], col(Action.progress))
        return self._latest("progress")

    def not_archived(self) -> ColumnElement[bool]:
        """Whether an action is not (or, as of a day, was not) archived."""
        if self.as_of is None:
            # "archived = 0" rather than "archived IS NOT 1": SQLite can then answer it from
            # the archived index alone, which a search's candidates are checked against.
            return col(Action.archived) == false()
        event = aliased(ActionEvent)
        return not_(
            exists()
            .where(
                col(event.action_id) == col(Action.id),
                col(event.kind) == EventKind.archived,
                col(event.at) < self.now,
            )
            .correlate(Action)
        )

    def existing(self) -> ColumnElement[bool]:
        """Actions that existed at the moment."""
        if self.as_of is None:
            return not_(false())
        return col(Action.created_at) < self.now

    def last_event_at(self) -> ColumnElement[Any]:
        """When an action's timeline last moved before the moment; a reminder or 催办 is the
        office pressing, not the action moving, so it does not count."""
        event = aliased(ActionEvent)
        return (
            select(func.max(event.at))
            .where(
                col(event.action_id) == col(Action.id),
                col(event.at) < self.now,
                col(event.kind) != EventKind.reminded,
            )
            .correlate(Action)
            .scalar_subquery()
        )

    def _latest(self, field: str) -> ColumnElement[Any]:
        """The field of the action's last event before the moment that sets it."""
        # An alias, so the subquery correlates with actions even inside queries on events.
        event = aliased(ActionEvent)
        column = getattr(event, field)
        return (
            select(column)
            .where(
                col(event.action_id) == col(Action.id),
                column.is_not(None),
                col(event.at) < self.now,
            )
            .order_by(col(event.id).desc())
            .limit(1)
            .correlate(Action)
            .scalar_subquery()
        )


def moment_for(settings: Settings, as_of: date | None) -> Moment:
    """The moment a request reads at: now, or the end of as_of (which may not be in the future)."""
    now = settings.now()
    if as_of is None:
        return Moment(
            now=now, as_of=None, stale_days=settings.stale_days, lights=settings.light_rules
        )
    if as_of > now.date():
        raise InvalidInput(f"as_of {as_of} is in the future", ["query", "as_of"])
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=settings.tz)
    return Moment(
        now=end_of_day, as_of=as_of, stale_days=settings.stale_days, lights=settings.light_rules
    )


# Filters that select the actions whose column of the same name has the value given.
EQUALITY_FILTERS = ("owner_id", "kind", "priority", "source_id", "speech_id")


def filter_clauses(
    filters: ActionFilters, moment: Moment, *, reads_every_match: bool = True
) -> list[ColumnElement[bool]]:
    """WHERE clauses selecting the actions that filters describe, at the moment.
    reads_every_match=False for a query that stops at a page of them (see search.contains)."""
    clauses = _existing_clauses(filters, moment)
    if filters.status:
        clauses.append(moment.status().in_(filters.status))
    for name in EQUALITY_FILTERS:
        if (value := getattr(filters, name)) is not None:
            clauses.append(getattr(Action, name) == value)
    if filters.theme is not None:
        clauses.append(_has_theme(filters.theme))
    if filters.co_owner_id is not None:
        clauses.append(_has_co_owner(filters.co_owner_id))
    if filters.unit_id is not None:
        unit = filters.unit_id
        clauses.append(or_(col(Action.owner_id) == unit, _has_co_owner(unit)))
    if filters.light:
        clauses.append(light_clause(moment).in_([value.value for value in filters.light]))
    for flag, clause in ((filters.overdue, overdue_clause), (filters.stale, stale_clause)):
        if flag is not None:
            clauses.append(clause(moment) if flag else not_(clause(moment)))
    clauses += _date_clauses(filters, moment)
    if filters.q and filters.q.strip():
        clauses.append(search.contains(filters.q.strip(), reads_every_match=reads_every_match))
    return clauses


def _existing_clauses(filters: ActionFilters, moment: Moment) -> list[ColumnElement[bool]]:
    """The actions that existed at the moment, and were not archived unless asked for."""
    clauses: list[ColumnElement[bool]] = []
    if moment.as_of is not None:
        clauses.append(moment.existing())
    if not filters.include_archived:
        clauses.append(moment.not_archived())
    return clauses


def _has_co_owner(unit_id: int) -> ColumnElement[bool]:
    """The unit cooperates on the action (配合单位); current co-owners, also as of a past day."""
    return col(Action.id).in_(
        select(ActionCoOwner.action_id).where(ActionCoOwner.unit_id == unit_id)
    )


def _has_theme(name: str) -> ColumnElement[bool]:
    return col(Action.id).in_(
        select(ActionTheme.action_id)
        .join(Theme, col(Theme.id) == col(ActionTheme.theme_id))
        .where(Theme.name == name)
    )


def _date_clauses(filters: ActionFilters, moment: Moment) -> list[ColumnElement[bool]]:
    """due_before, due_after and updated_since (an instant without an offset is read in the
    deployment time zone)."""
    clauses: list[ColumnElement[bool]] = []
    if filters.due_before is not None:
        clauses.append(col(Action.due_on) < filters.due_before)
    if filters.due_after is not None:
        clauses.append(col(Action.due_on) > filters.due_after)
    if (since := filters.updated_since) is not None:
        since = since if since.tzinfo else since.replace(tzinfo=moment.now.tzinfo)
        clauses.append(col(Action.updated_at) >= since)
    return clauses


def overdue_clause(moment: Moment) -> ColumnElement[bool]:
    """SQL for: overdue on the moment's day (derived.is_overdue), by the moment's status."""
    due_on = cast(ColumnElement[Any], col(Action.due_on))
    return overdue_sql(due_on, moment.status(), moment.today)


def light_clause(moment: Moment) -> ColumnElement[Any]:
    """SQL for: the light on the moment's day (derived.light), by the moment's status and
    progress."""
    return light_sql(
        moment.status(),
        moment.progress(),
        cast(ColumnElement[Any], col(Action.start_on)),
        cast(ColumnElement[Any], col(Action.due_on)),
        moment.today,
        moment.lights,
    )


def stale_clause(moment: Moment) -> ColumnElement[bool]:
    """SQL for: open, and no event in the stale_days before the moment.

    Now, from updated_at: every event but a reminder is written with the action's change
    (service.record sets updated_at to the event's time), so it is when the timeline last
    moved, and ix_actions_stale answers from the index alone instead of a max(at) per open
    action (tests/actions/test_stale.py holds the two to agreeing)."""
    cutoff = moment.now - timedelta(days=moment.stale_days)
    if moment.as_of is None:
        return and_(col(Action.updated_at) < cutoff, col(Action.status).not_in(list(CLOSED)))
    return and_(moment.status().not_in(list(CLOSED)), moment.last_event_at() < cutoff)


# What each sort field sorts by: status in workflow order, priority low → high (so
# sort=-priority puts the most important first).
_SORTABLE: dict[str, Callable[[Moment], Any]] = {
    "id": lambda _: col(Action.id),
    "title": lambda _: col(Action.title),
    "status": lambda moment: case(
        {status.value: rank for rank, status in enumerate(TRANSITIONS)}, value=moment.status()
    ),
    "priority": lambda _: case(
        {p.value: rank for rank, p in enumerate(reversed(Priority))}, value=Action.priority
    ),
    "progress": lambda moment: moment.progress(),
    "due_on": lambda _: col(Action.due_on),
    "owner_id": lambda _: col(Action.owner_id),
    "source_id": lambda _: col(Action.source_id),
    "quote_start": lambda _: col(Action.quote_start),
    "created_at": lambda _: col(Action.created_at),
    "updated_at": lambda _: col(Action.updated_at),
}
SORT_FIELDS = tuple(_SORTABLE)


def sortable(moment: Moment) -> dict[str, Any]:
    """The column each sort field sorts by, at the moment."""
    return {name: column(moment) for name, column in _SORTABLE.items()}


def selecting(
    query: AnySelect,
    filters: ActionFilters,
    sort: str | None,
    moment: Moment,
    page: PageParams | None = None,
    *,
    reads_every_match: bool = False,
) -> AnySelect:
    """query narrowed to the actions filters select, in a total order, or to a page of them.
    Such a query usually stops at a page or a chunk; reads_every_match=True when it also
    counts every match (count(*) OVER ()), see search.contains."""
    # The sortable columns only when asked for: building them costs more than a page read.
    columns = sortable(moment) if sort else {}
    where = filter_clauses(filters, moment, reads_every_match=reads_every_match)
    query = query.where(*where).order_by(*order_by(sort, columns, col(Action.id)))
    if page is not None:
        query = query.offset(page.offset).limit(page.limit)
    return query


def count_actions(connection: Connection, filters: ActionFilters, moment: Moment) -> int:
    """How many actions filters select at the moment."""
    where = filter_clauses(filters, moment)
    count: int = connection.execute(
        sa_select(func.count()).select_from(Action).where(*where)
    ).scalar_one()
    return count
