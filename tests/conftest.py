"""Shared fixtures: a clean migrated database for every test (a copy of a migrated SQLite
file, or, when TASHAN_TEST_DATABASE_URL is set, one PostgreSQL database per run emptied
before each test down to the rows the migrations wrote); the app over it; keys; a live
server; the clock frozen at NOW; the evidence stores (a folder, a bucket of a real S3 server)."""

import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, create_engine, make_url, text
from sqlmodel import Session

from app import migrations
from app.auth.models import Role
from app.config import SEEDS_DIR, Settings
from app.db import create_db_engine
from app.evidence.s3 import S3Store, s3_client
from app.evidence.store import DirectoryStore, EvidenceStore
from app.evidence.urls import S3Location
from app.main import create_app
from app.models import metadata
from app.seeding.schemas import SeedReport
from app.seeding.service import seed_database
from tests.helpers import (
    NOW,
    POSTGRES_URL,
    S3_KEY_ID,
    S3_REGION,
    S3_SECRET,
    SHANGHAI,
    make_key,
    moto_s3_server,
    serve_tashan,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass of scripts/test leaves out the tests marked database_free (the
    extractor's rules, file formats, …): the SQLite pass ran them, and they would run again
    unchanged. They are reported as deselected."""
    if not POSTGRES_URL:
        return
    kept, left_out = [], []
    for item in items:
        if item.get_closest_marker("database_free") is None:
            kept.append(item)
        elif "database_url" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid} is marked database_free but uses one")
        else:
            left_out.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(autouse=True)
def frozen_clock(time_machine: time_machine.TimeMachineFixture) -> None:
    """Every test starts at NOW, whatever the machine's date (time goes on from there)."""
    time_machine.move_to(NOW, tick=True)


@pytest.fixture
def set_clock(time_machine: time_machine.TimeMachineFixture) -> Callable[[str], None]:
    """Stop the clock at a Shanghai wall-clock time, e.g. set_clock("2026-11-20 09:00");
    set_clock("now") goes back to NOW."""

    def set_to(moment: str) -> None:
        at = NOW if moment == "now" else datetime.fromisoformat(moment).replace(tzinfo=SHANGHAI)
        time_machine.move_to(at, tick=False)

    return set_to


def migrate_at_now(url: str) -> None:
    """Migrate url to head as if at NOW, which the rows data migrations write are stamped
    with (the default report schedules)."""
    with time_machine.travel(NOW):
        migrations.upgrade(url)


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run: a SQLite template file or a PostgreSQL
    database created for this run and dropped after it."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("template") / "tashan.db"
        migrate_at_now(f"sqlite:///{path}")
        with sqlite3.connect(path) as connection:  # fold the WAL in, so one file is the copy
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield f"sqlite:///{path}"
        return
    name = f"tashan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrate_at_now(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_rows(migrated_url: str) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows the migrations wrote, by table (PostgreSQL only: a SQLite test copies them)."""
    if migrated_url.startswith("sqlite"):
        return []
    admin = create_engine(migrated_url)
    with admin.connect() as connection:
        rows = [
            (table, [dict(row) for row in connection.execute(table.select()).mappings()])
            for table in metadata.sorted_tables
        ]
    admin.dispose()
    return [(table, table_rows) for table, table_rows in rows if table_rows]


@pytest.fixture
def database_url(
    migrated_url: str, migrated_rows: list[tuple[Table, list[dict[str, Any]]]], tmp_path: Path
) -> str:
    """A clean migrated database for this test (ids start at 1). SQLite: a copy of the
    template, since the events table refuses DELETE. PostgreSQL: the run's database emptied
    with TRUNCATE, which the events table's row triggers do not see, and given back the rows
    the migrations wrote."""
    if migrated_url.startswith("sqlite"):
        copy = tmp_path / "tashan.db"
        shutil.copyfile(str(make_url(migrated_url).database), copy)
        return f"sqlite:///{copy}"
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    admin = create_engine(migrated_url)
    with admin.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for table, rows in migrated_rows:
            connection.execute(table.insert(), rows)
    admin.dispose()
    return migrated_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of this test's database."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database, evidence files under tmp_path/evidence."""
    return Settings(database_url=database_url, evidence_dir=tmp_path / "evidence", _env_file=None)


@pytest.fixture
def admin_key(engine: Engine) -> str:
    """An admin key named test-admin (the actor of the client's writes)."""
    return make_key(engine, Role.admin, name="test-admin")


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The real ASGI app over the test database."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, admin_key: str) -> Iterator[TestClient]:
    """A client of the real app that sends an admin key with every request."""
    with TestClient(app, headers={"X-API-Key": admin_key}) as test_client:
        yield test_client


@pytest.fixture
def anonymous_client(app: FastAPI) -> Iterator[TestClient]:
    """A client of the real app that sends no key."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for looking at the database directly."""
    with Session(engine) as db_session:
        yield db_session


@pytest.fixture
def seeded(engine: Engine) -> SeedReport:
    """The project's own seed data, loaded."""
    return seed_database(engine, SEEDS_DIR)


@pytest.fixture
def live_server(database_url: str, admin_key: str, tmp_path: Path) -> Iterator[str]:
    """A live server (admin_key exists, so no bootstrap key is made); its log is
    tmp_path/server.log."""
    with serve_tashan(database_url, tmp_path / "server.log") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback, started once per test process when a test needs it."""
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3Store:
    """An S3 store in a new, empty bucket of its own, under a prefix."""
    client = s3_client(s3_endpoint, S3_REGION, S3_KEY_ID, S3_SECRET)
    bucket = f"tashan-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Store(S3Location(bucket, "evidence/test"), client)


@pytest.fixture(params=["directory", "s3"])
def evidence_store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    """Each kind of evidence store, empty: a folder in tmp_path, then a bucket."""
    if request.param == "directory":
        return DirectoryStore(tmp_path / "evidence")
    store: S3Store = request.getfixturevalue("s3_store")
    return store
