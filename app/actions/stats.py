"""/stats: counts by status and theme, overdue and stale totals, and the per-unit figures
and ranking used for 一季一排名, over the actions listing.filter_clauses selects at a moment.
Counted in the database; a rule over an action's fields (overdue, the light) comes from
derived.py.
The reports take their headline and ranking from here too."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, ColumnElement, and_, case, func, inspect, literal, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.actions.cache import ReadCache, filters_key
from app.actions.derived import ACTIVE, Light, light_sql, overdue_sql
from app.actions.listing import Moment, filter_clauses, stale_clause
from app.actions.models import Action, ActionCoOwner, ActionTheme, Theme
from app.actions.schemas import ActionFilters
from app.actions.workflow import STATUS_LABELS, Status
from app.generation import read_generation
from app.units.models import Unit

RANK_RULE = (
    "units are ranked by completion_rate (completed ÷ actions not declined), then "
    "average_progress, then fewer overdue, then fewer red (红灯), then more actions, then unit "
    "id; ranks are 1..n with no ties; a unit that leads none of the actions (only "
    "cooperates) has no rank (null)"
)


class StatusCount(BaseModel):
    """How many actions have one status."""

    status: Status
    label: str
    count: int


class ThemeCount(BaseModel):
    """How many actions carry one theme."""

    theme: str
    count: int


class LightCounts(BaseModel):
    """How many of the actions are lit green, yellow and red (active ones only)."""

    green: int = 0
    yellow: int = 0
    red: int = 0


class UnitStats(BaseModel):
    """One unit's figures: the actions it leads (total, lead_total and the rest) and how many
    it cooperates on (co_total). A unit that only cooperates is listed too, leading none."""

    unit_id: int
    unit_name: str
    total: int = Field(description="actions the unit leads (牵头), the same as lead_total")
    lead_total: int = Field(description="actions the unit leads (牵头单位)")
    co_total: int = Field(description="actions the unit cooperates on (配合单位)")
    completed: int
    in_progress: int
    submitted: int = Field(description="submitted for review (待审核), not yet approved")
    blocked: int
    overdue: int
    red: int = Field(description="actions the unit leads whose light is red (红灯)")
    lights: LightCounts = Field(description="the lights of the actions the unit leads")
    completion_rate: float = Field(description="completed ÷ actions not declined, 0..1")
    average_progress: float = Field(description="mean progress of actions not declined, 0..100")
    rank: int | None = Field(description=RANK_RULE)


class Stats(BaseModel):
    """Figures over the selected actions."""

    total: int
    by_status: list[StatusCount]
    by_theme: list[ThemeCount]
    units: list[UnitStats]
    overdue: int
    lights: LightCounts = Field(description="红黄绿灯: how many active actions have each light")
    stale: int
    stale_days: int
    as_of: date | None = Field(description="the day the figures are as of; null: now")
    rank_rule: str = RANK_RULE


@dataclass
class _UnitCounts:
    """One unit's actions, counted by status, with the progress and overdue totals."""

    statuses: Counter[Status] = field(default_factory=Counter)
    progress: dict[Status, int] = field(default_factory=lambda: defaultdict(int))
    overdue: int = 0
    stale: int = 0
    cooperating: int = 0
    lights: Counter[str] = field(default_factory=Counter)


def _unit_stats(unit: Unit, tally: _UnitCounts) -> UnitStats:
    statuses = tally.statuses
    counted = statuses.total() - statuses[Status.declined]
    progress = sum(total for status, total in tally.progress.items() if status != Status.declined)
    assert unit.id is not None
    return UnitStats(
        unit_id=unit.id,
        unit_name=unit.name,
        total=statuses.total(),
        lead_total=statuses.total(),
        co_total=tally.cooperating,
        completed=statuses[Status.completed],
        in_progress=statuses[Status.in_progress],
        submitted=statuses[Status.submitted],
        blocked=statuses[Status.blocked],
        overdue=tally.overdue,
        red=tally.lights[Light.red],
        lights=_light_counts(tally.lights),
        completion_rate=round(statuses[Status.completed] / counted, 4) if counted else 0.0,
        average_progress=round(progress / counted, 2) if counted else 0.0,
        rank=None,
    )


def _light_counts(lights: Counter[str]) -> LightCounts:
    return LightCounts(**{colour.value: lights[colour] for colour in Light})


def rank_units(units: list[UnitStats]) -> list[UnitStats]:
    """Order the units that lead actions by RANK_RULE and number them from 1; after them the
    units that only cooperate, unranked (a unit leading nothing has no record to rank)."""
    leading = sorted(
        (u for u in units if u.lead_total),
        key=lambda u: (
            -u.completion_rate,
            -u.average_progress,
            u.overdue,
            u.red,
            -u.total,
            u.unit_id,
        ),
    )
    ranked = [u.model_copy(update={"rank": rank}) for rank, u in enumerate(leading, start=1)]
    cooperating = sorted((u for u in units if not u.lead_total), key=lambda u: u.unit_id)
    return ranked + cooperating


def compute_stats(
    session: Session, filters: ActionFilters, moment: Moment, cache: ReadCache | None = None
) -> Stats:
    """Counts by status and theme, per-unit figures with rank, overdue and stale totals, at
    the moment (now, or as of the end of a past day). With cache (not as of a past day, nor
    stale=, whose cutoff moves with the clock), all but the stale count are kept by
    (filters, data generation, day): a dashboard asking again between writes costs the
    stale count, from its index."""
    if cache is None or moment.as_of is not None or filters.stale is not None:
        return _computed_stats(session, filters, moment)
    generation = read_generation(session.connection())  # first: the snapshot it keys
    key = (filters_key(filters), generation.data, moment.today)
    kept = cache.stats.get(key)
    if kept is None:
        kept = _computed_stats(session, filters, moment)
        cache.stats.put(key, kept)
        return kept
    stale = _stale_count(session, filter_clauses(filters, moment), moment)
    return kept.model_copy(update={"stale": stale, "stale_days": moment.stale_days})


def _stale_count(session: Session, where: list[ColumnElement[bool]], moment: Moment) -> int:
    """How many selected actions are stale, from ix_actions_stale."""
    return session.exec(
        select(func.count()).select_from(Action).where(*where, stale_clause(moment))
    ).one()


def _computed_stats(session: Session, filters: ActionFilters, moment: Moment) -> Stats:
    where = filter_clauses(filters, moment)
    unfiltered = _unfiltered(filters, moment)
    # Unfiltered, the stale count alone from ix_actions_stale costs less (3 ms at 100k) than
    # the tallies' pass counting it too (6 ms); filtered, it would read every selected row.
    per_unit = _tallies(session, filters, where, moment, count_stale=not unfiltered)
    cooperating = _link_counts(session, _CO_OWNER_LINKS, filters, where, moment)
    for unit_id, count in cooperating.items():
        if count > 0:
            per_unit[unit_id].cooperating = count
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(per_unit))).all()}
    statuses = sum((tally.statuses for tally in per_unit.values()), Counter[Status]())
    theme_rows = _theme_counts(session, filters, where, moment)
    return Stats(
        total=statuses.total(),
        by_status=[
            StatusCount(status=s, label=STATUS_LABELS[s], count=statuses[s]) for s in Status
        ],
        by_theme=[ThemeCount(theme=name, count=count) for name, count in theme_rows],
        units=rank_units([_unit_stats(units[uid], r) for uid, r in per_unit.items()]),
        overdue=sum(tally.overdue for tally in per_unit.values()),
        lights=_light_counts(sum((tally.lights for tally in per_unit.values()), Counter[str]())),
        stale=(
            _stale_count(session, where, moment)
            if unfiltered
            else sum(tally.stale for tally in per_unit.values())
        ),
        stale_days=moment.stale_days,
        as_of=moment.as_of,
    )


def _theme_counts(
    session: Session, filters: ActionFilters, where: list[ColumnElement[bool]], moment: Moment
) -> list[tuple[str, int]]:
    """(theme, how many selected actions carry it), most first, then by name."""
    counts = _link_counts(session, _THEME_LINKS, filters, where, moment)
    # By name in the database's collation, then (a stable sort) by count.
    themes = session.exec(
        select(Theme.id, Theme.name).where(col(Theme.id).in_(counts)).order_by(Theme.name)
    ).all()
    shown = [(name, counts[theme_id]) for theme_id, name in themes if theme_id is not None]
    rows = [(name, count) for name, count in shown if count > 0]
    return sorted(rows, key=lambda row: -row[1])


_NO_FILTER = ActionFilters().model_dump(exclude={"include_archived"})


def _unfiltered(filters: ActionFilters, moment: Moment) -> bool:
    """Every action (archived ones or not), now."""
    return moment.as_of is None and filters.model_dump(exclude={"include_archived"}) == _NO_FILTER


@dataclass(frozen=True)
class _Links:
    """A table linking actions to things (themes, cooperating units): its action column and
    the column of the thing counted."""

    action_id: Any
    key: Any


_THEME_LINKS = _Links(col(ActionTheme.action_id), col(ActionTheme.theme_id))
_CO_OWNER_LINKS = _Links(col(ActionCoOwner.action_id), col(ActionCoOwner.unit_id))


def _link_counts(
    session: Session,
    links: _Links,
    filters: ActionFilters,
    where: list[ColumnElement[bool]],
    moment: Moment,
) -> Counter[int]:
    """How many selected actions each theme (or unit) is linked to; may hold zeros.

    Unfiltered and now: every link counted from the key's index, less the links of archived
    actions (few) unless they count. Otherwise the links of the selected actions, found by
    IN rather than a join: SQLite then finds the selected actions first and their links by
    action_id, where with a join (and statistics from a full ANALYZE) it read every link
    through the key's index and looked up its action (due_before: 93 → 18 ms at 100k)."""
    if _unfiltered(filters, moment):
        counts = _count_links(session, links, None)
        if not filters.include_archived:
            # IN, not a join: SQLite then starts from the archived actions (few) instead
            # of probing every link's action (55 → 0.5 ms at 20k).
            counts.subtract(_count_links(session, links, col(Action.archived) == true()))
        return counts
    return _count_links(session, links, and_(*where))


def _count_links(
    session: Session, links: _Links, selecting: ColumnElement[bool] | None
) -> Counter[int]:
    """Links counted by key: all of them, or those of the actions selecting selects."""
    query = sa_select(links.key, func.count()).group_by(links.key)
    if selecting is not None:
        query = query.where(links.action_id.in_(sa_select(col(Action.id)).where(selecting)))
    return Counter({key: count for key, count in session.execute(query).all()})


def _tallies(
    session: Session,
    filters: ActionFilters,
    where: list[ColumnElement[bool]],
    moment: Moment,
    *,
    count_stale: bool,
) -> dict[int, _UnitCounts]:
    """Each owner unit's tally of the selected actions, counted in the database (a hundred
    thousand rows read into Python took seconds); the stale ones too if count_stale."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    columns = _tally_columns(filters, where, moment, sqlite=sqlite)
    stale = stale_clause(moment) if columns is _ACTIONS else columns.c.stale
    overdue = overdue_sql(columns.c.due_on, columns.c.status, moment.today)
    lit = light_sql(
        columns.c.status,
        columns.c.progress,
        columns.c.start_on,
        columns.c.due_on,
        moment.today,
        moment.lights,
    )
    # Grouped by (archived, owner_id, status), the order of ix_actions_unit_tallies, so
    # nothing is sorted (archived too, merged below, so that include_archived follows the index
    # from its first column): grouping by the light and overdue as well made SQLite sort
    # every row (61 → 27 ms CPU at 100k actions). The light is worked out once a row and its
    # colours summed as one number (_colour_digits); green is the rest of the active ones.
    query = sa_select(
        columns.c.owner_id,
        columns.c.status,
        func.count(),
        func.sum(columns.c.progress),
        func.sum(case((overdue, 1), else_=0)),
        func.sum(_colour_digits(lit)),
        func.sum(case((stale, 1), else_=0)) if count_stale else literal(0),
    ).group_by(columns.c.archived, columns.c.owner_id, columns.c.status)
    if columns is _ACTIONS:
        query = query.where(*where)
    tallies: dict[int, _UnitCounts] = defaultdict(_UnitCounts)
    for owner_id, status, count, progress, overdue_count, digits, stale_count in session.execute(
        query
    ):
        tally = tallies[owner_id]
        tally.stale += stale_count
        tally.statuses[Status(status)] += count
        tally.progress[Status(status)] += progress
        tally.overdue += overdue_count
        if status in ACTIVE:
            red, yellow = int(digits) % _YELLOW, int(digits) // _YELLOW
            tally.lights.update({Light.red: red, Light.yellow: yellow})
            tally.lights[Light.green] += count - red - yellow
    return tallies


# What one yellow light adds to a group's sum of colours, one red light adding 1: more than
# any count of actions, so the sum holds both counts apart.
_YELLOW = 1 << 32


def _colour_digits(light: ColumnElement[Any]) -> ColumnElement[Any]:
    """A row's share of its group's sum of colours: 1 for red, _YELLOW for yellow."""
    # CASE light WHEN …: the light is worked out once, where a CASE WHEN light = … would
    # work it out again for each colour tested.
    return case(
        {Light.red.value: literal(1, BigInteger), Light.yellow.value: literal(_YELLOW, BigInteger)},
        value=light,
        else_=literal(0, BigInteger),
    )


_ACTIONS = inspect(Action).local_table

# The filters ix_actions_unit_tallies answers (stale and updated_since by its updated_at),
# with the id (SQLite's rowid, in every index) that the theme and search filters test
# against their own indexes. Not unit_id and co_owner_id: they select few actions, found
# faster through the owner and co-owner indexes and sorted (unit_id: 8.3 → 1.7 ms at 100k)
# than by testing every entry of the index.
_INDEXED_FILTERS = {
    "status",
    "owner_id",
    "theme",
    "light",
    "overdue",
    "stale",
    "updated_since",
    "due_before",
    "due_after",
    "q",
    "include_archived",
}


def _tally_columns(
    filters: ActionFilters, where: list[ColumnElement[bool]], moment: Moment, *, sqlite: bool
) -> Any:
    """What a tally groups and sums: now and filtered by what ix_actions_unit_tallies holds,
    the columns of actions themselves (a plain GROUP BY over the index, no row read, the
    stale count included: the index ends with updated_at).
    Otherwise a materialized selection: as of a past day, so that the as-of status (a
    subquery per action) is worked out once per action, not again for the grouping and the
    overdue test; on SQLite, filtered by another column (kind, priority, source, speech) or
    by unit (see _INDEXED_FILTERS), so that it reads the rows the filter's own index finds
    (or all, in table order) and sorts them, rather than reading every row in index order to
    save the sort (priority=high: 113 → 37 ms at 100k). PostgreSQL groups the rows it reads
    in a hash table, in any order: materializing them first only cost it (52 → 62 ms)."""
    other_filters = filters.model_dump(exclude_defaults=True).keys() - _INDEXED_FILTERS
    if moment.as_of is None and not (sqlite and other_filters):
        return _ACTIONS
    return (
        sa_select(
            col(Action.archived).label("archived"),
            col(Action.owner_id).label("owner_id"),
            moment.status().label("status"),
            moment.progress().label("progress"),
            col(Action.due_on).label("due_on"),
            col(Action.start_on).label("start_on"),
            stale_clause(moment).label("stale"),
        )
        .where(*where)
        .cte("selected")
        .prefix_with("MATERIALIZED")
    )
