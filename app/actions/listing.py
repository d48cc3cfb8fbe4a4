"""Reading many actions: the moment they are read at (now, or as of the end of a past day,
rebuilt from their timelines), the filters, and the sort order."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, not_
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased, subqueryload
from sqlmodel import Session, col, select

from app.actions import search
from app.actions.derived import overdue_sql
from app.actions.models import Action, ActionEvent, ActionTheme, EventKind, Theme
from app.actions.schemas import ActionFilters
from app.actions.workflow import CLOSED, TRANSITIONS, Priority, Status
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
        """When an action's timeline last moved before the moment."""
        event = aliased(ActionEvent)
        return (
            select(func.max(event.at))
            .where(col(event.action_id) == col(Action.id), col(event.at) < self.now)
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
        return Moment(now=now, as_of=None, stale_days=settings.stale_days)
    if as_of > now.date():
        raise InvalidInput(f"as_of {as_of} is in the future", ["query", "as_of"])
    end_of_day = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=settings.tz)
    return Moment(now=end_of_day, as_of=as_of, stale_days=settings.stale_days)


def _overdue(moment: Moment) -> ColumnElement[bool]:
    due_on = cast(ColumnElement[Any], col(Action.due_on))
    return overdue_sql(due_on, moment.status(), moment.today)


def stale_clause(moment: Moment) -> ColumnElement[bool]:
    """SQL for: open, and no event in the last stale_days."""
    return and_(
        moment.status().not_in(list(CLOSED)),
        moment.last_event_at() < moment.now - timedelta(days=moment.stale_days),
    )


def filter_clauses(filters: ActionFilters, moment: Moment) -> list[ColumnElement[bool]]:
    """WHERE clauses selecting the actions that filters describe, at the moment."""
    clauses: list[ColumnElement[bool]] = []
    if moment.as_of is not None:
        clauses.append(moment.existing())
    if not filters.include_archived:
        clauses.append(moment.not_archived())
    if filters.status:
        clauses.append(moment.status().in_(filters.status))
    for field in ("owner_id", "kind", "priority", "source_id", "speech_id"):
        value = getattr(filters, field)
        if value is not None:
            clauses.append(getattr(Action, field) == value)
    if filters.theme is not None:
        clauses.append(
            col(Action.id).in_(
                select(ActionTheme.action_id)
                .join(Theme, col(Theme.id) == col(ActionTheme.theme_id))
                .where(Theme.name == filters.theme)
            )
        )
    for flag, clause in ((filters.overdue, _overdue), (filters.stale, stale_clause)):
        if flag is not None:
            clauses.append(clause(moment) if flag else not_(clause(moment)))
    if filters.due_before is not None:
        clauses.append(col(Action.due_on) < filters.due_before)
    if filters.due_after is not None:
        clauses.append(col(Action.due_on) > filters.due_after)
    if filters.updated_since is not None:
        since = filters.updated_since
        since = since if since.tzinfo else since.replace(tzinfo=moment.now.tzinfo)
        clauses.append(col(Action.updated_at) >= since)
    if filters.q and filters.q.strip():
        clauses.append(search.contains(filters.q.strip()))
    return clauses


SORT_FIELDS = (
    *("id", "title", "status", "priority", "progress", "due_on", "owner_id", "source_id"),
    *("quote_start", "created_at", "updated_at"),
)


def sortable(moment: Moment) -> dict[str, Any]:
    """The fields a list can be sorted by; status in workflow order, priority low → high
    (so sort=-priority puts the most important first)."""
    return {
        "id": col(Action.id),
        "title": col(Action.title),
        "status": case(
            {status.value: rank for rank, status in enumerate(TRANSITIONS)},
            value=moment.status(),
        ),
        "priority": case(
            {p.value: rank for rank, p in enumerate(reversed(Priority))}, value=Action.priority
        ),
        "progress": moment.progress(),
        "due_on": col(Action.due_on),
        "owner_id": col(Action.owner_id),
        "source_id": col(Action.source_id),
        "quote_start": col(Action.quote_start),
        "created_at": col(Action.created_at),
        "updated_at": col(Action.updated_at),
    }


def list_actions(
    session: Session, filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment
) -> tuple[list[tuple[Action, Status, int]], int]:
    """A page of (action, status, progress) at the moment, in a total order, and the total."""
    rows = all_actions(session, filters, sort, moment, page)
    return rows, count_actions(session, filters, moment)


def count_actions(session: Session | Connection, filters: ActionFilters, moment: Moment) -> int:
    """How many actions filters select at the moment."""
    where = filter_clauses(filters, moment)
    count: int = session.execute(
        sa_select(func.count()).select_from(Action).where(*where)
    ).scalar_one()
    return count


def selecting(
    query: AnySelect,
    filters: ActionFilters,
    sort: str | None,
    moment: Moment,
    page: PageParams | None = None,
) -> AnySelect:
    """query narrowed to the actions filters select, in a total order, or to a page of them."""
    # The sortable columns only when asked for: building them costs more than a page read.
    columns = sortable(moment) if sort else {}
    query = query.where(*filter_clauses(filters, moment)).order_by(
        *order_by(sort, columns, col(Action.id))
    )
    if page is not None:
        query = query.offset(page.offset).limit(page.limit)
    return query


def all_actions(
    session: Session,
    filters: ActionFilters,
    sort: str | None,
    moment: Moment,
    page: PageParams | None = None,
) -> list[tuple[Action, Status, int]]:
    """(action, status, progress) at the moment for every action filters select (or a page)."""
    columns = sa_select(Action, moment.status(), moment.progress())
    query = selecting(columns, filters, sort, moment, page)
    if page is None:
        # selectin would load the themes of every action in chunks of 500 ids, a statement
        # per 500 actions; one subquery load is a single statement however many there are.
        query = query.options(subqueryload(Action.themes))  # type: ignore[arg-type]
    return [
        (action, Status(status), progress) for action, status, progress in session.execute(query)
    ]
