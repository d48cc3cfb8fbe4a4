from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport


def test_seeded_actions_are_listed(client: TestClient, seeded: SeedReport) -> None:
    response = client.get("/api/v1/actions", params={"limit": 200})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == seeded.actions.created == 43
