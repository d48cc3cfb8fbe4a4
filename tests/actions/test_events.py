"""GET /api/v1/actions/{id}/events: the timeline of an action, oldest first and paged; and
it is append-only: no route edits or deletes an event, and the database itself refuses
UPDATE and DELETE on the events table (triggers on SQLite and PostgreSQL)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    assert_explained_problem,
    created_action,
    next_link,
    patched_action,
)


def test_events_of_a_new_action_start_with_created(client: TestClient, seeded: SeedReport) -> None:
    action = created_action(client)
    patched_action(client, action["id"], {"progress": 10})
    patched_action(client, action["id"], {"progress": 20})
    response = client.get(f"{ACTIONS}/{action['id']}/events")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    items = body["items"]
    assert [e["kind"] for e in items] == ["created", "updated", "updated"]
    first = items[0]
    assert first["actor"] == "test-admin"  # the key the client sends
    assert first["to_status"] == "proposed"
    assert first["from_status"] is None
    assert first["progress"] == 0
    assert [e["changes"] for e in items[1:]] == [{"progress": [0, 10]}, {"progress": [10, 20]}]
    assert [e["id"] for e in items] == sorted(e["id"] for e in items)
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    assert set(first) >= {
        "id",
        "at",
        "actor",
        "kind",
        "from_status",
        "to_status",
        "changes",
        "note",
        "progress",
    }


def test_events_are_paginated(client: TestClient, seeded: SeedReport) -> None:
    patched_action(client, 16, {"progress": 10})
    patched_action(client, 16, {"progress": 20})
    first = client.get(f"{ACTIONS}/16/events", params={"limit": 2})
    assert first.status_code == 200
    assert [e["kind"] for e in first.json()["items"]] == ["created", "updated"]
    assert first.json()["total"] == 3
    url = next_link(first)
    assert url is not None
    second = client.get(url)
    assert second.status_code == 200
    assert [e["changes"] for e in second.json()["items"]] == [{"progress": [10, 20]}]
    assert next_link(second) is None
    assert_explained_problem(
        client.get(f"{ACTIONS}/16/events", params={"limit": 0}), 422, ["query", "limit"]
    )


def test_events_of_a_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(client.get(f"{ACTIONS}/999/events"), 404)
    assert "999" in body["detail"]
    assert_explained_problem(client.get(f"{ACTIONS}/0/events"), 422, ["path", "action_id"])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE action_events SET actor = 'forger' WHERE id = 1",
        "UPDATE action_events SET note = 'rewritten'",
        "DELETE FROM action_events WHERE id = 1",
        "DELETE FROM action_events",
    ],
)
def test_the_database_refuses_to_change_events(
    engine: Engine, seeded: SeedReport, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM action_events")).scalar_one()
        actor = connection.execute(
            text("SELECT actor FROM action_events WHERE id = 1")
        ).scalar_one()
    assert (count, actor) == (43, "seed")


def test_new_events_can_still_be_appended(client: TestClient, seeded: SeedReport) -> None:
    response = client.post(
        "/api/v1/actions/1/updates", json={"note": "进展"}, headers={"If-Match": 'W/"1"'}
    )
    assert response.status_code == 200
    assert client.get("/api/v1/actions/1/events").json()["total"] == 2


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_no_route_edits_or_deletes_events(
    client: TestClient, seeded: SeedReport, method: str
) -> None:
    listing = client.request(method, "/api/v1/actions/1/events", json={"note": "x"})
    assert listing.status_code == 405
    assert listing.headers["content-type"] == "application/problem+json"
    single = client.request(method, "/api/v1/actions/1/events/1", json={"note": "x"})
    assert single.status_code == 404
    assert client.get("/api/v1/actions/1/events").json()["items"][0]["actor"] == "seed"
