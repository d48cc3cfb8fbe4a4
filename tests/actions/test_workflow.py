"""The workflow table, move by move, through the HTTP API: every allowed and forbidden
transition, the notes some moves need, and progress updates."""

from collections import deque
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.actions.workflow import STATUS_LABELS, TRANSITIONS, Status, note_required
from app.seeding.schemas import SeedReport
from tests.helpers import attach_evidence

ACTION = "/api/v1/actions/1"


def path_to(target: Status) -> list[Status]:
    """The shortest list of moves from proposed to target."""
    previous: dict[Status, Status | None] = {Status.proposed: None}
    queue = deque([Status.proposed])
    while queue:
        current = queue.popleft()
        for nxt in TRANSITIONS[current]:
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    path: list[Status] = []
    step: Status | None = target
    while step is not None and step != Status.proposed:
        path.append(step)
        step = previous[step]
    return list(reversed(path))


def transition(client: TestClient, to: Status, note: str | None = "理由") -> Any:
    """The move, with an evidence file attached first when it submits (as it needs one)."""
    if to == Status.submitted and client.get(ACTION).json()["evidence_count"] == 0:
        attach_evidence(client, 1)
    version = client.get(ACTION).json()["version"]
    return client.post(
        f"{ACTION}/transitions",
        json={"to": to, "note": note},
        headers={"If-Match": f'W/"{version}"'},
    )


def bring_to(client: TestClient, status: Status) -> None:
    for step in path_to(status):
        assert transition(client, step).status_code == 200


ALL_MOVES = [(a, b) for a in Status for b in Status if a != b]


@pytest.mark.parametrize(("start", "target"), ALL_MOVES, ids=[f"{a}->{b}" for a, b in ALL_MOVES])
def test_every_move_follows_the_table(
    client: TestClient, seeded: SeedReport, start: Status, target: Status
) -> None:
    bring_to(client, start)
    response = transition(client, target)
    if target in TRANSITIONS[start]:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == target
        assert body["status_label"] == STATUS_LABELS[target]
        last = client.get(f"{ACTION}/events", params={"limit": 200}).json()["items"][-1]
        assert (last["kind"], last["from_status"], last["to_status"]) == (
            "transition",
            start,
            target,
        )
    else:
        assert response.status_code == 409
        problem = response.json()
        assert problem["allowed"] == list(TRANSITIONS[start])
        assert all(status in problem["detail"] for status in TRANSITIONS[start])
        assert client.get(ACTION).json()["status"] == start


NOTED_MOVES = [(a, b) for a in Status for b in TRANSITIONS[a] if note_required(a, b)]


@pytest.mark.parametrize(
    ("start", "target"), NOTED_MOVES, ids=[f"{a}->{b}" for a, b in NOTED_MOVES]
)
def test_moves_that_need_a_note_refuse_none_or_blank(
    client: TestClient, seeded: SeedReport, start: Status, target: Status
) -> None:
    bring_to(client, start)
    for note in (None, "   "):
        response = transition(client, target, note=note)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "note"]
    assert client.get(ACTION).json()["status"] == start


def test_completing_sets_progress_and_completed_at_and_reopening_clears_it(
    client: TestClient, seeded: SeedReport
) -> None:
    bring_to(client, Status.completed)
    done = client.get(ACTION).json()
    assert (done["progress"], done["completed_at"] is not None) == (100, True)
    reopened = transition(client, Status.in_progress, note="验收未通过").json()
    assert reopened["completed_at"] is None
    assert reopened["status"] == "in_progress"


def test_progress_update_moves_progress_and_lands_on_the_timeline(
    client: TestClient, seeded: SeedReport
) -> None:
    response = client.post(
        f"{ACTION}/updates",
        json={"note": "已完成方案初稿", "progress": 40, "evidence_url": "https://example.org/a"},
        headers={"If-Match": 'W/"1"'},
    )
    assert response.status_code == 200
    assert (response.json()["progress"], response.json()["version"]) == (40, 2)
    assert response.headers["ETag"] == 'W/"2"'
    event = client.get(f"{ACTION}/events").json()["items"][-1]
    assert event["kind"] == "progress"
    assert (event["note"], event["progress"], event["changes"]) == (
        "已完成方案初稿",
        40,
        {"progress": [0, 40]},
    )
    assert event["evidence_url"] == "https://example.org/a"


@pytest.mark.parametrize(
    "body",
    [{"note": ""}, {"note": "x", "progress": 101}, {"note": "x", "evidence_url": "not a url"}, {}],
)
def test_bad_progress_updates_are_422_and_change_nothing(
    client: TestClient, seeded: SeedReport, body: dict[str, Any]
) -> None:
    response = client.post(f"{ACTION}/updates", json=body, headers={"If-Match": 'W/"1"'})
    assert response.status_code == 422
    assert response.json()["errors"]
    assert client.get(ACTION).json()["version"] == 1


def test_completed_action_cannot_drop_below_100_without_reopening(
    client: TestClient, seeded: SeedReport
) -> None:
    bring_to(client, Status.completed)
    version = client.get(ACTION).json()["version"]
    response = client.post(
        f"{ACTION}/updates",
        json={"note": "x", "progress": 50},
        headers={"If-Match": f'W/"{version}"'},
    )
    assert response.status_code == 409
    assert "reopen" in response.json()["detail"]
    assert client.get(ACTION).json()["progress"] == 100


@pytest.mark.parametrize("path", ["transitions", "updates"])
def test_writes_need_a_current_if_match(client: TestClient, seeded: SeedReport, path: str) -> None:
    body = {"to": "accepted"} if path == "transitions" else {"note": "进展"}
    missing = client.post(f"{ACTION}/{path}", json=body)
    assert missing.status_code == 428
    assert missing.json()["current_version"] == 1
    stale = client.post(f"{ACTION}/{path}", json=body, headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1
    assert client.get(ACTION).json()["version"] == 1


def test_reopening_restores_the_progress_completion_replaced(
    client: TestClient, seeded: SeedReport
) -> None:
    bring_to(client, Status.in_progress)
    version = client.get(ACTION).json()["version"]
    client.post(
        f"{ACTION}/updates",
        json={"note": "过半", "progress": 60},
        headers={"If-Match": f'W/"{version}"'},
    )
    assert transition(client, Status.completed).json()["progress"] == 100
    reopened = transition(client, Status.in_progress, note="复核发现问题").json()
    assert reopened["progress"] == 60
    last = client.get(f"{ACTION}/events", params={"limit": 200}).json()["items"][-1]
    assert last["changes"] == {"status": ["completed", "in_progress"], "progress": [100, 60]}
