"""Counts by status and theme, and the per-unit ranking used for 一季一排名."""

from collections import Counter, defaultdict
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.actions.listing import Moment, filter_clauses, stale_clause
from app.actions.models import Action, ActionTheme, Theme
from app.actions.schemas import ActionFilters, is_overdue
from app.actions.workflow import STATUS_LABELS, Status
from app.units.models import Unit

RANK_RULE = (
    "units are ranked by completion_rate (completed ÷ actions not declined), then "
    "average_progress, then fewer overdue, then more actions, then unit id; ranks are 1..n "
    "with no ties"
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


class UnitStats(BaseModel):
    """One owner unit's figures."""

    unit_id: int
    unit_name: str
    total: int
    completed: int
    in_progress: int
    blocked: int
    overdue: int
    completion_rate: float = Field(description="completed ÷ actions not declined, 0..1")
    average_progress: float = Field(description="mean progress of actions not declined, 0..100")
    rank: int = Field(description=RANK_RULE)


class Stats(BaseModel):
    """Figures over the selected actions."""

    total: int
    by_status: list[StatusCount]
    by_theme: list[ThemeCount]
    units: list[UnitStats]
    overdue: int
    stale: int
    stale_days: int
    as_of: date | None = Field(description="the day the figures are as of; null: now")
    rank_rule: str = RANK_RULE


def _unit_stats(unit: Unit, rows: list[tuple[Status, int, bool]]) -> UnitStats:
    statuses = Counter(status for status, _, _ in rows)
    counted = [progress for status, progress, _ in rows if status != Status.declined]
    assert unit.id is not None
    return UnitStats(
        unit_id=unit.id,
        unit_name=unit.name,
        total=len(rows),
        completed=statuses[Status.completed],
        in_progress=statuses[Status.in_progress],
        blocked=statuses[Status.blocked],
        overdue=sum(overdue for _, _, overdue in rows),
        completion_rate=round(statuses[Status.completed] / len(counted), 4) if counted else 0.0,
        average_progress=round(sum(counted) / len(counted), 2) if counted else 0.0,
        rank=0,
    )


def rank_units(units: list[UnitStats]) -> list[UnitStats]:
    """Order units by RANK_RULE and number them from 1."""
    ordered = sorted(
        units,
        key=lambda u: (-u.completion_rate, -u.average_progress, u.overdue, -u.total, u.unit_id),
    )
    return [u.model_copy(update={"rank": rank}) for rank, u in enumerate(ordered, start=1)]


def compute_stats(session: Session, filters: ActionFilters, moment: Moment) -> Stats:
    """Counts by status and theme, per-unit figures with rank, overdue and stale totals, at
    the moment (now, or as of the end of a past day)."""
    where = filter_clauses(filters, moment)
    rows = session.execute(
        sa_select(
            col(Action.owner_id),
            moment.status(),
            moment.progress(),
            col(Action.due_on),
        ).where(*where)
    ).all()
    per_unit: dict[int, list[tuple[Status, int, bool]]] = defaultdict(list)
    for owner_id, status, progress, due_on in rows:
        per_unit[owner_id].append((status, progress, is_overdue(due_on, status, moment.today)))
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(per_unit))).all()}
    statuses = Counter(status for _, status, _, _ in rows)
    theme_rows = session.exec(
        select(Theme.name, func.count())
        .join(ActionTheme, col(ActionTheme.theme_id) == col(Theme.id))
        .join(Action, col(Action.id) == col(ActionTheme.action_id))
        .where(*where)
        .group_by(Theme.name)
        .order_by(func.count().desc(), Theme.name)
    ).all()
    stale = session.exec(
        select(func.count()).select_from(Action).where(*where, stale_clause(moment))
    ).one()
    return Stats(
        total=len(rows),
        by_status=[
            StatusCount(status=s, label=STATUS_LABELS[s], count=statuses[s]) for s in Status
        ],
        by_theme=[ThemeCount(theme=name, count=count) for name, count in theme_rows],
        units=rank_units([_unit_stats(units[uid], r) for uid, r in per_unit.items()]),
        overdue=sum(overdue for unit_rows in per_unit.values() for _, _, overdue in unit_rows),
        stale=stale,
        stale_days=moment.stale_days,
        as_of=moment.as_of,
    )
