"""The data generation (app/generation.py) advances with every committed write the reads of
actions depend on, whoever writes: the API, an import, the seed, the CLI, the scheduler, raw
SQL. And a read after the write sees it (the caches key by it)."""

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.config import SEEDS_DIR, Settings
from app.generation import Generation, read_generation
from app.notifications.reminders import make_due
from app.seeding.schemas import SeedReport
from app.seeding.service import seed_database
from tests.helpers import (
    ACTIONS,
    PAST,
    attach_evidence,
    get_action,
    patched_action,
    run_tashan,
    transitioned,
    write_action,
)


def generation(engine: Engine) -> Generation:
    with engine.connect() as connection:
        connection.begin()
        return read_generation(connection)


def _reads(client: TestClient) -> Any:
    """What a client sees: a list, an action, the stats."""
    listed = client.get(ACTIONS, params={"limit": 200, "include_archived": "true"})
    stats = client.get("/api/v1/stats")
    one = client.get(f"{ACTIONS}/1")
    assert listed.status_code == stats.status_code == one.status_code == 200
    return listed.json(), stats.json(), one.json()


def _rename_unit(client: TestClient, engine: Engine, settings: Settings) -> None:
    owner = get_action(client, 1)["owner"]["id"]
    response = client.patch(f"/api/v1/units/{owner}", json={"name": "改名后的单位"})
    assert response.status_code == 200, response.text


def _import_sheet(client: TestClient, engine: Engine, settings: Settings) -> None:
    response = client.get(
        "/api/v1/reports/status", params={"format": "xlsx", "template": "true", "owner_id": 5}
    )
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    headings = {str(c.value).replace("✎", "").strip(): c.column for c in sheet[1] if c.value}
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == 16)
    sheet.cell(row, headings["责任人"]).value = "李华"
    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {"file": ("进展.xlsx", buffer.getvalue())}
    applied = client.post("/api/v1/imports", params={"dry_run": "false"}, files=files)
    assert applied.status_code == 200, applied.text
    assert applied.json()["counts"]["updated"] == 1


def _raw_sql_title(client: TestClient, engine: Engine, settings: Settings) -> None:
    with engine.begin() as connection:  # the version kept: only the generation tells
        connection.execute(text("UPDATE actions SET title = '直接改的标题' WHERE id = 1"))


def _raw_sql_theme(client: TestClient, engine: Engine, settings: Settings) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE themes SET name = name || '（改）'"))


def _scheduler_reminders(client: TestClient, engine: Engine, settings: Settings) -> None:
    transitioned(client, 1, "accepted")
    patched_action(client, 1, {"due_on": PAST})
    before = generation(engine)
    assert make_due(engine, settings), "an overdue reminder is made"
    assert generation(engine).data > before.data


def _cli_notify(client: TestClient, engine: Engine, settings: Settings) -> None:
    transitioned(client, 3, "accepted")
    with engine.begin() as connection:
        connection.execute(text("UPDATE actions SET due_on = '2020-01-01' WHERE id = 3"))
    before = generation(engine)
    result = run_tashan(settings.database_url, "notify", "run-due")
    assert result.returncode == 0, result.stderr
    assert generation(engine).data > before.data


def _progress(client: TestClient, engine: Engine, settings: Settings) -> None:
    transitioned(client, 1, "accepted")
    write_action(client, 1, "updates", {"note": "进展", "progress": 10})


WRITES: dict[str, Callable[[TestClient, Engine, Settings], Any]] = {
    "api patch": lambda c, e, s: patched_action(c, 1, {"title": "新标题", "themes": ["新主题"]}),
    "api transition": lambda c, e, s: transitioned(c, 1, "accepted"),
    "api progress": _progress,
    "api archive": lambda c, e, s: write_action(c, 1, "archive"),
    "api evidence": lambda c, e, s: attach_evidence(c, 1),
    "api unit renamed": _rename_unit,
    "import": _import_sheet,
    "raw sql, version kept": _raw_sql_title,
    "raw sql, theme renamed": _raw_sql_theme,
    "scheduler": _scheduler_reminders,
    "cli notify run-due": _cli_notify,
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_a_read_after_a_write_sees_it(
    write: str, client: TestClient, seeded: SeedReport, engine: Engine, settings: Settings
) -> None:
    cached = _reads(client)
    before = generation(engine)
    WRITES[write](client, engine, settings)
    after = generation(engine)
    assert after.data > before.data
    seen = _reads(client)
    assert seen != cached
    # What the app answers is what it answers without any cache: a fresh app on the database.
    from app.main import create_app

    with TestClient(create_app(settings), headers=dict(client.headers)) as fresh:
        assert _reads(fresh) == seen


def test_a_change_shown_without_a_new_version_moves_shown(
    client: TestClient, seeded: SeedReport, engine: Engine, settings: Settings
) -> None:
    before = generation(engine)
    transitioned(client, 1, "accepted")  # a versioned change: its ETag tells
    middle = generation(engine)
    assert (middle.data > before.data, middle.shown) == (True, before.shown)
    _raw_sql_title(client, engine, settings)
    assert generation(engine).shown > middle.shown


def test_the_seed_and_the_cli_seed_advance_it(engine: Engine, settings: Settings) -> None:
    before = generation(engine)
    seed_database(engine, SEEDS_DIR)
    seeded = generation(engine)
    assert seeded.data > before.data
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM action_themes WHERE action_id = 1"))
    removed = generation(engine)
    assert removed.shown > seeded.shown
    result = run_tashan(settings.database_url, "seed")
    assert result.returncode == 0, result.stderr
    assert generation(engine).data > removed.data  # the seed put the theme links back
