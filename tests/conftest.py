"""Shared fixtures: a clean migrated database for every test (a copy of a migrated SQLite
file, or, when TASHAN_TEST_DATABASE_URL is set, one PostgreSQL database per run emptied
before each test); the app over it; keys; a live server."""

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlmodel import Session

from app import migrations
from app.actions import service as action_service
from app.auth import service as auth_service
from app.auth.models import Role
from app.auth.schemas import KeyCreate
from app.config import SEEDS_DIR, Settings
from app.db import create_db_engine, write_session
from app.main import create_app
from app.models import metadata
from app.seeding.schemas import SeedReport
from app.seeding.service import seed_database

POSTGRES_URL = os.environ.get("TASHAN_TEST_DATABASE_URL")
TASHAN = str(Path(sys.executable).with_name("tashan"))
ARTICLE = (SEEDS_DIR / "xiuzhou-secondment-2022-01-28.txt").read_bytes().decode("utf-8")


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run: a SQLite template file or a PostgreSQL
    database created for this run and dropped after it."""
    if not POSTGRES_URL:
        path = tmp_path_factory.mktemp("template") / "tashan.db"
        migrations.upgrade(f"sqlite:///{path}")
        with sqlite3.connect(path) as connection:  # fold the WAL in, so one file is the copy
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield f"sqlite:///{path}"
        return
    name = f"tashan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(migrated_url: str, tmp_path: Path) -> str:
    """A clean migrated database for this test (ids start at 1). SQLite: a copy of the
    template, since the events table refuses DELETE. PostgreSQL: the run's database emptied
    with TRUNCATE, which the events table's row triggers do not see."""
    if migrated_url.startswith("sqlite"):
        copy = tmp_path / "tashan.db"
        shutil.copyfile(str(make_url(migrated_url).database), copy)
        return f"sqlite:///{copy}"
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    admin = create_engine(migrated_url)
    with admin.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    admin.dispose()
    return migrated_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of this test's database."""
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test database."""
    return Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]


def make_key(engine: Engine, role: Role, name: str | None = None) -> str:
    """A new API key's plaintext."""
    with write_session(engine) as db_session:
        data = KeyCreate(name=name or f"test-{role}-{uuid.uuid4().hex[:6]}", role=role)
        _, plaintext = auth_service.create_key(db_session, data)
    return plaintext


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
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the time the action services stamp on changes, as Shanghai wall-clock time."""

    def set_to(moment: str) -> None:
        at = datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        monkeypatch.setattr(action_service, "utcnow", lambda: at)

    return set_to


def write_action(
    client: TestClient, action_id: int, path: str, body: dict[str, Any] | None = None
) -> None:
    """One write to an action with its current ETag: path is patch, archive, transitions
    or updates."""
    version = client.get(f"/api/v1/actions/{action_id}").json()["version"]
    headers = {"If-Match": f'W/"{version}"'}
    url = f"/api/v1/actions/{action_id}"
    if path == "patch":
        response = client.patch(url, json=body, headers=headers)
    elif path == "archive":
        response = client.delete(url, headers=headers)
    else:
        response = client.post(f"{url}/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.text


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment for running the tashan command against database_url."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASHAN_")}
    return {**env, "TASHAN_DATABASE_URL": database_url, **extra}


def run_tashan(
    database_url: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `tashan` command as a user would."""
    return subprocess.run(
        [TASHAN, *args],
        env=cli_env(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    """A TCP port on loopback nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_tashan(database_url: str, log_path: Path) -> Iterator[str]:
    """`tashan serve` as a real process on a free loopback port, its output in log_path;
    yields its base URL once /healthz answers, stops it after."""
    with tashan_process(database_url, log_path) as (base_url, _):
        yield base_url


@contextmanager
def tashan_process(
    database_url: str, log_path: Path, preexec_fn: Callable[[], None] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """serve_tashan that also yields the process, for tests that kill it; preexec_fn runs
    in the child before exec (e.g. to lower its resource limits). Its log is appended to."""
    port = free_port()
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [TASHAN, "serve", "--port", str(port)],
            env=cli_env(database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base_url, process, log_path)
            yield base_url, process
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=20)


@pytest.fixture
def live_server(database_url: str, admin_key: str, tmp_path: Path) -> Iterator[str]:
    """A live server (admin_key exists, so no bootstrap key is made); its log is
    tmp_path/server.log."""
    with serve_tashan(database_url, tmp_path / "server.log") as base_url:
        yield base_url


def _wait_until_up(base_url: str, process: subprocess.Popen[Any], log_path: Path) -> None:
    deadline = time.monotonic() + 120  # a busy machine can take long to import the app
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not answer /healthz in 120 s")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with status, and no stack trace; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body
