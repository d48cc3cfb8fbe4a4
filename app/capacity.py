"""Whether the connection pools of `tashan serve --workers N` fit in what PostgreSQL allows.

Each worker process has its own pool of TASHAN_DB_POOL_SIZE connections and may open
TASHAN_DB_MAX_OVERFLOW more at a peak, and on PostgreSQL keeps TASHAN_LOOP_READ_CONNECTIONS
for the reads on its event loop. When all of them together are more than the server
accepts, nothing fails at start-up: a busy moment later gets "too many clients" (503s), and
also locks out the backups, cron jobs and psql sessions that need a connection then.
"""

from dataclasses import dataclass

from sqlalchemy import Engine, text

# reserved_connections exists from PostgreSQL 16 on; current_setting(name, true) is NULL
# where it does not.
LIMITS = text(
    """
    SELECT current_setting('max_connections')::int AS max_connections,
        current_setting('superuser_reserved_connections')::int
            + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
        (SELECT count(*) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()) AS in_use
    """
)


@dataclass(frozen=True)
class ServerLimits:
    """PostgreSQL's connection limits, and the sessions other clients hold at the moment."""

    max_connections: int
    reserved: int  # for superusers (and, from PostgreSQL 16, roles granted them)
    in_use: int

    @property
    def allowed(self) -> int:
        """The connections ordinary clients may hold together."""
        return self.max_connections - self.reserved

    @property
    def free(self) -> int:
        """The connections ordinary clients may still open now."""
        return max(self.allowed - self.in_use, 0)


@dataclass(frozen=True)
class Pools:
    """The connections the server's worker processes may open."""

    workers: int
    pool_size: int
    max_overflow: int
    loop_reads: int = 0  # the connections of app.db.LoopReads

    @property
    def most(self) -> int:
        """All workers' pools full and overflowing."""
        return self.workers * (self.pool_size + self.max_overflow + self.loop_reads)

    @property
    def summary(self) -> str:
        """How many connections, from which settings."""
        loop_reads = f" + TASHAN_LOOP_READ_CONNECTIONS {self.loop_reads}" if self.loop_reads else ""
        return (
            f"{self.workers} worker{'s' if self.workers > 1 else ''} x (TASHAN_DB_POOL_SIZE "
            f"{self.pool_size} + TASHAN_DB_MAX_OVERFLOW {self.max_overflow}{loop_reads}) = "
            f"{self.most} connections"
        )


def read_limits(engine: Engine) -> ServerLimits | None:
    """The database's connection limits; None for SQLite, which has none."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        row = connection.execute(LIMITS).one()
    return ServerLimits(row.max_connections, row.reserved, row.in_use)


def overcommitment(pools: Pools, limits: ServerLimits) -> str | None:
    """Why pools can never fit the server, even with no other client, and what to change;
    None when they can."""
    if pools.most <= limits.allowed:
        return None
    return (
        f"{pools.summary}, more than the {limits.allowed} PostgreSQL allows (max_connections "
        f"{limits.max_connections} - {limits.reserved} reserved); {_remedy(pools, limits)}"
    )


def _remedy(pools: Pools, limits: ServerLimits) -> str:
    per_worker = limits.allowed // pools.workers - pools.loop_reads
    if per_worker > pools.max_overflow:
        change = f"set TASHAN_DB_POOL_SIZE={per_worker - pools.max_overflow} or less, "
    elif per_worker > 0:
        change = f"keep TASHAN_DB_POOL_SIZE + TASHAN_DB_MAX_OVERFLOW at {per_worker} or less, "
    else:
        change = ""
    return f"{change}run fewer workers or raise max_connections"


def crowding(pools: Pools, limits: ServerLimits) -> str | None:
    """Why pools that fit the server may not fit beside the clients connected now; None when
    they do."""
    if pools.most <= limits.free:
        return None
    return (
        f"{pools.summary}, but only {limits.free} of the {limits.allowed} PostgreSQL allows "
        f"are free now ({limits.in_use} held by other sessions); at a peak some requests would "
        "get 503"
    )
