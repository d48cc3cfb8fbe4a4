"""What an action does not store but is worked out from its fields and the day it is judged
on: overdue, expected progress (序时进度), the warning light (红黄绿灯) and due-soon.

Each rule comes in two forms side by side, which must agree (tests/actions/test_derived.py):
a Python function for the values of one action (the API's reads, report lines) and a SQL
expression builder for filtering and counting many in the database (list filters, /stats).
The SQL form takes its columns as arguments, so that a query can pass the stored column, an
as-of reconstruction of it, or a column of a CTE.

The light: an active action (accepted, in_progress, blocked, submitted) is red when overdue
or when its progress lags expected progress by red_lag points or more; yellow when blocked
or lagging by yellow_lag or more; green otherwise (also without a due date). Expected
progress is the share of the days from start_on to due_on gone by the day judged, rounded
down to a whole percentage and clamped to 0..100 (100 when due_on is not after start_on);
null without both dates. Due soon: active and due today or within remind_days after it (an
overdue action is overdue, not due soon)."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, and_, case, literal, null, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.actions.workflow import CLOSED, Status

# The statuses that have a light and can be due soon: work under way.
ACTIVE = (Status.accepted, Status.in_progress, Status.blocked, Status.submitted)


class Light(StrEnum):
    """红黄绿灯."""

    green = "green"
    yellow = "yellow"
    red = "red"


LIGHT_LABELS = {Light.green: "绿灯", Light.yellow: "黄灯", Light.red: "红灯"}


@dataclass(frozen=True)
class LightRules:
    """The thresholds of the light and of due-soon (settings light_red_lag,
    light_yellow_lag, remind_days_before)."""

    red_lag: int = 30
    yellow_lag: int = 10
    remind_days: int = 3


def is_overdue(due_on: date | None, status: Status, today: date) -> bool:
    """Due before today and still open."""
    return due_on is not None and due_on < today and status not in CLOSED


def overdue_sql(
    due_on: ColumnElement[Any], status: ColumnElement[Any], today: date
) -> ColumnElement[bool]:
    """SQL for is_overdue, over the given due_on and status columns."""
    return and_(due_on.is_not(None), due_on < today, status.not_in(list(CLOSED)))


def expected_progress(start_on: date | None, due_on: date | None, today: date) -> int | None:
    """序时进度: the whole percentage of the days from start_on to due_on gone by today."""
    if start_on is None or due_on is None:
        return None
    if due_on <= start_on or today >= due_on:
        return 100
    if today <= start_on:
        return 0
    return (today - start_on).days * 100 // (due_on - start_on).days


def light(
    status: Status,
    progress: int,
    start_on: date | None,
    due_on: date | None,
    today: date,
    rules: LightRules,
) -> Light | None:
    """The one rule that decides an action's light; None when it is not active."""
    if status not in ACTIVE:
        return None
    expected = expected_progress(start_on, due_on, today)
    lag = None if expected is None else expected - progress
    if is_overdue(due_on, status, today) or (lag is not None and lag >= rules.red_lag):
        return Light.red
    if status == Status.blocked or (lag is not None and lag >= rules.yellow_lag):
        return Light.yellow
    return Light.green


def is_due_soon(due_on: date | None, status: Status, today: date, rules: LightRules) -> bool:
    """Active and due today or within remind_days after it."""
    return (
        status in ACTIVE
        and due_on is not None
        and today <= due_on <= today + timedelta(days=rules.remind_days)
    )


class DaysBetween(FunctionElement[int]):
    """Whole days from the second date to the first, in the dialect's date arithmetic."""

    type = Integer()
    inherit_cache = True


@compiles(DaysBetween)
def _days_between_sqlite(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


@compiles(DaysBetween, "postgresql")
def _days_between_postgresql(element: DaysBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


def expected_progress_sql(
    start_on: ColumnElement[Any], due_on: ColumnElement[Any], today: date
) -> ColumnElement[Any]:
    """SQL for expected_progress, over the given start_on and due_on columns."""
    day = literal(today, Date)
    return case(
        (or_(start_on.is_(None), due_on.is_(None)), null()),
        (or_(due_on <= start_on, due_on <= day), 100),
        (start_on >= day, 0),
        else_=DaysBetween(day, start_on) * 100 / DaysBetween(due_on, start_on),
    )


def light_sql(
    status: ColumnElement[Any],
    progress: ColumnElement[Any],
    start_on: ColumnElement[Any],
    due_on: ColumnElement[Any],
    today: date,
    rules: LightRules,
) -> ColumnElement[Any]:
    """SQL for light: 'green', 'yellow', 'red' or NULL, over the given columns."""
    lag = expected_progress_sql(start_on, due_on, today) - progress
    return case(
        (status.not_in(list(ACTIVE)), null()),
        (or_(overdue_sql(due_on, status, today), lag >= rules.red_lag), Light.red.value),
        (or_(status == Status.blocked.value, lag >= rules.yellow_lag), Light.yellow.value),
        else_=Light.green.value,
    )


def due_soon_sql(
    due_on: ColumnElement[Any], status: ColumnElement[Any], today: date, rules: LightRules
) -> ColumnElement[bool]:
    """SQL for is_due_soon, over the given due_on and status columns."""
    return and_(
        status.in_(list(ACTIVE)),
        due_on.is_not(None),
        due_on >= today,
        due_on <= today + timedelta(days=rules.remind_days),
    )
