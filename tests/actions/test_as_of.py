"""As-of reading: status, progress and archiving rebuilt from the timeline at the end of a
past day in the deployment time zone, with an injected clock (no sleeping)."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import SEEDS_DIR
from app.seeding.service import seed_database
from tests.helpers import write_action


@pytest.fixture
def history(client: TestClient, engine: Engine, set_clock: Callable[[str], None]) -> None:
    """Seeded on 5 Jan; action 1 accepted 10 Jan, in progress at 40% on 3 Feb, completed
    1 Mar; action 2 archived 2 Mar; action 3 accepted 31 Jan 23:30, blocked 1 Feb 00:30."""
    set_clock("2026-01-05T09:00")
    seed_database(engine, SEEDS_DIR)
    set_clock("2026-01-10T10:00")
    write_action(client, 1, "transitions", {"to": "accepted"})
    set_clock("2026-02-03T15:00")
    write_action(client, 1, "transitions", {"to": "in_progress"})
    write_action(client, 1, "updates", {"note": "方案已起草", "progress": 40})
    set_clock("2026-03-01T16:00")
    write_action(client, 1, "transitions", {"to": "completed"})
    set_clock("2026-03-02T08:00")
    write_action(client, 2, "archive", {})
    set_clock("2026-01-31T23:30")
    write_action(client, 3, "transitions", {"to": "accepted"})
    set_clock("2026-02-01T00:30")
    write_action(client, 3, "transitions", {"to": "blocked", "note": "等待上级批复"})
    set_clock("now")


def states(client: TestClient, as_of: str) -> dict[int, tuple[str, int]]:
    response = client.get("/api/v1/actions", params={"as_of": as_of, "limit": 200})
    assert response.status_code == 200, response.json()
    return {a["id"]: (a["status"], a["progress"]) for a in response.json()["items"]}


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-01-09", (("proposed", 0), ("proposed", 0))),
        ("2026-01-10", (("accepted", 0), ("proposed", 0))),
        ("2026-01-31", (("accepted", 0), ("accepted", 0))),
        ("2026-02-01", (("accepted", 0), ("blocked", 0))),
        ("2026-02-03", (("in_progress", 40), ("blocked", 0))),
        ("2026-03-01", (("completed", 100), ("blocked", 0))),
    ],
)
def test_as_of_rebuilds_status_and_progress_at_the_end_of_the_day(
    client: TestClient, as_of: str, expected: tuple[tuple[str, int], tuple[str, int]]
) -> None:
    seen = states(client, as_of)
    assert (seen[1], seen[3]) == expected
    assert seen[4] == ("proposed", 0)


@pytest.mark.usefixtures("history")
def test_as_of_before_anything_existed_is_empty_and_archiving_counts_from_its_day(
    client: TestClient,
) -> None:
    assert states(client, "2026-01-04") == {}
    assert len(states(client, "2026-01-05")) == 43
    assert 2 in states(client, "2026-03-01")
    assert 2 not in states(client, "2026-03-02")
    now = states(client, "2026-11-01")
    assert now[1] == ("completed", 100) and 2 not in now


@pytest.mark.usefixtures("history")
def test_as_of_filters_and_stats_use_the_rebuilt_state(client: TestClient) -> None:
    blocked = client.get("/api/v1/actions", params={"as_of": "2026-02-02", "status": "blocked"})
    assert [a["id"] for a in blocked.json()["items"]] == [3]
    stats = client.get("/api/v1/stats", params={"as_of": "2026-02-03"}).json()
    counts = {row["status"]: row["count"] for row in stats["by_status"]}
    assert (counts["in_progress"], counts["blocked"], counts["completed"]) == (1, 1, 0)
    assert stats["as_of"] == "2026-02-03" and stats["total"] == 43
    later = client.get("/api/v1/stats", params={"as_of": "2026-03-05"}).json()
    later_counts = {row["status"]: row["count"] for row in later["by_status"]}
    assert (later_counts["completed"], later["total"]) == (1, 42)


def test_as_of_in_the_future_is_422(client: TestClient) -> None:
    for path in ("/api/v1/actions", "/api/v1/stats"):
        response = client.get(path, params={"as_of": "2999-01-01"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "as_of"]


@pytest.mark.usefixtures("history")
def test_stale_means_open_with_no_event_for_stale_days(client: TestClient) -> None:
    def stale_ids(as_of: str) -> set[int]:
        response = client.get("/api/v1/actions", params={"as_of": as_of, "stale": "true"})
        assert response.status_code == 200
        return {a["id"] for a in response.json()["items"]}

    # seeded 5 Jan: nothing is stale 20 days later, everything untouched is 40 days later
    assert stale_ids("2026-01-25") == set()
    untouched = stale_ids("2026-02-14")
    assert {4, 5, 43} <= untouched and not {1, 3} & untouched  # 1 and 3 moved in Feb
    # on 14 Apr action 1 is completed (closed, so never stale), 3 blocked since 1 Feb is
    assert 1 not in stale_ids("2026-04-14") and 3 in stale_ids("2026-04-14")
    stats = client.get("/api/v1/stats", params={"as_of": "2026-02-14"}).json()
    assert stats["stale"] == len(untouched)
    fresh = client.get("/api/v1/actions", params={"as_of": "2026-02-14", "stale": "false"})
    assert fresh.json()["total"] == 43 - len(untouched)
