"""Engines, SQLite connection set-up and the request-scoped session dependencies."""

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import DateTime, Dialect, Engine, MetaData, Select, event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from app.squash import squash

# Stable constraint names, so Alembic can alter and drop them on every backend.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

logger = logging.getLogger("tashan")
WRITE = "tashan_write"  # execution option: this transaction will write


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def create_db_engine(
    url: str,
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    statement_timeout_seconds: float = 0,
) -> Engine:
    """An engine for url keeping pool_size connections and opening up to max_overflow more at
    a peak (the server's come from its settings; a command's are SQLAlchemy's defaults, enough
    for its one thread); SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE for writes. On
    PostgreSQL a statement that runs longer than statement_timeout_seconds is cancelled (0:
    never)."""
    parsed = make_url(url)
    limits = {"pool_size": pool_size, "max_overflow": max_overflow}
    pool = {name: limit for name, limit in limits.items() if limit is not None}
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url,
            connect_args=_postgresql_connect_args(parsed, statement_timeout_seconds),
            json_serializer=_dumps,
            **pool,
        )
        for moment in ("connect", "checkin"):
            event.listen(engine, moment, _note_idle_since)
        event.listen(engine, "checkout", _ping_if_idle)
        event.listen(engine, "handle_error", _reopen_after_read_only)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=_dumps,
        **pool,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    event.listen(engine, "handle_error", _reopen_after_read_only)
    return engine


# A pooled PostgreSQL connection is pinged before use once it has lain idle this long (the
# server may have restarted meanwhile; a dead one is replaced, unnoticed by the request). Not
# every time, as pool_pre_ping would: one that served a request a moment ago is alive, and its
# ping was half the round trips of a kept read (a get: 195 -> 114 us without it).
PING_AFTER_IDLE_SECONDS = 1.0


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        with closing(dbapi_connection.cursor()) as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:  # the pool drops it and checks out another
        raise DisconnectionError(f"a pooled connection is dead: {exc}") from exc


def _postgresql_connect_args(url: URL, statement_timeout_seconds: float) -> dict[str, Any]:
    # Without a connect timeout a database host that stops answering hangs every request for
    # minutes; with it they fail fast with 503. A timeout in the URL wins.
    args: dict[str, Any] = {} if "connect_timeout" in url.query else {"connect_timeout": 5}
    timeout_ms = round(statement_timeout_seconds * 1000)
    if timeout_ms:
        # A start-up option rather than a SET: no round trip, and no transaction or pool reset
        # can undo it. It goes after the URL's own options, which would otherwise be replaced.
        own = url.query.get("options", ())
        options = [own] if isinstance(own, str) else list(own)
        args["options"] = " ".join([*options, f"-c statement_timeout={timeout_ms}"])
    return args


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _begin_sqlite_transaction) instead of pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "busy_timeout=30000",
        "synchronous=NORMAL",
        "foreign_keys=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()
    dbapi_connection.create_function("search_squash", 1, squash, deterministic=True)


def _begin_sqlite_transaction(conn: Connection) -> None:
    # A deferred BEGIN that later writes fails at once with "database is locked" when another
    # writer holds the lock, ignoring busy_timeout; BEGIN IMMEDIATE waits for it instead.
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_read_only_error(error: BaseException | None) -> bool:
    """Whether the database refused a write because it takes none: a SQLite file it may not
    write, or a PostgreSQL hot standby or default_transaction_read_only database."""
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith("SQLITE_READONLY") or getattr(error, "sqlstate", "") == "25006"


def _reopen_after_read_only(context: ExceptionContext) -> None:
    # SQLite opens a file it may not write read-only, and a PostgreSQL session keeps the
    # read-only default it started with; counting the error as a disconnect drops the pooled
    # connections, so writes work again as soon as the database takes them, without a restart.
    if is_read_only_error(context.original_exception):
        context.is_disconnect = True


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for a request that only reads.

    async, so neither opening it (no I/O: it connects on first use, in the route's thread)
    nor closing it (a read-only rollback) waits for a thread-pool worker."""
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        _close(session)


# session.info key of the settings of the app whose request a session serves, for what a
# change brings about (the texts of its notifications); elsewhere the environment's.
SETTINGS = "tashan.settings"


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for a request that writes: on SQLite its transaction takes the lock first.

    The one commit of the request: once the handler has returned, before the response is
    sent (WriteSessionDep's scope), so a failed commit is the client's answer too. An error
    in the handler rolls everything back; services only flush."""
    engine: Engine = request.app.state.engine
    session = Session(engine.execution_options(**{WRITE: True}))
    session.info[SETTINGS] = request.app.state.settings
    try:
        yield session
        session.commit()
    finally:
        _close(session)


def _close(session: Session) -> None:
    try:
        session.close()
    except DBAPIError as exc:
        # The database went away after the request's work was done (a commit has already
        # succeeded or failed): the answer stands, the dead connection is dropped.
        logger.warning("could not close a database session: %s", exc.orig)


def begin_read(connection: Connection) -> None:
    """Ready connection for a read of several statements that must agree: on SQLite one
    transaction, one snapshot. On PostgreSQL autocommit instead: at read committed a
    transaction gives each statement its own snapshot anyway (a later statement sees the
    same data or newer), so its BEGIN and ROLLBACK would be two round trips for nothing —
    half of a kept get's."""
    if connection.dialect.name == "sqlite":
        connection.begin()
    else:
        connection.execution_options(isolation_level="AUTOCOMMIT")


def bound_ids(ids: Sequence[int], dialect: Dialect) -> Any:
    """ids as a statement binds a list of them: an array on PostgreSQL, JSON text on SQLite
    (read with json_each)."""
    return list(ids) if dialect.name == "postgresql" else json.dumps(list(ids))


@contextmanager
def driver_cursor(connection: Connection) -> Iterator[Any]:
    """A DBAPI cursor on connection, for the hottest reads (see DriverQuery). Its errors are
    raised as SQLAlchemy's, so that a lost database is still a 503, and a lost connection is
    dropped from the pool, as SQLAlchemy's own execution does."""
    dbapi_connection = connection.connection.dbapi_connection
    dialect = connection.dialect
    cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi_connection, cursor):
            connection.invalidate(exc)
        raise DBAPIError.instance(None, None, exc, dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.close()


Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class DriverQuery:
    """A Core select compiled once for a dialect and run on a DBAPI cursor, its values
    converted by the column types as SQLAlchemy would. On a hot read SQLAlchemy's work per
    statement (cache key, execution context, result rows) costs more than the query itself."""

    sql: str
    positions: tuple[str, ...] | None  # bind names in the order of a positional paramstyle
    names: tuple[str, ...]  # of the columns
    processors: tuple[tuple[str, Processor], ...]  # (column name, converter)

    @classmethod
    def of(cls, statement: Select[*tuple[Any, ...]], dialect: Dialect) -> "DriverQuery":
        """statement compiled for dialect."""
        compiled = statement.compile(dialect=dialect)
        processors = []
        for name, column in statement.selected_columns.items():
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                processors.append((name, processor))
        positions = tuple(compiled.positiontup or ()) if compiled.positional else None
        names = tuple(statement.selected_columns.keys())
        return cls(compiled.string, positions, names, tuple(processors))

    def rows(self, cursor: Any, **values: Any) -> list[dict[str, Any]]:
        """The rows the query gives for the bind values, as dicts by column name."""
        cursor.execute(self.sql, self.parameters(values))
        return self.converted(cursor.fetchall())

    def parameters(self, values: dict[str, Any]) -> Any:
        """The bind values as the driver takes them."""
        if self.positions is None:
            return values
        return tuple(values[name] for name in self.positions)

    def converted(self, fetched: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """The rows the driver fetched, as dicts by column name of converted values."""
        rows = [dict(zip(self.names, row, strict=True)) for row in fetched]
        for row in rows:
            for name, processor in self.processors:
                row[name] = processor(row[name])
        return rows


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A writing session outside a request (CLI, seed, scheduler) that commits once, when the
    block ends without an error; an error rolls it all back. What it loaded keeps its values
    after the block (nothing but the block itself could have changed them)."""
    session = Session(engine.execution_options(**{WRITE: True}), expire_on_commit=False)
    try:
        yield session
        session.commit()
    finally:
        _close(session)


def on_commit(session: Session, effect: Callable[[], None]) -> None:
    """Run effect once session's transaction has committed, and never if it rolls back: for
    what must wait until a change is kept (a file written, a cache entry dropped). The effect
    must not use the session."""
    session.info.setdefault(_ON_COMMIT, []).append(effect)


_ON_COMMIT = "tashan_on_commit"


@event.listens_for(Session, "after_commit")
def _run_commit_effects(session: Session) -> None:
    for effect in session.info.pop(_ON_COMMIT, []):
        effect()


@event.listens_for(Session, "after_rollback")
def _drop_commit_effects(session: Session) -> None:
    session.info.pop(_ON_COMMIT, None)


T = TypeVar("T")


class ShortReads:
    """Where a request's short, index-bounded reads run (a get, a list page without a search
    or as_of): on threads of their own, or inline on the event loop with threads=0. Not the
    server's thread pool of 40: with dozens of threads taking turns, Python's sqlite3 hands
    the GIL over on every row fetched, and that hand-over cost more than the reads (issue
    19: a pool of one thread nearly doubled the list's throughput). Long work (stats,
    reports, searches, imports) stays on the pool, never on the loop."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """function(*args), where short reads run."""
        if not self._threads:
            return function(*args)
        if self._executor is None:  # first use since start-up (an app may be started again)
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="tashan-read")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args))

    def close(self) -> None:
        """Let the threads end once their work is done."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


class LoopReads:
    """Reads of one statement run on the event loop itself: what answers a kept get or list
    page (app/actions/reads.py) with no thread hop at all, whose hand-over and turns at the
    GIL cost more than the read itself (a kept get at 32 connections: ~400 us of CPU through
    a thread, ~80 us on the loop).

    On PostgreSQL through psycopg's async connections, and the reads of the same statement
    waiting at once are one statement (rows_among): under load a kept get costs a fraction
    of a round trip, and the database a fraction of a query. On SQLite in line, on one
    connection of its own: such a read is an indexed row or two, microseconds, and it never
    waits for a lock (no busy timeout: WAL readers take none, and a rare SQLITE_BUSY is read
    on a thread instead).

    Open while the app runs (its lifespan), on that event loop only. No ping before a read:
    the read is its own, and one whose connection turns out dead (the server restarted
    while it lay idle) is run again on another. A read that fails otherwise (the server is
    down, no connection came in time) gives None, and the caller reads on its threads
    instead, where the client gets a 503 if need be: this path adds nothing a client sees.
    After such a failure the loop rests for rest_seconds, every read going to the threads
    at once (not waiting for a connection first), then tries again: an outage is logged
    when it starts and when it ends, not at every request."""

    def __init__(self, engine: Engine, connections: int, statement_timeout_seconds: float):
        url = engine.url
        self.dialect = engine.dialect
        self._engine = engine
        self._connections = connections
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connect_args = _postgresql_connect_args(url, statement_timeout_seconds)
        # Named, for whoever looks at pg_stat_activity (unless the URL names them all).
        if "application_name" not in url.query:
            connect_args["application_name"] = LOOP_READS_NAME
        self._kwargs: dict[str, Any] = {"autocommit": True, **connect_args}
        self.pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._sqlite: Any = None  # SQLite's DBAPI connection
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: asyncio.Semaphore | None = None  # a statement a connection, at most
        self._open_batches: dict[DriverQuery, _Batch] = {}
        self._sending: set[asyncio.Task[None]] = set()  # referenced while they run
        self.rest_seconds = LOOP_READ_REST_SECONDS
        self._failing_until: float | None = None  # reads fail: none on the loop before then

    async def open(self) -> None:
        """Start connecting, on the running loop (without waiting: a database that is down
        at start-up must not keep the server from starting). Once only: an app run on two
        loops at once (a test's second client) reads on threads on the other."""
        if not self._connections or self._loop is not None:
            return
        if self.dialect.name == "sqlite":
            if self._engine.url.database not in (None, "", ":memory:"):  # else none to share
                self._loop = asyncio.get_running_loop()  # connected at the first read
            return
        self.pool = AsyncConnectionPool(
            self._conninfo,
            kwargs=self._kwargs,
            min_size=self._connections,
            max_size=self._connections,
            open=False,
            timeout=LOOP_READ_WAIT_SECONDS,
            name=LOOP_READS_NAME,
        )
        await self.pool.open(wait=False)
        self._loop = asyncio.get_running_loop()
        self._in_flight = asyncio.Semaphore(self._connections)
        self._open_batches.clear()

    async def close(self) -> None:
        """Close the connections, on the loop that opened them."""
        if self._loop is None or asyncio.get_running_loop() is not self._loop:
            return
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self.pool is not None:
            await self.pool.close()
            self.pool = None
        self._loop = None

    async def rows_among(self, query: DriverQuery, item: int | None) -> list[dict[str, Any]] | None:
        """query's rows (see DriverQuery.rows) for a set of ids bound as "ids", item one of
        them (None: none of its own), read with those of every caller waiting at once: the
        rows of all their ids, each caller picking its own (on SQLite, read alone in line).
        None when this app reads nothing on the loop (turned off, not started, another loop)
        or the read failed.

        A batch takes callers until its statement is sent, which it is as soon as one of the
        connections is free: every caller's read starts after the caller asked, so it sees
        every write committed before (what a read of its own would)."""
        if self._loop is None or asyncio.get_running_loop() is not self._loop:
            return None
        if self._failing_until is not None and time.monotonic() < self._failing_until:
            return None
        if self.dialect.name == "sqlite":
            return self._rows_in_line(query, [] if item is None else [item])
        batch = self._open_batches.get(query)
        if batch is None:
            batch = self._open_batches[query] = _Batch(query)
            task = asyncio.create_task(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        if item is not None:
            batch.ids.add(item)
        # Shielded: a caller that goes away (its client hung up) must not cancel the others'.
        return await asyncio.shield(batch.rows)

    def _rows_in_line(self, query: DriverQuery, ids: list[int]) -> list[dict[str, Any]] | None:
        try:
            if self._sqlite is None:
                self._sqlite = self._sqlite_connection()
            with closing(self._sqlite.cursor()) as cursor:
                rows = query.rows(cursor, ids=bound_ids(ids, self.dialect))
        except (sqlite3.Error, DBAPIError) as exc:
            if self._sqlite is not None:  # the next read opens another
                self._sqlite.close()
                self._sqlite = None
            self._failed(exc)
            return None
        return self._worked(rows)

    def _sqlite_connection(self) -> Any:
        """A connection configured as the engine's are, but its own: not one of the pool's.
        Not opened before the first read: a file that cannot be opened must not keep the
        server from starting, nor hold the database open for nothing (a bulk load that
        turns its journal off needs it alone)."""
        connection = self._engine.raw_connection()
        connection.detach()
        with closing(connection.cursor()) as cursor:
            cursor.execute("PRAGMA busy_timeout = 0")
            cursor.execute("PRAGMA query_only = ON")
        return connection

    async def _send(self, batch: "_Batch") -> None:
        assert self._in_flight is not None
        try:
            async with self._in_flight:
                if self._open_batches.get(batch.query) is batch:
                    del self._open_batches[batch.query]  # closed: later callers make another
                ids = bound_ids(sorted(batch.ids), self.dialect)
                batch.rows.set_result(await self._rows(batch.query, ids=ids))
        except Exception as exc:  # a bug: each caller's request fails with it
            batch.rows.set_exception(exc)
        finally:
            if not batch.rows.done():  # cancelled: the server is stopping
                batch.rows.cancel()

    async def _rows(self, query: DriverQuery, **values: Any) -> list[dict[str, Any]] | None:
        """query's rows for the bind values, or None when the read failed."""
        assert self.pool is not None
        # Every connection may have died at once: one try more than there are, the last on
        # a new connection (the pool replaces each dead one as it comes back).
        for _ in range(self._connections + 1):
            try:
                async with self.pool.connection() as connection:
                    rows = await _rows_unless_dead(connection, query, values)
            except psycopg.Error as exc:  # PoolTimeout is one
                self._failed(exc)
                return None
            if rows is not None:
                return self._worked(rows)
        self._failed("no live connection")
        return None

    def _failed(self, reason: object) -> None:
        """Rest after a failed read (logged if reads worked until then)."""
        if self._failing_until is None:
            logger.warning(
                "reads on the event loop failed (%s): reading on threads, and on the loop "
                "again once it can (tried every %g s)",
                reason,
                self.rest_seconds,
            )
        self._failing_until = time.monotonic() + self.rest_seconds

    def _worked(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """rows, once noted that reads work (logged if they failed until then)."""
        if self._failing_until is not None:
            self._failing_until = None
            logger.warning("reads on the event loop work again")
        return rows


@dataclass(eq=False)
class _Batch:
    """The callers of LoopReads.rows_among waiting for one statement: their ids, and the rows."""

    query: DriverQuery
    ids: set[int] = field(default_factory=set)
    rows: "asyncio.Future[list[dict[str, Any]] | None]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


async def _rows_unless_dead(
    connection: AsyncConnection[Any], query: DriverQuery, values: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """query's rows on connection, or None when its server process has gone."""
    try:
        cursor = await connection.execute(query.sql, query.parameters(values))
        return query.converted(await cursor.fetchall())
    except psycopg.OperationalError:
        if connection.broken:
            return None
        raise


LOOP_READS_NAME = "tashan-loop-reads"
# How long a read on the loop waits for one of its connections: far longer than a busy
# server makes it wait (reads of a fraction of a millisecond), far shorter than a client.
LOOP_READ_WAIT_SECONDS = 1.0
# How long the loop reads nothing after a failed read: during an outage, one try of the loop
# every few seconds, every other read straight to a thread.
LOOP_READ_REST_SECONDS = 5.0


SessionDep = Annotated[Session, Depends(get_session)]
# scope="function": the session's commit runs before the response is sent, not after.
WriteSessionDep = Annotated[Session, Depends(get_write_session, scope="function")]


def backup_problem(source: Path, target: Path) -> str | None:
    """Why source cannot be backed up to target, or None."""
    if not source.is_file():
        return f"there is no database at {source}"
    if target.exists():
        return f"{target} exists; pick a new file name"
    if not target.parent.is_dir():
        return f"the folder {target.parent} does not exist"
    return None


def backup_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database through its online backup API: it reads one
    snapshot, the WAL's committed changes included, while the server goes on writing."""
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
