"""The server's database engine: its pool comes from the settings, and on PostgreSQL its
statements (only its own, not the commands') have a time limit that answers 503, and a pooled
connection that lay idle is pinged before use; kept reads run on the event loop."""

import asyncio
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text

from app import db
from app.actions import reads
from app.config import Settings
from app.db import SessionDep, create_db_engine
from app.main import create_app
from app.seeding.schemas import SeedReport
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


def no_thread(*_: object) -> None:
    raise AssertionError("read on a thread")


def test_a_kept_action_and_page_are_read_on_the_event_loop(
    client: TestClient, seeded: SeedReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once kept, a get and a list page take no thread: one read of the generation (and
    version) on the event loop's own connections answers them."""
    action = client.get("/api/v1/actions/1")
    page = client.get("/api/v1/actions", params={"limit": 5})

    monkeypatch.setattr(client.app.state.short_reads, "run", no_thread)  # type: ignore[attr-defined]
    again = client.get("/api/v1/actions/1")
    page_again = client.get("/api/v1/actions", params={"limit": 5})
    assert (again.status_code, again.content) == (200, action.content)
    assert again.headers["ETag"] == action.headers["ETag"]
    assert (page_again.status_code, page_again.content) == (200, page.content)
    assert client.get("/api/v1/actions/999").status_code == 404  # no thread either


def count_thread_reads(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions the app runs on its short-read threads from now on, as it runs them."""
    short_reads = client.app.state.short_reads  # type: ignore[attr-defined]
    run, ran = short_reads.run, []

    async def counted(function: Any, *args: Any) -> Any:
        ran.append(function)
        return await run(function, *args)

    monkeypatch.setattr(short_reads, "run", counted)
    return ran


def get_answered_on_a_thread(
    client: TestClient, path: str, content: bytes, ran: list[object]
) -> None:
    """GET path answers content, read on a thread."""
    before = len(ran)
    answer = client.get(path)
    assert (answer.status_code, answer.content) == (200, content)
    assert len(ran) > before


if not POSTGRES_URL:

    def test_a_failed_read_on_the_loop_is_read_on_a_thread_and_the_loop_rests_a_while(
        client: TestClient,
        seeded: SeedReport,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The loop's SQLite connection cannot read (here: it is one to a file without the
        tables): the get is answered all the same, read on a thread; so are the reads that
        follow while the loop rests, without trying it (which would succeed, on a new
        connection), and the failure is logged once. After the rest the loop reads again,
        on a new connection, and says so."""
        action = client.get("/api/v1/actions/1")
        loop_reads = client.app.state.loop_reads  # type: ignore[attr-defined]
        monkeypatch.setattr(loop_reads, "rest_seconds", 1.0)
        loop_reads._sqlite.close()
        loop_reads._sqlite = sqlite3.connect(tmp_path / "empty.db", check_same_thread=False)
        ran = count_thread_reads(client, monkeypatch)
        for _ in range(3):
            get_answered_on_a_thread(client, "/api/v1/actions/1", action.content, ran)
        assert caplog.text.count("reads on the event loop failed (no such table") == 1
        time.sleep(1.1)
        monkeypatch.setattr(client.app.state.short_reads, "run", no_thread)  # type: ignore[attr-defined]
        assert client.get("/api/v1/actions/1").content == action.content
        assert "reads on the event loop work again" in caplog.text


if POSTGRES_URL:  # psycopg's async connections

    def unused_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    def end_connections(engine: Engine, application_name: str | None = None) -> int:
        """End the server processes of this database's connections (of application_name
        only, when given) but engine's own: as a restart would."""
        only = "AND application_name = :name" if application_name else ""
        with engine.connect() as admin:
            ended: int = admin.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    f"WHERE datname = current_database() AND pid <> pg_backend_pid() {only}"
                ),
                {"name": application_name},
            ).scalar_one()
            admin.commit()
        return ended

    def test_a_loop_connection_whose_server_side_ended_is_replaced_unnoticed(
        client: TestClient,
        seeded: SeedReport,
        engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Every connection's server process ended (a restart) while it lay idle: the next
        gets are read on the loop as ever, on new connections."""
        action = client.get("/api/v1/actions/1")
        assert end_connections(engine, db.LOOP_READS_NAME) == 2
        monkeypatch.setattr(client.app.state.short_reads, "run", no_thread)  # type: ignore[attr-defined]
        for _ in range(3):
            assert client.get("/api/v1/actions/1").content == action.content
        assert "event loop" not in caplog.text

    def test_a_read_on_the_loop_that_gets_no_connection_is_read_on_a_thread(
        client: TestClient,
        seeded: SeedReport,
        engine: Engine,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The loop's connections died and no new one can be made: each get is answered all
        the same, read on a thread, and the outage is logged once; once the server can be
        reached, the loop reads again (after its rest), and says so."""
        action = client.get("/api/v1/actions/1")
        loop_reads = client.app.state.loop_reads  # type: ignore[attr-defined]
        monkeypatch.setattr(loop_reads.pool, "timeout", 0.1)
        monkeypatch.setattr(
            loop_reads.pool, "kwargs", {**loop_reads.pool.kwargs, "port": unused_port()}
        )
        assert end_connections(engine, db.LOOP_READS_NAME) == 2
        ran = count_thread_reads(client, monkeypatch)
        get_answered_on_a_thread(client, "/api/v1/actions/1", action.content, ran)
        tries, connection = [], loop_reads.pool.connection

        def counted_connection(*args: Any, **kwargs: Any) -> Any:
            tries.append(args)
            return connection(*args, **kwargs)

        monkeypatch.setattr(loop_reads.pool, "connection", counted_connection)
        for _ in range(2):  # while the loop rests, straight to a thread
            get_answered_on_a_thread(client, "/api/v1/actions/1", action.content, ran)
        assert not tries
        assert caplog.text.count("reads on the event loop failed") == 1
        monkeypatch.undo()
        monkeypatch.setattr(loop_reads, "rest_seconds", 0.2)
        ran = count_thread_reads(client, monkeypatch)
        on_the_loop = 0
        deadline = time.monotonic() + 30  # the pool tries again after 1, 2, 4 ... seconds
        while on_the_loop < 3 and time.monotonic() < deadline:
            before = len(ran)
            assert client.get("/api/v1/actions/1").content == action.content
            on_the_loop = 0 if len(ran) > before else on_the_loop + 1
        assert on_the_loop == 3
        assert "reads on the event loop work again" in caplog.text

    def test_reads_waiting_at_once_are_one_statement_each_with_its_own_answer(
        client: TestClient, seeded: SeedReport, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Gets of many actions at once (and of one that does not exist) share statements on
        the loop; each answers its own action, as it does alone."""
        ids = [*range(1, 21), 9999]
        alone = {i: client.get(f"/api/v1/actions/{i}") for i in ids}
        statements = []
        rows_unless_dead = db._rows_unless_dead

        async def counted(*args: Any) -> Any:
            statements.append(args[2]["ids"])
            return await rows_unless_dead(*args)

        monkeypatch.setattr(db, "_rows_unless_dead", counted)
        monkeypatch.setattr(client.app.state.short_reads, "run", no_thread)  # type: ignore[attr-defined]
        with ThreadPoolExecutor(len(ids)) as pool:
            answers = pool.map(lambda i: client.get(f"/api/v1/actions/{i}"), ids)
            together = dict(zip(ids, answers, strict=True))
        for i in ids:
            assert (together[i].status_code, together[i].content) == (
                alone[i].status_code,
                alone[i].content,
            )
        assert sorted(i for batch in statements for i in batch) == ids
        assert len(statements) < len(ids)

    def test_a_read_asked_for_while_a_statement_is_out_waits_for_the_next_one(
        engine: Engine, seeded: SeedReport, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A caller never joins a statement sent before it asked: it would miss a write
        committed in between (the next request after a write must see it)."""
        versions = reads._queries(engine.dialect).versions
        rows_unless_dead = db._rows_unless_dead
        out, release = asyncio.Event(), asyncio.Event()

        async def held(*args: Any) -> Any:
            rows = await rows_unless_dead(*args)
            out.set()
            await release.wait()  # read, and not yet answered: still out
            return rows

        async def scenario() -> tuple[int, int]:
            loop_reads = db.LoopReads(engine, 1, 30)
            await loop_reads.open()
            try:
                before = asyncio.create_task(loop_reads.rows_among(versions, 1))
                await out.wait()
                await asyncio.to_thread(bump_version, engine, 1)
                after = asyncio.create_task(loop_reads.rows_among(versions, 1))
                await asyncio.sleep(0.05)
                release.set()
                return (await before or [{}])[0]["version"], (await after or [{}])[0]["version"]
            finally:
                await loop_reads.close()

        monkeypatch.setattr(db, "_rows_unless_dead", held)
        version_before, version_after = asyncio.run(scenario())
        assert version_after == version_before + 1

    def bump_version(engine: Engine, action_id: int) -> None:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE actions SET version = version + 1 WHERE id = :id"), {"id": action_id}
            )
