"""kill -9 in the middle of writes: after a restart on the same database every acknowledged
write is there with its event, and no write is half there."""

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from app.config import SEEDS_DIR
from app.seeding.service import seed_database
from tests.helpers import assert_every_action_whole, tashan_process

WRITERS = 6
KILL_AFTER_ACKS = 60  # the server is killed once this many writes have been acknowledged
NEXT_STATUS = {
    "proposed": "accepted",
    "accepted": "in_progress",
    "in_progress": "blocked",
    "blocked": "in_progress",
}
WRITE_KINDS = ("create", "patch", "transition", "progress")


@dataclass
class Write:
    """One write sent to the server and what came back; marker is unique to it."""

    kind: str
    marker: str
    action_id: int | None
    status: int | None = None  # the HTTP status, None when no answer came
    refused_connection: bool = False  # the server was already gone: nothing was sent

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Writer(threading.Thread):
    """A client that cycles through creates, PATCHes, transitions and progress updates on
    its own action until the server stops answering."""

    def __init__(self, base_url: str, key: str, number: int, template: dict[str, Any]) -> None:
        super().__init__()
        self.client = httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=30)
        self.number = number
        self.action_id = number + 1  # a seeded action of its own, so If-Match rarely goes stale
        self.template = template
        self.writes: list[Write] = []

    def run(self) -> None:
        with self.client:
            etag, status = self._current()
            for n in range(10_000):
                kind = WRITE_KINDS[n % len(WRITE_KINDS)]
                write = Write(kind, f"w{self.number}-{n}-{kind}", self._action_of(kind))
                self.writes.append(write)
                try:
                    response = self._send(write, etag, status)
                except httpx.TransportError as error:
                    write.refused_connection = isinstance(error, httpx.ConnectError)
                    return
                write.status = response.status_code
                if write.acknowledged and kind == "create":
                    write.action_id = response.json()["id"]
                elif write.acknowledged:
                    etag, status = response.headers["ETag"], response.json()["status"]

    def _current(self) -> tuple[str, str]:
        response = self.client.get(f"/api/v1/actions/{self.action_id}")
        return response.headers["ETag"], response.json()["status"]

    def _action_of(self, kind: str) -> int | None:
        return None if kind == "create" else self.action_id

    def _send(self, write: Write, etag: str, status: str) -> httpx.Response:
        url = f"/api/v1/actions/{self.action_id}"
        headers = {"If-Match": etag}
        if write.kind == "create":
            return self.client.post(
                "/api/v1/actions", json={**self.template, "title": write.marker}
            )
        if write.kind == "patch":
            return self.client.patch(url, json={"assignee": write.marker}, headers=headers)
        if write.kind == "transition":
            body: dict[str, Any] = {"to": NEXT_STATUS[status], "note": write.marker}
            return self.client.post(f"{url}/transitions", json=body, headers=headers)
        body = {"note": write.marker, "progress": len(self.writes) % 100}
        return self.client.post(f"{url}/updates", json=body, headers=headers)


def create_template(base_url: str, key: str) -> dict[str, Any]:
    """A valid create body: the quote of seeded action 10, at its offset."""
    action = httpx.get(f"{base_url}/api/v1/actions/10", headers={"X-API-Key": key}).json()
    return {
        "source_id": action["source_id"],
        "quote": action["quote"],
        "quote_start": action["quote_start"],
        "kind": "recommendation",
        "owner_id": action["owner"]["id"],
    }


def write_until_killed(base_url: str, key: str, process: Any) -> list[Write]:
    """Several writers at once; SIGKILL the server once KILL_AFTER_ACKS writes were acked."""
    template = create_template(base_url, key)
    writers = [Writer(base_url, key, n, template) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    while sum(w.acknowledged for writer in writers for w in list(writer.writes)) < KILL_AFTER_ACKS:
        assert any(writer.is_alive() for writer in writers), "every writer stopped early"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
    for writer in writers:
        writer.join(timeout=60)
    return [write for writer in writers for write in writer.writes]


def timeline(client: httpx.Client, action_id: int) -> list[dict[str, Any]]:
    """Every event of an action, through the API."""
    events: list[dict[str, Any]] = []
    while True:
        page = client.get(
            f"/api/v1/actions/{action_id}/events", params={"limit": 200, "offset": len(events)}
        ).json()
        events += page["items"]
        if len(events) >= page["total"]:
            return events


def landed_markers(client: httpx.Client, writes: list[Write]) -> Counter[str]:
    """How often each write's marker shows in the timelines (titles, for creates)."""
    seen: Counter[str] = Counter()
    for action_id in {w.action_id for w in writes if w.action_id is not None}:
        for event in timeline(client, action_id):
            seen[event["note"] or ""] += 1
            assignee = (event["changes"] or {}).get("assignee")
            if event["kind"] == "updated" and assignee:
                seen[assignee[1]] += 1
    listed = client.get("/api/v1/actions", params={"limit": 200}).json()
    assert listed["total"] <= 200
    for action in (a for a in listed["items"] if a["title"].endswith("-create")):
        events = timeline(client, action["id"])
        assert events[0]["kind"] == "created", events
        seen[action["title"]] += 1
    return seen


def test_kill_9_during_writes_keeps_every_acknowledged_write_whole(
    engine: Engine, database_url: str, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    log = tmp_path / "server.log"
    with tashan_process(database_url, log) as (base_url, process):
        writes = write_until_killed(base_url, admin_key, process)
    assert process.returncode == -signal.SIGKILL

    with (
        tashan_process(database_url, log) as (base_url, _),
        httpx.Client(base_url=base_url, headers={"X-API-Key": admin_key}) as client,
    ):
        assert client.get("/readyz").status_code == 200
        seen = landed_markers(client, writes)
        after_restart = client.patch(
            "/api/v1/actions/1",
            json={"assignee": "after-restart"},
            headers={"If-Match": client.get("/api/v1/actions/1").headers["ETag"]},
        )
        assert after_restart.status_code == 200, after_restart.text
    checked = assert_every_action_whole(engine)

    acknowledged = [w for w in writes if w.acknowledged]
    refused = [w for w in writes if w.status is not None and not w.acknowledged]
    unanswered = [w for w in writes if w.status is None]
    assert {w.marker: seen[w.marker] for w in acknowledged} == {w.marker: 1 for w in acknowledged}
    assert all(seen[w.marker] == 0 for w in refused), [w for w in refused if seen[w.marker]]
    assert all(seen[w.marker] <= 1 for w in unanswered)
    assert set(Counter(w.status for w in refused)) <= {412, 409}, refused
    landed = [w for w in unanswered if seen[w.marker]]
    never_sent = [w for w in unanswered if w.refused_connection]
    print(
        f"\nkill -9 on {engine.dialect.name}: {len(writes)} writes sent by {WRITERS} clients, "
        f"{len(acknowledged)} acknowledged and all {len(acknowledged)} found after restart, "
        f"{len(refused)} refused ({dict(Counter(w.status for w in refused))}), "
        f"{len(unanswered)} unanswered ({len(never_sent)} refused the connection): "
        f"{len(landed)} landed whole, {len(unanswered) - len(landed)} left no trace; "
        f"{checked} actions whole"
    )
