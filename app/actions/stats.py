"""Counts by status and theme, and the per-unit ranking used for 一季一排名."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.actions.models import Action, ActionEvent, ActionTheme, Theme
from app.actions.schemas import ActionFilters, is_overdue
from app.actions.service import filter_clauses
from app.actions.workflow import CLOSED, STATUS_LABELS, Status
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


def compute_stats(
    session: Session, filters: ActionFilters, now: datetime, stale_days: int
) -> Stats:
    """Counts by status and theme, per-unit figures with rank, overdue and stale totals."""
    where = filter_clauses(filters, now)
    rows = session.execute(
        sa_select(
            col(Action.id),
            col(Action.owner_id),
            col(Action.status),
            col(Action.progress),
            col(Action.due_on),
        ).where(*where)
    ).all()
    today = now.date()
    per_unit: dict[int, list[tuple[Status, int, bool]]] = defaultdict(list)
    for _, owner_id, status, progress, due_on in rows:
        per_unit[owner_id].append((status, progress, is_overdue(due_on, status, today)))
    units = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(per_unit))).all()}
    statuses = Counter(status for _, _, status, _, _ in rows)
    theme_rows = session.exec(
        select(Theme.name, func.count())
        .join(ActionTheme, col(ActionTheme.theme_id) == col(Theme.id))
        .join(Action, col(Action.id) == col(ActionTheme.action_id))
        .where(*where)
        .group_by(Theme.name)
        .order_by(func.count().desc(), Theme.name)
    ).all()
    return Stats(
        total=len(rows),
        by_status=[
            StatusCount(status=s, label=STATUS_LABELS[s], count=statuses[s]) for s in Status
        ],
        by_theme=[ThemeCount(theme=name, count=count) for name, count in theme_rows],
        units=rank_units([_unit_stats(units[uid], r) for uid, r in per_unit.items()]),
        overdue=sum(is_overdue(due_on, status, today) for _, _, status, _, due_on in rows),
        stale=_count_stale(session, where, now, stale_days),
        stale_days=stale_days,
    )


def _count_stale(
    session: Session, where: list[ColumnElement[bool]], now: datetime, stale_days: int
) -> int:
    """Open actions among where whose latest event is older than stale_days."""
    open_ids = select(Action.id).where(*where, col(Action.status).not_in(list(CLOSED)))
    cutoff = now - timedelta(days=stale_days)
    return session.exec(
        select(func.count()).select_from(
            select(ActionEvent.action_id)
            .where(col(ActionEvent.action_id).in_(open_ids))
            .group_by(col(ActionEvent.action_id))
            .having(func.max(ActionEvent.at) < cutoff)
            .subquery()
        )
    ).one()
