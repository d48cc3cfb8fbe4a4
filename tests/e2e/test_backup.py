"""Back up a database with data while the server runs, restore it to a new database, and
find the same actions and events there, the append-only triggers included: SQLite with
`tashan db backup`, PostgreSQL with pg_dump -Fc and pg_restore, as docs/operations.md says."""

import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, Row, create_engine, make_url, select, text
from sqlalchemy.exc import DBAPIError

from app.config import SEEDS_DIR
from app.models import metadata
from app.seeding.service import seed_database
from tests.helpers import run_tashan, serve_tashan, write_action


def table_rows(engine: Engine) -> dict[str, Sequence[Row[Any]]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in metadata.sorted_tables
        }


def libpq_url(url: str) -> str:
    """The URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def sqlite_restored(database_url: str, tmp_path: Path) -> Iterator[str]:
    """`tashan db backup` of the live database, copied into place as a new database."""
    backup = tmp_path / "backup.db"
    made = run_tashan(database_url, "db", "backup", str(backup))
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout
    again = run_tashan(database_url, "db", "backup", str(backup))
    assert again.returncode == 1
    assert "exists" in again.stderr
    restored = tmp_path / "restored" / "tashan.db"
    restored.parent.mkdir()
    restored.write_bytes(backup.read_bytes())
    yield f"sqlite:///{restored}"


@contextmanager
def postgres_restored(database_url: str, tmp_path: Path) -> Iterator[str]:
    """pg_dump -Fc of the live database, pg_restore'd into a new database dropped after."""
    dump = tmp_path / "tashan.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "-f", str(dump), "--dbname", libpq_url(database_url)], check=True
    )
    name = f"tashan_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    restored = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(
            [
                *("pg_restore", "--no-owner", "--exit-on-error"),
                *("--dbname", libpq_url(restored), str(dump)),
            ],
            check=True,
        )
        yield restored
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_restores_every_action_and_event_and_keeps_events_append_only(
    engine: Engine, database_url: str, live_server: str, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    with httpx.Client(base_url=live_server, headers={"X-API-Key": admin_key}) as client:
        write_action(client, 1, "patch", {"assignee": "张明", "progress": 30})
        write_action(client, 1, "transitions", {"to": "accepted"})
        write_action(client, 2, "updates", {"note": "已报区管委会", "progress": 10})
    original = table_rows(engine)
    restore = sqlite_restored if engine.dialect.name == "sqlite" else postgres_restored

    with restore(database_url, tmp_path) as restored_url:
        upgraded = run_tashan(restored_url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        restored = create_engine(restored_url)
        try:
            assert table_rows(restored) == original
            for statement in ("UPDATE action_events SET actor = 'x'", "DELETE FROM action_events"):
                with pytest.raises(DBAPIError, match="append-only"), restored.begin() as conn:
                    conn.execute(text(statement))
        finally:
            restored.dispose()
        with serve_tashan(restored_url, tmp_path / "restored.log") as base_url:
            ready = httpx.get(f"{base_url}/readyz")
            events = httpx.get(
                f"{base_url}/api/v1/actions/1/events", headers={"X-API-Key": admin_key}
            )

    assert ready.status_code == 200, ready.text
    assert [e["kind"] for e in events.json()["items"]] == ["created", "updated", "transition"]
    counts = {name: len(rows) for name, rows in original.items() if rows}
    print(f"\nbackup and restore on {engine.dialect.name}: identical {counts}")
