"""The timeline is append-only: no route edits or deletes an event, and the database itself
refuses UPDATE and DELETE on the events table (triggers on SQLite and PostgreSQL)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.seeding.schemas import SeedReport


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
