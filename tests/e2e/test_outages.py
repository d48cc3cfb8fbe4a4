"""The database goes away or stops taking writes: the service answers 503 problem+json at
once (no hang, no 500, no trace), keeps serving reads where it can, loses nothing, and
recovers by itself when the database comes back.

PostgreSQL goes away behind a TCP proxy the test cuts (the machine's server keeps running);
SQLite becomes read-only (file mode, plus the immutable flag for root, whom modes do not
stop) or its disk fills up (the server starts with a low RLIMIT_FSIZE, raised later)."""

import os
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, make_url, text
from sqlmodel import Session, col, select

from app import migrations
from app.actions.models import Action, ActionEvent, EventKind
from app.auth.models import Role
from app.config import SEEDS_DIR
from app.db import create_db_engine
from app.seeding.service import seed_database
from tests.helpers import (
    POSTGRES_URL,
    assert_every_action_whole,
    assert_problem,
    free_port,
    make_key,
    tashan_process,
)

LOADERS = 3


class TcpProxy:
    """A TCP relay from a loopback port to a target that a test can cut, hang and restore."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._relay = True

    def start(self) -> None:
        """Relay again (dropping connections held while hung)."""
        self._relay = True
        self._break_connections()
        self._listen()

    def cut(self) -> None:
        """Stop listening and break every open connection, as a database that went down."""
        listener, self._listener = self._listener, None
        assert listener is not None
        listener.close()
        self._break_connections()

    def hang(self) -> None:
        """Break every open connection and accept new ones but relay nothing, as a database
        host that stopped answering."""
        self._relay = False
        self._break_connections()
        self._listen()

    def _listen(self) -> None:
        if self._listener is None:
            self._listener = socket.create_server(("127.0.0.1", self.port))
            self._listener.settimeout(0.1)
            threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _break_connections(self) -> None:
        with self._lock:
            doomed, self._sockets = self._sockets, []
        for sock in doomed:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._relay:
                with self._lock:
                    self._sockets.append(client)
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@dataclass
class Answer:
    """One request made under load: when it started and ended, and what came back."""

    started: float
    ended: float
    response: httpx.Response

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class Load:
    """Client threads reading and writing their own action until stopped."""

    base_url: str
    key: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.threads = [threading.Thread(target=self._run, args=(n + 1,)) for n in range(LOADERS)]

    def __enter__(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, action_id: int) -> None:
        # A timeout well above the database connect timeout: a hang fails the test.
        with httpx.Client(
            base_url=self.base_url, headers={"X-API-Key": self.key}, timeout=20
        ) as client:
            for n in range(100_000):
                if self.stop.is_set():
                    return
                url = f"/api/v1/actions/{action_id}"
                read = self._timed(client, "GET", url)
                if read.status_code == 200:
                    headers = {"If-Match": read.headers["ETag"]}
                    self._timed(
                        client, "PATCH", url, json={"assignee": f"load-{n}"}, headers=headers
                    )
                time.sleep(0.02)

    def _timed(self, client: httpx.Client, method: str, url: str, **options: Any) -> httpx.Response:
        started = time.monotonic()
        response = client.request(method, url, **options)
        self.answers.append(Answer(started, time.monotonic(), response))
        return response

    def count_after(self, moment: float, status: int) -> int:
        return sum(
            1 for a in list(self.answers) if a.started > moment and a.response.status_code == status
        )

    def wait_for(self, moment: float, status: int, count: int) -> None:
        while self.count_after(moment, status) < count:
            assert all(thread.is_alive() for thread in self.threads), "a load thread died"
            time.sleep(0.05)


def proxied(url: str, proxy: TcpProxy) -> str:
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


def seeded_with_key(engine: Engine) -> str:
    seed_database(engine, SEEDS_DIR)
    return make_key(engine, Role.admin, name="outage-admin")


if POSTGRES_URL:  # the outage needs a PostgreSQL server to relay to

    @pytest.mark.parametrize("outage", ["down", "hung"])
    def test_postgres_outage_gives_quick_503_and_recovers_without_restart(
        outage: str, engine: Engine, database_url: str, tmp_path: Path
    ) -> None:
        key = seeded_with_key(engine)
        proxy = TcpProxy(make_url(database_url).port or 5432)
        proxy.start()
        with (
            tashan_process(proxied(database_url, proxy), tmp_path / "server.log") as (base_url, _),
            Load(base_url, key) as load,
        ):
            load.wait_for(0, 200, 20)
            proxy.cut() if outage == "down" else proxy.hang()
            cut_at = time.monotonic()
            # a hung host costs each request the connect timeout, so fewer are awaited
            load.wait_for(cut_at, 503, 30 if outage == "down" else 6)
            not_ready = httpx.get(f"{base_url}/readyz", timeout=20)
            proxy.start()
            back_at = time.monotonic()
            load.wait_for(back_at, 200, 20)
            ready = httpx.get(f"{base_url}/readyz", timeout=20)

        assert_problem(not_ready, 503)
        assert ready.status_code == 200
        during = [a for a in load.answers if cut_at < a.started and a.ended < back_at]
        for answer in during:
            body = assert_problem(answer.response, 503)
            assert body["type"] == "urn:tashan:problem:database-unavailable"
        after = [a for a in load.answers if a.started > back_at]
        first_ok = min(a.ended for a in after if a.response.status_code == 200)
        assert "Traceback" not in (tmp_path / "server.log").read_text()
        checked = assert_every_action_whole(engine)
        latencies = sorted(a.latency for a in during)
        print(
            f"\npostgres {outage}: {len(during)} requests during the outage, all 503 problem+json "
            f"(median {statistics.median(latencies) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms); "
            f"/readyz 503 during, 200 after; first 200 {first_ok - back_at:.2f} s after the "
            f"proxy came back; {len(load.answers)} requests in all; {checked} actions whole"
        )

    def test_read_only_postgresql_refuses_writes_with_503_serves_reads_and_recovers(
        engine: Engine, database_url: str, tmp_path: Path
    ) -> None:
        """As a hot standby answers, or a database set default_transaction_read_only."""
        key = seeded_with_key(engine)
        before = snapshot(engine)
        name = make_url(database_url).database
        with (
            database_setting(engine, name, "default_transaction_read_only", "on"),
            tashan_process(database_url, tmp_path / "server.log") as (base_url, _),
        ):
            answers = writes_while_read_only(
                base_url,
                key,
                lambda: reset_database_setting(engine, name, "default_transaction_read_only"),
            )

        answers.assert_refused_then_recovered(engine, before)
        assert "Traceback" not in (tmp_path / "server.log").read_text()
        print(f"\nread-only PostgreSQL: {len(answers.refused)} writes refused with 503, recovered")

    @contextmanager
    def database_setting(
        engine: Engine, name: str | None, setting: str, value: str
    ) -> Iterator[None]:
        """ALTER DATABASE name SET setting = value for the sessions that start meanwhile."""
        with engine.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" SET {setting} = {value}'))
            connection.commit()
        try:
            yield
        finally:
            reset_database_setting(engine, name, setting)

    def reset_database_setting(engine: Engine, name: str | None, setting: str) -> None:
        with engine.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET {setting}'))
            connection.commit()


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Path, Engine, str]]:
    """A seeded SQLite database of its own, whichever backend the suite runs on, with the
    WAL folded in; its path, engine and an admin key."""
    path = tmp_path / "tashan.db"
    url = f"sqlite:///{path}"
    migrations.upgrade(url)
    engine = create_db_engine(url)
    key = seeded_with_key(engine)
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield path, engine, key
    engine.dispose()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """path cannot be written while inside (unless make_writable is called)."""
    path.chmod(0o444)
    if os.geteuid() == 0:  # file modes do not stop root; the immutable flag does
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        yield
    finally:
        make_writable(path)


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    path.chmod(0o644)


def patch(client: httpx.Client, action_id: int, assignee: str) -> httpx.Response:
    etag = client.get(f"/api/v1/actions/{action_id}").headers["ETag"]
    return client.patch(
        f"/api/v1/actions/{action_id}", json={"assignee": assignee}, headers={"If-Match": etag}
    )


def other_writes(client: httpx.Client, action_id: int) -> list[httpx.Response]:
    """A create, a transition and a progress update, each with its current ETag."""
    template = client.get(f"/api/v1/actions/{action_id}").json()
    create = client.post(
        "/api/v1/actions",
        json={
            "source_id": template["source_id"],
            "quote": template["quote"],
            "quote_start": template["quote_start"],
            "title": "written while broken",
            "kind": "lesson",
            "owner_id": template["owner"]["id"],
        },
    )
    responses = [create]
    for path, body in (("transitions", {"to": "accepted"}), ("updates", {"note": "broken"})):
        etag = client.get(f"/api/v1/actions/{action_id}").headers["ETag"]
        url = f"/api/v1/actions/{action_id}/{path}"
        responses.append(client.post(url, json=body, headers={"If-Match": etag}))
    return responses


def test_read_only_sqlite_refuses_writes_with_503_serves_reads_and_recovers(
    sqlite_file: tuple[Path, Engine, str], tmp_path: Path
) -> None:
    path, engine, key = sqlite_file
    before = snapshot(engine)
    with (
        read_only(path),
        tashan_process(f"sqlite:///{path}", tmp_path / "server.log") as (base_url, _),
    ):
        answers = writes_while_read_only(base_url, key, lambda: make_writable(path))

    answers.assert_refused_then_recovered(engine, before)
    print(f"\nread-only SQLite: {len(answers.refused)} writes refused with 503, recovered")


@dataclass
class ReadOnlyAnswers:
    """What the server answered while its database took no writes, and the write after."""

    listed: httpx.Response
    refused: list[httpx.Response]
    ready: httpx.Response
    again: httpx.Response

    def assert_refused_then_recovered(
        self, engine: Engine, before: dict[int | None, dict[str, Any]]
    ) -> None:
        """Reads and readiness served, every write a 503 saying why and changing nothing,
        and the write after recovery landed whole."""
        assert self.listed.status_code == 200
        assert self.listed.json()["total"] == len(before)
        for response in self.refused:
            body = assert_problem(response, 503)
            assert "read-only" in body["detail"]
        assert self.ready.status_code == 200
        assert self.again.status_code == 200
        after = snapshot(engine)
        assert after.pop(1)["assignee"] == "writable again"
        assert after == {i: fields for i, fields in before.items() if i != 1}
        assert_every_action_whole(engine)


def writes_while_read_only(
    base_url: str, key: str, make_writable: Callable[[], None]
) -> ReadOnlyAnswers:
    """A list, writes of each kind and /readyz against a read-only database, then a write
    (retried: a pooled connection may still be read-only) once make_writable has run."""
    with httpx.Client(base_url=base_url, headers={"X-API-Key": key}) as client:
        listed = client.get("/api/v1/actions", params={"limit": 200})
        refused = [patch(client, 1, "read-only"), *other_writes(client, 2)]
        ready = client.get("/readyz")
        make_writable()
        again = retry_until_ok(lambda: patch(client, 1, "writable again"))
    return ReadOnlyAnswers(listed, refused, ready, again)


def test_full_disk_refuses_writes_with_503_keeps_acknowledged_ones_and_recovers(
    sqlite_file: tuple[Path, Engine, str], tmp_path: Path
) -> None:
    path, engine, key = sqlite_file
    limit = path.stat().st_size + 128 * 1024

    def low_file_size_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    with (
        tashan_process(f"sqlite:///{path}", tmp_path / "server.log", low_file_size_limit) as (
            base_url,
            process,
        ),
        httpx.Client(base_url=base_url, headers={"X-API-Key": key}) as client,
    ):
        acknowledged = write_until_refused(client)
        refused = [patch(client, 1, "disk full"), *other_writes(client, 2)]
        read = client.get("/api/v1/actions/1")
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        again = retry_until_ok(lambda: patch(client, 1, "space again"))

    for response in refused:
        body = assert_problem(response, 503)
        assert "disk" in body["detail"]
    assert read.status_code == 200
    assert read.json()["assignee"] == f"fill-{len(acknowledged) - 1}"
    assert again.status_code == 200
    assert_every_action_whole(engine)
    assignees = [e["changes"]["assignee"][1] for e in timeline_changes(engine, 1)]
    assert assignees == [*acknowledged, "space again"]
    print(
        f"\nfull disk: {len(acknowledged)} writes acknowledged before the disk filled, all kept; "
        f"{len(refused)} more refused with 503; writes work again once there is room"
    )


def write_until_refused(client: httpx.Client) -> list[str]:
    """PATCH action 1 until a write is refused; the assignees of the acknowledged ones."""
    acknowledged: list[str] = []
    for n in range(1000):
        response = patch(client, 1, f"fill-{n}")
        if response.status_code != 200:
            assert_problem(response, 503)
            return acknowledged
        acknowledged.append(f"fill-{n}")
    raise AssertionError("the disk never filled")


def retry_until_ok(write: Any, attempts: int = 5) -> httpx.Response:
    """The first 2xx of a few tries: a pooled connection may still see the old trouble."""
    for _ in range(attempts - 1):
        response = write()
        if response.is_success:
            return response
    return write()


def snapshot(engine: Engine) -> dict[int | None, dict[str, Any]]:
    """Every action's fields but updated_at, by id."""
    with Session(engine) as session:
        actions = session.exec(select(Action)).all()
    fields = ("title", "status", "progress", "assignee", "version", "archived")
    return {a.id: {name: getattr(a, name) for name in fields} for a in actions}


def timeline_changes(engine: Engine, action_id: int) -> list[dict[str, Any]]:
    """The updated events of an action, oldest first."""
    with Session(engine) as session:
        events = session.exec(
            select(ActionEvent)
            .where(ActionEvent.action_id == action_id, ActionEvent.kind == EventKind.updated)
            .order_by(col(ActionEvent.id))
        ).all()
    return [{"changes": e.changes} for e in events]
