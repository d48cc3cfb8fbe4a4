"""Reads cost a fixed number of SQL statements however many actions there are (no N+1):
every read is counted at 200 actions and again at 3,000, through the HTTP API."""

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, insert, select

from app import clock
from app.actions import search
from app.actions.models import Action, EventKind
from app.actions.workflow import Status
from app.auth import service as auth_service
from app.config import SEEDS_DIR, Settings
from app.models import metadata
from app.reports.builder import LINES_PER_CHUNK
from app.reports.document import ReportFormat
from app.seeding.service import seed_database

ACTIONS = metadata.tables["actions"]
ACTION_THEMES = metadata.tables["action_themes"]
SMALL, LARGE = 200, 3000
# A report, the costliest read, makes 14 on SQLite (its BEGINs included; fewer on PostgreSQL),
# and a filter naming a unit, source, speech or theme first checks that it exists (2 more).
MOST_STATEMENTS = 17
# Each clone walks this far along the workflow, one event per step after "created".
PATHS = [
    [Status.proposed],
    [Status.proposed, Status.accepted],
    [Status.proposed, Status.accepted, Status.in_progress],
    [Status.proposed, Status.accepted, Status.in_progress, Status.completed],
    [Status.proposed, Status.accepted, Status.blocked],
]


def reads(settings: Settings) -> list[str]:
    """Every read that lists, searches, counts or reports many actions."""
    past = (settings.now() - timedelta(days=10)).date().isoformat()
    listing = "/api/v1/actions?limit=200"
    return [
        listing,
        f"{listing}&status=in_progress&status=blocked&priority=high&theme=招商引资",
        f"{listing}&owner_id=5&overdue=true&kind=recommendation",
        f"{listing}&stale=false&due_after=2020-01-01&include_archived=true",
        f"{listing}&sort=-updated_at,id",
        f"{listing}&sort=due_on,-priority&offset=100",
        f"{listing}&as_of={past}&status=accepted&sort=-progress",
        f"{listing}&q=招商",
        f"{listing}&q=标准地&as_of={past}",
        "/api/v1/stats",
        f"/api/v1/stats?as_of={past}&owner_id=5",
        "/api/v1/actions/1/events",
        f"/api/v1/actions/{SMALL}/events",
        *(f"/api/v1/reports/status?format={fmt}" for fmt in ReportFormat),
        f"/api/v1/reports/status?format=html&period_start={past}&period_end={past}",
        "/api/v1/reports/status?format=xlsx&template=true&owner_id=5",
    ]


def clone_actions(engine: Engine, up_to: int) -> None:
    """Copies of the seeded actions, with their themes and a timeline each, until there are
    up_to actions: Core inserts in one transaction, their events spread over 90 days."""
    now = clock.now()
    with engine.begin() as connection:
        have = connection.execute(select(func.count()).select_from(Action)).scalar_one()
        seeded = connection.execute(select(ACTIONS).where(ACTIONS.c.seed_key.is_not(None)))
        originals = [dict(row) for row in seeded.mappings()]
        themes_of: dict[int, list[int]] = {}
        for link in connection.execute(select(ACTION_THEMES)).mappings():
            themes_of.setdefault(link["action_id"], []).append(link["theme_id"])
        rows, paths = [], []
        for n in range(have, up_to):
            original = originals[n % len(originals)]
            path = PATHS[n % len(PATHS)]
            created = now - timedelta(days=90 - n % 80, hours=n % 24)
            rows.append(
                {
                    **{k: v for k, v in original.items() if k != "id"},
                    "seed_key": None,
                    "title": f"{original['title']} #{n}",
                    "status": path[-1],
                    "progress": 100 if path[-1] == Status.completed else 10 * (len(path) - 1),
                    "due_on": (created + timedelta(days=30 + n % 60)).date(),
                    "completed_at": now if path[-1] == Status.completed else None,
                    "created_at": created,
                    "updated_at": created + timedelta(days=len(path) - 1),
                    "version": len(path),
                    "archived": n % 50 == 0,
                }
            )
            paths.append((original["id"], path, created))
        ids = list(
            connection.execute(
                insert(ACTIONS).returning(ACTIONS.c.id, sort_by_parameter_order=True), rows
            ).scalars()
        )
        texts = [(row["title"], row["detail"], row["quote"]) for row in rows]
        search.index_many(connection, [(i, *text) for i, text in zip(ids, texts, strict=True)])
        links, events = [], []
        for action_id, (original_id, path, created) in zip(ids, paths, strict=True):
            links += [
                {"action_id": action_id, "theme_id": t} for t in themes_of.get(original_id, [])
            ]
            events += timeline(action_id, path, created)
        if links:
            connection.execute(insert(ACTION_THEMES), links)
        connection.execute(insert(metadata.tables["action_events"]), events)


def timeline(action_id: int, path: list[Status], created: datetime) -> list[dict[str, Any]]:
    """The created event and one transition per further step, a day apart."""

    def event(step: int, kind: EventKind, before: Status | None, after: Status) -> dict[str, Any]:
        return {
            "action_id": action_id,
            "at": created + timedelta(days=step),
            "actor": "bulk",
            "kind": kind,
            "from_status": before,
            "to_status": after,
            "progress": 10 * step,
            "note": f"第{step}步" if step else None,
        }

    steps = enumerate(pairwise(path), start=1)
    return [
        event(0, EventKind.created, None, path[0]),
        *(event(step, EventKind.transition, before, after) for step, (before, after) in steps),
    ]


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements engine runs meanwhile."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def with_report_chunks(small: dict[str, int]) -> dict[str, int]:
    """The counts at LARGE actions: the same as at SMALL, but that a report of every action
    reads LINES_PER_CHUNK of them at a time (so its memory stays bounded), and each further
    chunk costs two statements (the actions, with their themes and latest notes; the names of
    their evidence files)."""
    extra = 2 * (math.ceil(LARGE / LINES_PER_CHUNK) - math.ceil(SMALL / LINES_PER_CHUNK))
    every_action = re.compile(r"^/api/v1/reports/status\?format=\w+(&period_\w+=[\d-]+)*$")
    return {path: count + extra * bool(every_action.match(path)) for path, count in small.items()}


def statement_counts(client: TestClient, app: FastAPI, paths: list[str]) -> dict[str, int]:
    counts = {}
    for path in paths:
        with counting(app.state.engine) as statements:
            response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        if "/actions" in path:  # an empty page would skip the loads of its relations
            assert response.json()["items"], path
        counts[path] = len(statements)
    return counts


def test_reads_cost_the_same_statements_at_200_and_at_3000_actions(
    client: TestClient,
    app: FastAPI,
    engine: Engine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The key's last use is recorded once (below), not again in the middle of the counts.
    monkeypatch.setattr(auth_service, "TOUCH_INTERVAL", timedelta(days=1))
    # Nor is the key read again midway: it is believed from its first use on.
    monkeypatch.setattr(auth_service, "KEY_CACHE_SECONDS", 3600.0)
    seed_database(engine, SEEDS_DIR)
    clone_actions(engine, SMALL)
    assert client.get("/api/v1/me").status_code == 200  # the key's last use is now recorded
    paths = reads(settings)
    small = statement_counts(client, app, paths)

    clone_actions(engine, LARGE)
    large = statement_counts(client, app, paths)
    listed = client.get("/api/v1/actions?limit=200&include_archived=true").json()

    assert listed["total"] == LARGE and len(listed["items"]) == 200
    assert large == with_report_chunks(small)
    assert max(small.values()) <= MOST_STATEMENTS, small


def test_a_filters_unit_is_looked_up_once_a_generation(
    client: TestClient, app: FastAPI, engine: Engine
) -> None:
    """A list naming a unit asks whether it exists, but not while the total of its filters
    is kept: that was counted at this generation, when the unit did (a write to units
    advances the generation, and the look-up comes back)."""
    seed_database(engine, SEEDS_DIR)

    def unit_lookups(offset: int) -> int:
        with counting(app.state.engine) as statements:
            response = client.get(f"/api/v1/actions?owner_id=5&limit=2&offset={offset}")
        assert response.status_code == 200, response.text
        return sum("FROM units \nWHERE units.id =" in statement for statement in statements)

    assert unit_lookups(0) == 1
    assert unit_lookups(2) == 0  # another page, the same filters
    created = client.post("/api/v1/units", json={"name": "区数据局"})
    assert created.status_code == 201, created.text
    assert unit_lookups(4) == 1
    assert client.get("/api/v1/actions?owner_id=99999").status_code == 422
