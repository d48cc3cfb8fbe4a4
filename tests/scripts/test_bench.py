"""The benchmark's data generator (scripts/benchmark/dataset.py), at a small size, read back
through the real API: what it writes must be data the app itself could have written."""

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.actions import search
from app.actions.workflow import TRANSITIONS, Status, note_required
from app.config import Settings
from app.generation import read_generation
from scripts.benchmark.__main__ import UNCACHED_STATS_FILTERS, cold_list_paths, stats_uncached
from scripts.benchmark.dataset import (
    ACTION_COLUMNS,
    DAY,
    EVENT_COLUMNS,
    UNITS,
    Generator,
    foreign_keys,
    generate,
    generation_triggers,
    secondary_indexes,
    start_of_day,
)
from scripts.benchmark.vocabulary import load_vocabulary

ACTIONS = 300


def _all(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = client.get(path, params={**params, "limit": 200, "offset": len(items)})
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def _check_timeline(action: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """The timeline is one the services could have written, and leaves the action as it is."""
    assert events[0]["kind"] == "created"
    assert (events[0]["to_status"], events[0]["progress"]) == ("proposed", 0)
    assert action["version"] == len(events)
    assert action["created_at"] == events[0]["at"]
    assert action["updated_at"] == events[-1]["at"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    status = Status.proposed
    fields: dict[str, Any] = {}
    for event in events[1:]:
        if event["kind"] == "transition":
            assert event["from_status"] == status
            assert Status(event["to_status"]) in TRANSITIONS[status]
            if note_required(status, Status(event["to_status"])):
                assert event["note"]
            status = Status(event["to_status"])
            assert event["changes"]["status"] == [event["from_status"], status]
        elif event["kind"] == "updated":
            fields |= {name: after for name, (_, after) in event["changes"].items()}
        elif event["kind"] == "progress":
            assert event["note"]
            assert status != Status.completed or event["progress"] == 100
    assert action["status"] == status
    assert action["archived"] == (events[-1]["kind"] == "archived")
    assert (action["completed_at"] is not None) == (status == Status.completed)
    for name, value in fields.items():
        shown = action["owner"]["id"] if name == "owner_id" else action[name]
        assert shown == value, (action["id"], name)
    # The first due date is kept: the one the action was created with, or else the first an
    # edit set. No extension was approved (the generator asks for none).
    assert action["extension_count"] == 0
    moves = [e["changes"]["due_on"] for e in events if "due_on" in (e["changes"] or {})]
    if not moves:
        assert action["original_due_on"] == action["due_on"], action["id"]
    else:
        first = moves[0][0] if moves[0][0] is not None else moves[0][1]
        assert action["original_due_on"] == first, action["id"]


def _undated(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """rows without their dates and times, and without events' changes (which hold dates)."""
    dated = {"due_on", "original_due_on", "completed_at", "created_at", "updated_at", "at"}
    kept = [i for i, name in enumerate(columns) if name not in dated | {"changes"}]
    return [tuple(row[i] for i in kept) for row in rows]


def test_the_data_set_is_the_same_whenever_it_is_made() -> None:
    """From one seed, made at any moment of any day, the same actions and timelines, their
    dates shifted by whole days: bench figures of different runs count the same rows."""
    vocabulary = load_vocabulary()
    morning = start_of_day(1_795_000_000.0) + 0.1 * DAY
    made = []
    for moment in (morning, morning + 0.85 * DAY, morning + 40.5 * DAY):
        chunk = Generator(vocabulary, 7, start_of_day(moment)).chunk(2, 10_000)
        made.append(
            (_undated(chunk.actions, ACTION_COLUMNS), _undated(chunk.events, EVENT_COLUMNS))
        )
    assert made[0] == made[1] == made[2]
    assert len(made[0][0]) == 2_000 and len(made[0][1]) > 10_000


def test_generated_actions_read_back_consistent(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    outcome = generate(engine, ACTIONS)

    actions = _all(client, "/api/v1/actions", include_archived="true")
    assert [a["id"] for a in actions] == list(range(1, ACTIONS + 1))
    assert outcome.actions == ACTIONS
    assert sum(a["version"] for a in actions) == outcome.events
    assert 8 <= outcome.events / ACTIONS <= 12
    live = _all(client, "/api/v1/actions")
    assert len(live) == ACTIONS - outcome.archived
    assert all(not a["archived"] for a in live)
    assert {a["owner"]["id"] for a in actions} <= set(range(1, UNITS + 1))
    assert len(_all(client, "/api/v1/units")) == UNITS

    # Every quote occurs in its source at its offsets, inside its speech.
    sources = {}
    for source_id in {a["source_id"] for a in actions}:
        response = client.get(f"/api/v1/sources/{source_id}")
        assert response.status_code == 200
        sources[source_id] = response.json()
        text = sources[source_id]["text"]
        assert sources[source_id]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    for action in actions:
        source = sources[action["source_id"]]
        assert source["text"][action["quote_start"] : action["quote_end"]] == action["quote"]
        speech = next(s for s in source["speeches"] if s["id"] == action["speech_id"])
        assert speech["start"] <= action["quote_start"] < action["quote_end"] <= speech["end"]
        assert action["title"] and action["detail"]

    # Status and progress as the app rebuilds them from the timelines match the rows.
    rebuilt = _all(client, "/api/v1/actions", include_archived="true", as_of=settings.now().date())
    assert [(a["id"], a["status"], a["progress"]) for a in rebuilt] == [
        (a["id"], a["status"], a["progress"]) for a in actions
    ]
    assert {a["status"] for a in actions} == set(Status)

    for action in actions[::10]:
        _check_timeline(action, _all(client, f"/api/v1/actions/{action['id']}/events"))


def _schema(engine: Engine) -> tuple[set[Any], set[Any], set[Any]]:
    with engine.connect() as connection:
        return (
            set(secondary_indexes(connection)),
            set(foreign_keys(connection)),
            set(generation_triggers(connection)),
        )


def _generation(engine: Engine) -> Any:
    with engine.connect() as connection:
        connection.begin()
        return read_generation(connection)


def test_generated_data_is_indexed_and_checked_like_the_apps(
    client: TestClient, engine: Engine
) -> None:
    before = _schema(engine)
    generation = _generation(engine)
    generate(engine, ACTIONS, scratch=True)

    # The indexes, foreign keys and triggers set aside for the load are back as they were
    # defined, and the load advanced the data generation (once, not once a row).
    assert _schema(engine) == before
    assert before[2], "the generation's triggers are set aside too"
    after = _generation(engine)
    assert (after.data, after.shown) == (generation.data + 1, generation.shown + 1)
    assert before[0], "the load sets the bulk tables' secondary indexes aside"
    assert before[1] or engine.dialect.name == "sqlite", "and PostgreSQL's foreign keys"
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            # The FTS5 table's hash size for the load is undone, and its index is sound.
            config = connection.exec_driver_sql(f"SELECT k FROM {search.TABLE}_config")
            assert config.scalars().all() == ["version"]
            connection.exec_driver_sql(
                f"INSERT INTO {search.TABLE} ({search.TABLE}, rank) VALUES ('integrity-check', 0)"
            )
        for statement in ("UPDATE action_events SET note = 'x'", "DELETE FROM action_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                connection.exec_driver_sql(statement)
            connection.rollback()

    # The search index holds every action: a two-character term is answered by the index
    # alone, so an action left out of it would be missing here.
    actions = _all(client, "/api/v1/actions", include_archived="true")
    for term in ("党建", "招商", "企业"):
        found = _all(client, "/api/v1/actions", q=term, include_archived="true")
        expected = [
            a["id"]
            for a in actions
            if any(term in (a[f] or "") for f in ("title", "detail", "quote"))
        ]
        assert expected, term
        assert sorted(a["id"] for a in found) == expected, term


def test_cold_list_requests_are_lists_the_app_answers(client: TestClient, engine: Engine) -> None:
    generate(engine, ACTIONS)
    paths = cold_list_paths(seed=1, count=30)
    assert len(set(paths)) == 30
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["limit"] == 50


def test_uncached_stats_are_timed_over_filters_the_app_answers(
    client: TestClient, engine: Engine
) -> None:
    generate(engine, ACTIONS)
    for filters in UNCACHED_STATS_FILTERS:
        response = client.get("/api/v1/stats", params=filters)
        assert response.status_code == 200, (filters, response.text)
    figures = stats_uncached(engine.url.render_as_string(hide_password=False), repeats=1)
    assert set(figures) == {"stats_uncached_p50_ms", "stats_uncached_filtered_p50_ms"}
    assert all(ms >= 0 for ms in figures.values())
