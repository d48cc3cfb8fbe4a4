"""Stale (open, no event for stale_days) is read from actions.updated_at now and from the
timeline as of a past day: the two must agree, so every write that leaves an event (but a
reminder) sets updated_at to that event's time."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    NOW,
    attach_evidence,
    get_action,
    patched_action,
    transitioned,
)

# updated_at is the time of the last event that is not a reminder, for every action.
DISAGREEING = text(
    "SELECT a.id, a.updated_at, (SELECT max(e.at) FROM action_events e "
    "WHERE e.action_id = a.id AND e.kind != 'reminded') AS last_moved "
    "FROM actions a"
)


def _disagreeing(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        rows = connection.execute(DISAGREEING).all()
    assert rows
    return [row for row in rows if _instant(row.updated_at) != _instant(row.last_moved)]


def _instant(value: Any) -> Any:
    """A timestamp as both databases give it back (SQLite: text without an offset, in UTC)."""
    return value if not isinstance(value, str) else value[:26]


def _stale_ids(client: TestClient, **params: Any) -> list[int]:
    response = client.get(ACTIONS, params={"stale": "true", "limit": 200, **params})
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["items"]]


def test_every_write_path_moves_updated_at_with_the_timeline(
    client: TestClient, seeded: SeedReport, engine: Engine, set_clock: Any
) -> None:
    set_clock("2026-11-28 09:00")
    patched_action(client, 1, {"title": "改个标题", "themes": ["招商引资"]})
    transitioned(client, 2, "accepted")
    set_clock("2026-11-29 09:00")
    transitioned(client, 2, "in_progress")
    version = get_action(client, 2)["version"]
    response = client.post(
        f"{ACTIONS}/2/updates",
        json={"note": "推进中", "progress": 30},
        headers={"If-Match": f'W/"{version}"'},
    )
    assert response.status_code == 200, response.text
    evidence = attach_evidence(client, 2)
    assert client.delete(f"/api/v1/evidence/{evidence['id']}").status_code == 200
    patched_action(client, 3, {"due_on": "2026-12-31"})
    transitioned(client, 3, "accepted")
    set_clock("2026-11-30 09:00")
    response = client.post(
        f"{ACTIONS}/3/extensions", json={"new_due_on": "2027-01-31", "reason": "等待审批"}
    )
    assert response.status_code == 201, response.text
    decided = client.post(
        f"{ACTIONS}/3/extensions/{response.json()['id']}/decision",
        json={"approve": True, "note": "同意"},
    )
    assert decided.status_code == 200, decided.text
    transitioned(client, 4, "accepted")
    response = client.post(f"{ACTIONS}/4/reminders", json={"note": "请加快"})
    assert response.status_code == 201, response.text
    version = get_action(client, 5)["version"]
    assert client.delete(f"{ACTIONS}/5", headers={"If-Match": f'W/"{version}"'}).status_code == 200

    assert _disagreeing(engine) == []


def test_stale_now_agrees_with_stale_rebuilt_from_the_timeline(
    client: TestClient, seeded: SeedReport, set_clock: Any
) -> None:
    for action_id in (1, 2, 3):
        transitioned(client, action_id, "accepted")
    set_clock("2027-01-01 09:00")
    transitioned(client, 2, "in_progress")
    response = client.post(f"{ACTIONS}/3/reminders", json={"note": "请加快"})
    assert response.status_code == 201, response.text
    # At the very end of a day, now and "as of that day" are the same moment.
    end = (NOW + timedelta(days=40)).replace(hour=23, minute=59, second=59, microsecond=999999)
    set_clock(end.strftime("%Y-%m-%d %H:%M:%S.%f"))
    day = end.date().isoformat()
    for stale_days in (1, 20, 39, 40, 41):
        now = client.get("/api/v1/stats", params={"stale_days": stale_days})
        as_of = client.get("/api/v1/stats", params={"stale_days": stale_days, "as_of": day})
        assert now.status_code == as_of.status_code == 200
        assert now.json()["stale"] == as_of.json()["stale"], stale_days
    now_ids = _stale_ids(client)
    assert now_ids == _stale_ids(client, as_of=day)
    assert 2 not in now_ids and {1, 3} <= set(now_ids)  # a 催办 is not the action moving


def test_stats_counts_the_stale_actions_the_list_finds_whatever_the_filters(
    client: TestClient, seeded: SeedReport, set_clock: Any
) -> None:
    """/stats counts its stale actions in the tallies' pass (from the columns, or from a
    selection made first when a filter needs other columns, such as priority) and, asked
    again between writes, alone: each the same as the list's stale=true, now and as of."""
    for action_id in (1, 2, 3, 4):
        transitioned(client, action_id, "accepted")
    set_clock("2027-01-01 09:00")
    transitioned(client, 2, "in_progress")
    assert client.post(f"{ACTIONS}/3/reminders", json={"note": "请加快"}).status_code == 201
    end = (NOW + timedelta(days=40)).replace(hour=23, minute=59, second=59, microsecond=999999)
    set_clock(end.strftime("%Y-%m-%d %H:%M:%S.%f"))
    action = get_action(client, 1)
    for filters in (
        {},
        {"owner_id": action["owner"]["id"]},
        {"priority": action["priority"]},
        {"status": "accepted"},
        {"stale": "true"},
        {"include_archived": "true"},
    ):
        expected = len(_stale_ids(client, **filters))
        for params in ({}, {}, {"as_of": end.date().isoformat()}):  # computed, kept, as of
            response = client.get("/api/v1/stats", params={**filters, **params})
            assert response.status_code == 200, response.text
            assert response.json()["stale"] == expected, (filters, params)
    assert len(_stale_ids(client)) >= 2
