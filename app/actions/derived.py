"""What an action does not store but is worked out from its fields and the day it is judged
on: overdue today; the warning light, expected progress and due-soon belong here next.

Each rule comes in two forms side by side, which must agree (tests/actions/test_derived.py):
a Python function for the values of one action (the API's reads, report lines) and a SQL
expression builder for filtering and counting many in the database (list filters, /stats).
The SQL form takes its columns as arguments, so that a query can pass the stored column, an
as-of reconstruction of it, or a column of a CTE."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_

from app.actions.workflow import CLOSED, Status


def is_overdue(due_on: date | None, status: Status, today: date) -> bool:
    """Due before today and still open."""
    return due_on is not None and due_on < today and status not in CLOSED


def overdue_sql(
    due_on: ColumnElement[Any], status: ColumnElement[Any], today: date
) -> ColumnElement[bool]:
    """SQL for is_overdue, over the given due_on and status columns."""
    return and_(due_on.is_not(None), due_on < today, status.not_in(list(CLOSED)))
