"""The `tashan` command as a user runs it."""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, make_url, select, text

from app.config import SEEDS_DIR
from app.migrations import head_revision
from app.models import metadata
from tests.helpers import POSTGRES_URL, free_port, run_tashan

TALLIES = {
    "sources": "1 created, 0 updated, 0 unchanged",
    "units": "9 created, 0 updated, 0 unchanged",
    "speeches": "8 created, 0 updated, 0 unchanged",
    "actions": "43 created, 0 updated, 0 unchanged",
}
AGAIN = {
    "sources": "0 created, 0 updated, 1 unchanged",
    "units": "0 created, 0 updated, 9 unchanged",
    "speeches": "0 created, 0 updated, 8 unchanged",
    "actions": "0 created, 0 updated, 43 unchanged",
}


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def assert_tallies(stdout: str, expected: dict[str, str]) -> None:
    lines = stdout.splitlines()
    for kind, tally in expected.items():
        assert f"{kind}: {tally}" in lines, stdout


def test_help_lists_commands(database_url: str) -> None:
    result = run_tashan(database_url, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("db", "seed", "serve"):
        assert f" {command} " in result.stdout, result.stdout


def test_db_upgrade_is_idempotent_and_prints_revision(database_url: str) -> None:
    revision = head_revision(database_url)
    assert revision
    for _ in range(2):
        result = run_tashan(database_url, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert revision in result.stdout


def test_db_upgrade_creates_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_tashan(url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh.db").exists()
    assert f"revision {head_revision(url)}" in result.stdout


@pytest.mark.parametrize("command", [["db", "upgrade"], ["seed"], ["serve"]])
def test_an_unreachable_database_is_one_line_not_a_traceback(command: list[str]) -> None:
    result = run_tashan("postgresql+psycopg://postgres@127.0.0.1:1/tashan", *command)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the database: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # libpq's own line


def test_an_invalid_setting_is_one_line_naming_it_and_an_empty_one_is_unset(
    database_url: str,
) -> None:
    result = run_tashan(database_url, "keys", "list", env={"TASHAN_CLOCK_START": "yesterday"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: a setting is not valid: TASHAN_CLOCK_START: ")
    assert "Traceback" not in result.stderr + result.stdout
    unset = run_tashan(database_url, "db", "upgrade", env={"TASHAN_CLOCK_START": ""})
    assert unset.returncode == 0, unset.stderr


if POSTGRES_URL:  # a database with another locale needs a PostgreSQL server

    def test_db_upgrade_refuses_a_c_locale_database_in_one_line() -> None:
        assert POSTGRES_URL is not None
        name = f"tashan_c_locale_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(
                text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_CTYPE 'C' LC_COLLATE 'C'")
            )
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        try:
            result = run_tashan(url, "db", "upgrade")
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()
        assert result.returncode == 1
        assert result.stderr.startswith("error: the database's LC_CTYPE does not class"), (
            result.stderr
        )
        assert "C.UTF-8" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


if POSTGRES_URL:  # SQLite has no connection limit

    def test_serve_refuses_pools_that_postgresql_cannot_hold_in_one_line(database_url: str) -> None:
        engine = create_engine(database_url)
        with engine.connect() as connection:
            max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
            reserved = int(
                connection.execute(text("SHOW superuser_reserved_connections")).scalar_one()
            )
        engine.dispose()
        pool_size = max_connections  # one worker's pool alone is too many
        result = run_tashan(
            database_url,
            *("serve", "--workers", "2", "--port", str(free_port())),
            env={
                "TASHAN_DB_POOL_SIZE": str(pool_size),
                "TASHAN_DB_MAX_OVERFLOW": "10",
                "TASHAN_LOOP_READ_CONNECTIONS": "2",
            },
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        most = 2 * (pool_size + 10 + 2)
        assert result.stderr.startswith(
            f"error: 2 workers x (TASHAN_DB_POOL_SIZE {pool_size} + TASHAN_DB_MAX_OVERFLOW 10 "
            f"+ TASHAN_LOOP_READ_CONNECTIONS 2) = {most} connections, more than the "
            f"{max_connections - reserved} PostgreSQL allows (max_connections {max_connections} "
            f"- {reserved} reserved); set "
            f"TASHAN_DB_POOL_SIZE={(max_connections - reserved) // 2 - 2 - 10} or less,"
        ), result.stderr
        assert "tsk_" not in result.stdout  # refused before making a bootstrap key


def test_db_backup_refuses_what_it_cannot_do_and_writes_nothing(tmp_path: Path) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    live = f"sqlite:///{tmp_path / 'live.db'}"
    assert run_tashan(live, "db", "upgrade").returncode == 0
    cases = [
        (live, existing, "exists; pick a new file name"),
        (live, tmp_path / "no-such-folder" / "b.db", "does not exist"),
        (f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "b.db", "there is no database"),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/x", tmp_path / "b.db", "pg_dump -Fc"),
    ]
    for url, target, reason in cases:
        result = run_tashan(url, "db", "backup", str(target))
        assert result.returncode == 1, result.stdout
        assert reason in result.stderr
    assert existing.read_bytes() == b"keep me"
    assert not (tmp_path / "b.db").exists()


def test_seed_prints_tallies_and_is_idempotent(database_url: str, engine: Engine) -> None:
    first = run_tashan(database_url, "seed")
    assert first.returncode == 0, first.stderr
    assert_tallies(first.stdout, TALLIES)
    counts = row_counts(engine)
    assert counts["actions"] == 43

    second = run_tashan(database_url, "seed")
    assert second.returncode == 0, second.stderr
    assert_tallies(second.stdout, AGAIN)
    assert row_counts(engine) == counts


def test_seed_from_another_directory_finds_project_seeds(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    result = run_tashan(database_url, "seed", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_tallies(result.stdout, TALLIES)
    assert row_counts(engine)["actions"] == 43


def test_seed_explicit_path(database_url: str, engine: Engine, tmp_path: Path) -> None:
    result = run_tashan(
        database_url, "seed", str(SEEDS_DIR / "xiuzhou-secondment.toml"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert_tallies(result.stdout, TALLIES)


def test_seed_bad_file_fails_and_changes_nothing(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    assert run_tashan(database_url, "seed").returncode == 0
    before = row_counts(engine)
    text_name = "xiuzhou-secondment-2022-01-28.txt"
    (tmp_path / text_name).write_bytes((SEEDS_DIR / text_name).read_bytes())
    toml = (SEEDS_DIR / "xiuzhou-secondment.toml").read_text("utf-8")
    key = 'key = "young-cadre-strict-management"'
    at = toml.index(key)
    bad = toml[:at] + toml[at:].replace('owner = "区党工委"', 'owner = "无此单位"', 1)
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")

    result = run_tashan(database_url, "seed", str(path))

    assert result.returncode != 0
    assert str(path) in result.stderr
    assert "actions[3] (key=young-cadre-strict-management)" in result.stderr
    assert "无此单位" in result.stderr and "not one of [[units]]" in result.stderr
    assert "Traceback" not in result.stderr
    assert "created" not in result.stdout
    assert row_counts(engine) == before


def test_seed_missing_path_fails(database_url: str, engine: Engine, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    migrated = row_counts(engine)  # the rows the migrations wrote, and nothing else
    result = run_tashan(database_url, "seed", str(missing))
    assert result.returncode != 0
    assert str(missing) in result.stderr
    assert row_counts(engine) == migrated
