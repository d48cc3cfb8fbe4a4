"""Whether the pools of `tashan serve --workers N` fit in PostgreSQL's connection limits."""

from sqlalchemy import Engine

from app.capacity import Pools, ServerLimits, crowding, overcommitment, read_limits
from tests.helpers import POSTGRES_URL

STOCK = ServerLimits(max_connections=100, reserved=3, in_use=0)  # PostgreSQL's defaults


def test_pools_that_fit_an_idle_server_are_neither_refused_nor_warned_about() -> None:
    fitting = Pools(workers=4, pool_size=14, max_overflow=10)  # 96 of 97
    assert overcommitment(fitting, STOCK) is None
    assert crowding(fitting, STOCK) is None


def test_pools_over_the_limit_are_refused_with_the_numbers_and_a_pool_size_that_fits() -> None:
    problem = overcommitment(Pools(workers=4, pool_size=40, max_overflow=10), STOCK)
    assert problem == (
        "4 workers x (TASHAN_DB_POOL_SIZE 40 + TASHAN_DB_MAX_OVERFLOW 10) = 200 connections, "
        "more than the 97 PostgreSQL allows (max_connections 100 - 3 reserved); "
        "set TASHAN_DB_POOL_SIZE=14 or less, run fewer workers or raise max_connections"
    )
    assert overcommitment(Pools(workers=4, pool_size=14, max_overflow=10), STOCK) is None


def test_the_connections_of_the_reads_on_the_event_loop_count_too() -> None:
    problem = overcommitment(Pools(workers=4, pool_size=14, max_overflow=10, loop_reads=2), STOCK)
    assert problem == (
        "4 workers x (TASHAN_DB_POOL_SIZE 14 + TASHAN_DB_MAX_OVERFLOW 10 + "
        "TASHAN_LOOP_READ_CONNECTIONS 2) = 104 connections, more than the 97 PostgreSQL allows "
        "(max_connections 100 - 3 reserved); set TASHAN_DB_POOL_SIZE=12 or less, run fewer "
        "workers or raise max_connections"
    )
    assert (
        overcommitment(Pools(workers=4, pool_size=12, max_overflow=10, loop_reads=2), STOCK) is None
    )


def test_when_the_overflow_alone_is_too_many_the_remedy_names_both_settings() -> None:
    problem = overcommitment(Pools(workers=20, pool_size=1, max_overflow=10), STOCK)
    assert problem is not None
    assert problem.endswith(
        "keep TASHAN_DB_POOL_SIZE + TASHAN_DB_MAX_OVERFLOW at 4 or less, "
        "run fewer workers or raise max_connections"
    )
    assert overcommitment(Pools(workers=20, pool_size=1, max_overflow=3), STOCK) is None


def test_more_workers_than_connections_can_only_be_fewer_workers() -> None:
    problem = overcommitment(Pools(workers=98, pool_size=1, max_overflow=0), STOCK)
    assert problem is not None
    assert problem.endswith("); run fewer workers or raise max_connections")


def test_pools_that_fit_only_an_idle_server_are_warned_about_not_refused() -> None:
    busy = ServerLimits(max_connections=100, reserved=3, in_use=60)
    pools = Pools(workers=1, pool_size=40, max_overflow=10)
    assert overcommitment(pools, busy) is None
    assert crowding(pools, busy) == (
        "1 worker x (TASHAN_DB_POOL_SIZE 40 + TASHAN_DB_MAX_OVERFLOW 10) = 50 connections, "
        "but only 37 of the 97 PostgreSQL allows are free now (60 held by other sessions); "
        "at a peak some requests would get 503"
    )
    assert crowding(Pools(workers=1, pool_size=27, max_overflow=10), busy) is None


def test_limits_are_read_from_postgresql_and_sqlite_has_none(engine: Engine) -> None:
    if POSTGRES_URL:
        limits = read_limits(engine)
        assert limits is not None
        assert limits.allowed == limits.max_connections - limits.reserved > 0
        assert limits.in_use >= 0
    else:
        assert read_limits(engine) is None
