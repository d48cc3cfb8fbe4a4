"""DELETE /api/v1/actions/{id}: archiving hides an action from lists and deletes nothing."""

from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    SEEDED_TOTAL,
    assert_explained_problem,
    events_of,
    get_action,
    listed_ids,
)


def test_delete_requires_if_match(client: TestClient, seeded: SeedReport) -> None:
    body = assert_explained_problem(client.delete(f"{ACTIONS}/8"), 428)
    assert body["current_version"] == 1
    stale = assert_explained_problem(
        client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"3"'}), 412
    )
    assert stale["current_version"] == 1
    assert get_action(client, 8)["archived"] is False
    assert 8 in listed_ids(client)
    assert [e["kind"] for e in events_of(client, 8)] == ["created"]


def test_delete_archives_the_action(client: TestClient, seeded: SeedReport) -> None:
    assert client.get("/api/v1/sources/1").json()["action_count"] == SEEDED_TOTAL
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == 8
    assert body["archived"] is True
    assert body["version"] == 2
    assert response.headers["etag"] == 'W/"2"'

    assert 8 not in listed_ids(client)
    assert 8 in listed_ids(client, include_archived=True)
    still_there = get_action(client, 8)
    assert still_there["archived"] is True
    assert still_there["title"] == body["title"]

    timeline = events_of(client, 8)
    assert [e["kind"] for e in timeline] == ["created", "archived"]
    assert timeline[-1]["actor"] == "test-admin"  # the key the client sends
    assert client.get("/api/v1/sources/1").json()["action_count"] == SEEDED_TOTAL - 1


def test_delete_missing_action_is_404(client: TestClient, seeded: SeedReport) -> None:
    assert_explained_problem(client.delete(f"{ACTIONS}/999", headers={"If-Match": 'W/"1"'}), 404)
