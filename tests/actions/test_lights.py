"""Warning lights (红黄绿灯), expected progress (序时进度) and due-soon: the one rule that
decides them (derived.light and its SQL twin, pinned by one table) and every read that
shows them: the get, the list, the answer of a write, and as of a day."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, Engine, Integer, String, literal, select

from app.actions.derived import (
    LightRules,
    due_soon_sql,
    expected_progress,
    expected_progress_sql,
    is_due_soon,
    light,
    light_sql,
)
from app.actions.stats import LightCounts, UnitStats, rank_units
from app.actions.workflow import Status
from tests.helpers import (
    TODAY,
    assert_explained_problem,
    created_action,
    get_action,
    listed_ids,
    patched_action,
    transitioned,
)

pytestmark = pytest.mark.calendar

RULES = LightRules()
START, DUE, JUDGED = date(2026, 1, 1), date(2026, 12, 31), date(2026, 7, 2)

# status, progress, start_on, due_on, day judged → expected progress, light
LIGHTS: list[tuple[Status, int, date | None, date | None, date, int | None, str | None]] = [
    (Status.in_progress, 45, START, DUE, JUDGED, 50, "green"),
    (Status.in_progress, 35, START, DUE, JUDGED, 50, "yellow"),
    (Status.in_progress, 15, START, DUE, JUDGED, 50, "red"),
    (Status.in_progress, 41, START, DUE, JUDGED, 50, "green"),  # lag 9
    (Status.in_progress, 40, START, DUE, JUDGED, 50, "yellow"),  # lag 10
    (Status.in_progress, 21, START, DUE, JUDGED, 50, "yellow"),  # lag 29
    (Status.in_progress, 20, START, DUE, JUDGED, 50, "red"),  # lag 30
    (Status.accepted, 100, START, DUE, date(2027, 1, 1), 100, "red"),  # past due
    (Status.submitted, 90, START, DUE, date(2027, 1, 1), 100, "red"),
    (Status.blocked, 60, START, DUE, JUDGED, 50, "yellow"),
    (Status.blocked, 0, START, DUE, JUDGED, 50, "red"),
    (Status.in_progress, 0, START, None, JUDGED, None, "green"),  # no due date
    (Status.blocked, 0, None, None, JUDGED, None, "yellow"),
    (Status.accepted, 0, None, DUE, JUDGED, None, "green"),  # no start: no lag
    (Status.accepted, 0, START, DUE, date(2025, 12, 1), 0, "green"),  # not started yet
    (Status.accepted, 0, START, START, JUDGED, 100, "red"),  # start == due, past it
    (Status.accepted, 100, JUDGED, JUDGED, JUDGED, 100, "green"),  # start == due == today
    (Status.accepted, 0, DUE, START, date(2025, 6, 1), 100, "red"),  # due before start
    (Status.proposed, 0, START, DUE, JUDGED, 50, None),
    (Status.completed, 100, START, DUE, date(2027, 1, 1), 100, None),
    (Status.declined, 0, START, DUE, date(2027, 1, 1), 100, None),
]


@pytest.mark.parametrize(
    ("status", "progress", "start_on", "due_on", "today", "expected", "colour"), LIGHTS
)
def test_the_one_rule_decides_the_light(
    engine: Engine,
    status: Status,
    progress: int,
    start_on: date | None,
    due_on: date | None,
    today: date,
    expected: int | None,
    colour: str | None,
) -> None:
    assert expected_progress(start_on, due_on, today) == expected
    assert light(status, progress, start_on, due_on, today, RULES) == colour
    columns = (literal(start_on, Date), literal(due_on, Date))
    in_sql = select(
        expected_progress_sql(*columns, today),
        light_sql(
            literal(status.value, String), literal(progress, Integer), *columns, today, RULES
        ),
    )
    with engine.connect() as connection:
        assert tuple(connection.execute(in_sql).one()) == (expected, colour)


def test_thresholds_are_the_rules() -> None:
    strict = LightRules(red_lag=20, yellow_lag=5)
    assert light(Status.in_progress, 45, START, DUE, JUDGED, strict) == "yellow"
    assert light(Status.in_progress, 30, START, DUE, JUDGED, strict) == "red"


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("days", [None, -1, 0, 1, 3, 4])
def test_due_soon_is_active_and_due_today_or_within_the_days_before(
    engine: Engine, status: Status, days: int | None
) -> None:
    due_on = None if days is None else TODAY + timedelta(days=days)
    active = status in (Status.accepted, Status.in_progress, Status.blocked, Status.submitted)
    assert is_due_soon(due_on, status, TODAY, RULES) is (active and days in (0, 1, 3))
    clause = due_soon_sql(literal(due_on, Date), literal(status.value, String), TODAY, RULES)
    with engine.connect() as connection:
        in_sql = connection.execute(select(clause)).scalar_one()
    assert bool(in_sql) is is_due_soon(due_on, status, TODAY, RULES)


def _judged(action: dict[str, Any]) -> tuple[Any, Any, Any]:
    return action["expected_progress"], action["light"], action["due_soon"]


@pytest.mark.usefixtures("seeded")
def test_every_read_shows_the_light(client: TestClient, set_clock: Callable[[str], None]) -> None:
    set_clock("2026-07-02 09:00")
    created = created_action(client, start_on="2026-01-01", due_on="2026-12-31")
    assert _judged(created) == (50, None, False)
    accepted = transitioned(client, created["id"], "accepted")
    assert _judged(accepted) == (50, "red", False)
    for progress, colour in ((45, "green"), (35, "yellow"), (15, "red")):
        answer = patched_action(client, created["id"], {"progress": progress})
        assert _judged(answer) == (50, colour, False)
        assert _judged(get_action(client, created["id"])) == (50, colour, False)
        assert created["id"] in listed_ids(client, light=colour)
        listed = client.get("/api/v1/actions", params={"limit": 200}).json()["items"]
        assert [_judged(a) for a in listed if a["id"] == created["id"]] == [(50, colour, False)]
    soon = patched_action(client, created["id"], {"due_on": "2026-07-05", "progress": 90})
    assert _judged(soon) == (98, "green", True)
    set_clock("2026-07-06 09:00")
    assert _judged(get_action(client, created["id"])) == (100, "red", False)  # overdue


@pytest.mark.usefixtures("seeded")
def test_as_of_a_day_judges_the_light_on_that_day(
    client: TestClient, set_clock: Callable[[str], None]
) -> None:
    set_clock("2026-07-02 09:00")
    action = created_action(client, start_on="2026-01-01", due_on="2026-12-31")
    transitioned(client, action["id"], "accepted")
    patched_action(client, action["id"], {"progress": 45})
    set_clock("2026-10-01 09:00")
    assert _judged(get_action(client, action["id"])) == (75, "red", False)
    past = client.get("/api/v1/actions", params={"as_of": "2026-07-02", "light": "green"})
    assert past.status_code == 200, past.text
    items = {a["id"]: a for a in past.json()["items"]}
    assert _judged(items[action["id"]]) == (50, "green", False)
    earlier = client.get("/api/v1/actions", params={"as_of": "2026-07-01", "limit": 200})
    before = {a["id"]: a for a in earlier.json()["items"]}
    assert action["id"] not in before  # created on 2 July


@pytest.mark.usefixtures("seeded")
def test_the_light_filter_is_repeatable_and_checked(client: TestClient) -> None:
    every = client.get("/api/v1/actions", params={"limit": 200}).json()["items"]
    by_light: dict[Any, set[int]] = {}
    for action in every:
        by_light.setdefault(action["light"], set()).add(action["id"])
    for colour in ("green", "yellow", "red"):
        assert set(listed_ids(client, light=colour)) == by_light.get(colour, set())
    both = set(listed_ids(client, light=["red", "yellow"]))
    assert both == by_light.get("red", set()) | by_light.get("yellow", set())
    bad = client.get("/api/v1/actions", params={"light": "blue"})
    assert_explained_problem(bad, 422, ["query", "light", 0])


def _lit_world(client: TestClient, set_clock: Callable[[str], None]) -> list[dict[str, Any]]:
    """Four actions of one unit at 2 July 2026, started 1 Jan and due 31 Dec: green (45%),
    yellow (35%), red (15%) and blocked (yellow); and one proposed (no light)."""
    set_clock("2026-07-02 09:00")
    made = []
    for progress in (45, 35, 15, 60, None):
        action = created_action(client, start_on="2026-01-01", due_on="2026-12-31")
        if progress is not None:
            transitioned(client, action["id"], "accepted")
            action = patched_action(client, action["id"], {"progress": progress})
        made.append(action)
    made[3] = transitioned(client, made[3]["id"], "blocked", note="等待用地指标")
    return made


@pytest.mark.usefixtures("seeded")
def test_stats_count_the_lights_overall_per_unit_and_in_the_ranking(
    client: TestClient, set_clock: Callable[[str], None]
) -> None:
    made = _lit_world(client, set_clock)
    assert [a["light"] for a in made] == ["green", "yellow", "red", "yellow", None]
    listed = client.get("/api/v1/actions", params={"limit": 200}).json()["items"]
    expected = {colour: sum(a["light"] == colour for a in listed) for colour in LIGHT_NAMES}
    stats = client.get("/api/v1/stats").json()
    assert stats["lights"] == expected
    owner = made[0]["owner"]["id"]
    unit = next(u for u in stats["units"] if u["unit_id"] == owner)
    mine = [a for a in listed if a["owner"]["id"] == owner]
    assert unit["lights"] == {c: sum(a["light"] == c for a in mine) for c in LIGHT_NAMES}
    assert unit["red"] == unit["lights"]["red"] >= 1
    assert "fewer red" in stats["rank_rule"]
    assert sum(u["red"] for u in stats["units"]) == expected["red"]
    red_only = client.get("/api/v1/stats", params={"light": "red"}).json()
    assert red_only["lights"] == {"green": 0, "yellow": 0, "red": expected["red"]}
    assert red_only["total"] == expected["red"]
    two = client.get("/api/v1/stats", params={"light": ["green", "yellow"]}).json()
    assert two["total"] == expected["green"] + expected["yellow"]
    assert_explained_problem(client.get("/api/v1/stats", params={"light": "x"}), 422)
    set_clock("2026-10-01 09:00")
    as_of = client.get("/api/v1/stats", params={"as_of": "2026-07-02"}).json()
    assert as_of["lights"] == expected
    later = client.get("/api/v1/stats").json()["lights"]
    assert later["red"] > expected["red"]  # three months on, 45% lags 75% by 30


def test_ranking_puts_fewer_red_before_more() -> None:
    def unit(unit_id: int, red: int) -> UnitStats:
        return UnitStats(
            unit_id=unit_id,
            unit_name=f"单位{unit_id}",
            total=3,
            lead_total=3,
            co_total=0,
            completed=1,
            in_progress=2,
            submitted=0,
            blocked=0,
            overdue=0,
            red=red,
            lights=LightCounts(red=red),
            completion_rate=0.3333,
            average_progress=50.0,
            rank=None,
        )

    ranked = rank_units([unit(1, 2), unit(2, 1)])
    assert [(u.unit_id, u.rank) for u in ranked] == [(2, 1), (1, 2)]


LIGHT_NAMES = ("green", "yellow", "red")
