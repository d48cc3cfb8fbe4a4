"""The server's database engine: its pool comes from the settings, and on PostgreSQL its
statements (only its own, not the commands') have a time limit that answers 503, and a pooled
connection that lay idle is pinged before use."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text

from app import db
from app.config import Settings
from app.db import SessionDep, create_db_engine
from app.main import create_app
from tests.helpers import POSTGRES_URL, assert_problem


def settings_for(database_url: str, **values: Any) -> Settings:
    return Settings(database_url=database_url, _env_file=None, **values)


def test_the_servers_pool_is_the_configured_size(database_url: str) -> None:
    engine = create_app(settings_for(database_url, db_pool_size=7)).state.engine
    try:
        assert engine.pool.size() == 7
    finally:
        engine.dispose()


def show(engine: Engine, setting: str) -> str:
    with engine.connect() as connection:
        value: str = connection.execute(text(f"SHOW {setting}")).scalar_one()
        return value


if POSTGRES_URL:  # SQLite has no statement timeout

    def test_only_the_servers_connections_have_a_statement_timeout(database_url: str) -> None:
        """The server's engine has one, a command's none; options in the URL are kept."""
        own_options = {"options": "-c application_name=tashan-test"}
        url = make_url(database_url).update_query_dict(own_options)
        server = create_db_engine(
            url.render_as_string(hide_password=False), statement_timeout_seconds=1.5
        )
        command = create_db_engine(database_url)
        try:
            assert show(server, "statement_timeout") == "1500ms"
            assert show(server, "application_name") == "tashan-test"
            assert show(command, "statement_timeout") == "0"
        finally:
            server.dispose()
            command.dispose()

    def test_a_query_over_the_statement_timeout_answers_503_and_the_pool_recovers(
        database_url: str,
    ) -> None:
        app = create_app(settings_for(database_url, db_statement_timeout_seconds=0.2))

        @app.get("/slow")
        def slow(session: SessionDep) -> None:
            session.execute(text("SELECT pg_sleep(5)"))

        with TestClient(app) as client:
            started = time.monotonic()
            response = client.get("/slow")
            elapsed = time.monotonic() - started
            ready = client.get("/readyz")
        body = assert_problem(response, 503)
        assert body["type"] == "urn:tashan:problem:database-timeout"
        assert "ran too long (the server's statement timeout)" in body["detail"]
        assert elapsed < 4  # cancelled, not slept through
        assert ready.status_code == 200, ready.text  # the connection went back to the pool fine

    def test_a_pooled_connection_whose_server_side_ended_is_replaced_once_it_was_idle(
        database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Its server process ended (a restart, an administrator) while it lay in the pool:
        the next read gets a live connection. One used a moment ago is not pinged first."""
        engine = create_db_engine(database_url, pool_size=1, max_overflow=0)
        try:
            with engine.connect() as connection:
                pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with create_db_engine(database_url).connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                admin.commit()
            monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has lain idle
            with engine.connect() as connection:
                assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        finally:
            engine.dispose()
