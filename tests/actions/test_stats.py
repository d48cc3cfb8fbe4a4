"""GET /api/v1/stats: counts by status and theme, overdue, and the unit ranking."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.actions.workflow import Status
from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    PAST,
    SEEDED_TOTAL,
    get_action,
    listed_actions,
    listed_ids,
    patched_action,
    set_status,
)


def get_stats(client: TestClient, **params: Any) -> dict[str, Any]:
    """GET /api/v1/stats; must succeed."""
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stats_on_seeded_data(client: TestClient, seeded: SeedReport) -> None:
    stats = get_stats(client)
    assert stats["total"] == SEEDED_TOTAL
    assert sum(s["count"] for s in stats["by_status"]) == SEEDED_TOTAL
    assert {s["status"]: s["count"] for s in stats["by_status"]}["proposed"] == SEEDED_TOTAL
    assert {s["status"]: s["label"] for s in stats["by_status"]}["proposed"] == "待研究"
    units = stats["units"]
    assert sorted(u["rank"] for u in units) == list(range(1, len(units) + 1))
    assert [u["rank"] for u in units] == list(range(1, len(units) + 1))
    assert sum(u["total"] for u in units) == SEEDED_TOTAL
    everything = listed_actions(client)
    per_owner: dict[int, int] = {}
    for action in everything:
        per_owner[action["owner"]["id"]] = per_owner.get(action["owner"]["id"], 0) + 1
    assert {u["unit_id"]: u["total"] for u in units} == per_owner
    for unit in units:
        assert isinstance(unit["completion_rate"], float)
        assert isinstance(unit["average_progress"], float)
        assert unit["completion_rate"] == 0.0
        assert unit["average_progress"] == 0.0
    themes = {t["theme"]: t["count"] for t in stats["by_theme"]}
    assert themes["招商引资"] == sum("招商引资" in a["themes"] for a in everything)
    assert stats["overdue"] == 0


def test_stats_follow_progress_and_overdue(client: TestClient, seeded: SeedReport) -> None:
    patched_action(client, 35, {"progress": 60})  # 创新创业服务园区, 3 actions
    patched_action(client, 36, {"due_on": PAST})
    stats = get_stats(client)
    assert stats["overdue"] == 1
    unit = next(u for u in stats["units"] if u["unit_id"] == get_action(client, 35)["owner"]["id"])
    assert unit["total"] == 3
    assert unit["overdue"] == 1
    assert unit["average_progress"] == 20.0
    assert unit["rank"] == 1
    others = [u for u in stats["units"] if u is not unit]
    assert all(u["overdue"] == 0 for u in others)
    assert get_stats(client, overdue=True)["total"] == 1


def test_stats_exclude_archived_actions(client: TestClient, seeded: SeedReport) -> None:
    response = client.delete(f"{ACTIONS}/8", headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200
    stats = get_stats(client)
    assert stats["total"] == SEEDED_TOTAL - 1
    assert sum(s["count"] for s in stats["by_status"]) == SEEDED_TOTAL - 1
    assert get_stats(client, include_archived=True)["total"] == SEEDED_TOTAL


def test_stats_overdue_ignores_closed_actions(
    client: TestClient, seeded: SeedReport, session: Session
) -> None:
    patched_action(client, 36, {"due_on": PAST})
    patched_action(client, 37, {"due_on": PAST})
    assert get_stats(client)["overdue"] == 2
    set_status(session, 37, Status.completed)
    stats = get_stats(client)
    assert stats["overdue"] == 1
    assert {s["status"]: s["count"] for s in stats["by_status"]}["completed"] == 1
    unit = next(u for u in stats["units"] if u["unit_id"] == get_action(client, 37)["owner"]["id"])
    assert unit["completed"] == 1
    assert unit["overdue"] == 1
    assert unit["completion_rate"] == round(1 / 3, 4)
    assert unit["rank"] == 1
    assert listed_ids(client, overdue=True) == [36]
