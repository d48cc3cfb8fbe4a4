"""Values derived from an action's fields and a day: the Python and SQL forms of each rule
agree, and every surface that shows one (the action, the list filter, /stats, the report)
uses that one rule."""

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, Engine, String, literal, select
from sqlmodel import Session

from app.actions.derived import is_overdue, overdue_sql
from app.actions.workflow import Status
from app.seeding.schemas import SeedReport
from tests.helpers import TODAY, set_status, write_action

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

DUE_DATES = [None, TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1)]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("due_on", DUE_DATES, ids=["none", "yesterday", "today", "tomorrow"])
def test_overdue_in_sql_is_overdue_in_python(
    engine: Engine, status: Status, due_on: date | None
) -> None:
    clause = overdue_sql(literal(due_on, Date), literal(status.value, String), TODAY)
    with engine.connect() as connection:
        in_sql = connection.execute(select(clause)).scalar_one()
    assert bool(in_sql) is is_overdue(due_on, status, TODAY)


def test_overdue_is_due_before_today_and_still_open() -> None:
    yesterday = TODAY - timedelta(days=1)
    assert is_overdue(yesterday, Status.in_progress, TODAY)
    assert not is_overdue(TODAY, Status.in_progress, TODAY)
    assert not is_overdue(yesterday, Status.completed, TODAY)
    assert not is_overdue(yesterday, Status.declined, TODAY)
    assert not is_overdue(None, Status.blocked, TODAY)


def test_every_surface_counts_the_same_actions_overdue(
    client: TestClient, session: Session, seeded: SeedReport
) -> None:
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    for action_id, due_on in ((4, yesterday), (5, yesterday), (6, TODAY.isoformat()), (7, None)):
        write_action(client, action_id, "patch", {"due_on": due_on})
    set_status(session, 5, Status.completed)
    listed: list[dict[str, Any]] = client.get("/api/v1/actions?limit=200").json()["items"]
    flagged = [action["id"] for action in listed if action["overdue"]]
    filtered = client.get("/api/v1/actions", params={"overdue": True}).json()["items"]
    report = client.get("/api/v1/reports/status", params={"format": "json"}).json()
    assert flagged == [4]
    assert [action["id"] for action in filtered] == flagged
    assert client.get("/api/v1/actions/4").json()["overdue"] is True
    assert client.get("/api/v1/stats").json()["overdue"] == len(flagged)
    assert [line["id"] for line in report["overdue"]] == flagged
