"""The evidence commands as a user runs them: `tashan evidence verify` catching a byte flipped
on disk, `tashan db backup` with the evidence files beside the database and the restore of
docs/operations.md, `tashan evidence backup` and `restore`, and a bucket."""

import filecmp
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import make_url

from app.evidence.s3 import S3Store
from app.evidence.store import DirectoryStore
from tests.helpers import flip_a_byte, run_tashan, s3_env, stored_file

FILES = [b"%PDF-1.7 the signed implementation plan", b"\x89PNG\r\n\x1a\n photo", b"minutes" * 5000]


def folder_store(tmp_path: Path, name: str = "evidence") -> tuple[DirectoryStore, dict[str, str]]:
    """A folder store holding FILES, and the environment that points tashan at it."""
    store = DirectoryStore(tmp_path / name)
    for data in FILES:
        stored_file(store, data, tmp_path / "uploads")
    return store, {"TASHAN_EVIDENCE_DIR": str(store.root)}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database of its own: db backup copies SQLite files, on either suite
    run (PostgreSQL's is pg_dump, the test below)."""
    url = f"sqlite:///{tmp_path / 'tashan.db'}"
    upgraded = run_tashan(url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    return url


def test_verify_passes_on_intact_files_and_names_a_flipped_byte(
    database_url: str, tmp_path: Path
) -> None:
    store, env = folder_store(tmp_path)
    intact = run_tashan(database_url, "evidence", "verify", env=env)
    assert intact.returncode == 0, intact.stderr
    assert f"3 files verified in {store.root}: all intact" in intact.stdout

    damaged = sorted(store.digests())[1]
    flip_a_byte(store, damaged)
    result = run_tashan(database_url, "evidence", "verify", env=env)
    assert result.returncode == 1
    assert f"altered: {damaged}: expected sha256 {damaged}, found " in result.stderr
    assert "3 files verified" in result.stderr
    assert "0 missing, 1 altered" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_backup_copies_the_evidence_files_and_the_restore_verifies(
    sqlite_url: str, tmp_path: Path
) -> None:
    database_url = sqlite_url
    store, env = folder_store(tmp_path)
    target = tmp_path / "backups" / "tashan-2026-11-27.db"
    target.parent.mkdir()
    made = run_tashan(database_url, "db", "backup", str(target), env=env)
    assert made.returncode == 0, made.stderr
    assert f"backed up {make_url(database_url).database} to {target}" in made.stdout
    copies = Path(f"{target}.evidence")
    assert (
        f"copied 3 evidence files ({sum(map(len, FILES)):,} bytes) from {store.root} to {copies}"
        in made.stdout
    )
    # The copy is a store of its own, in the same layout: <2 hex digits>/<sha256>.
    assert sorted(DirectoryStore(copies).digests()) == sorted(store.digests())
    for digest in store.digests():
        assert filecmp.cmp(
            store.root / digest[:2] / digest, copies / digest[:2] / digest, shallow=False
        )
    with sqlite3.connect(target) as backup:
        assert backup.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)

    # Restore as docs/operations.md says, into a fresh place: the database file, then the files.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copyfile(target, restored / "tashan.db")
    restored_url = f"sqlite:///{restored / 'tashan.db'}"
    restored_env = {"TASHAN_EVIDENCE_DIR": str(restored / "evidence")}
    put_back = run_tashan(restored_url, "evidence", "restore", str(copies), env=restored_env)
    assert put_back.returncode == 0, put_back.stderr
    assert "copied 3 evidence files" in put_back.stdout
    assert "tashan evidence verify" in put_back.stdout
    checked = run_tashan(restored_url, "evidence", "verify", env=restored_env)
    assert checked.returncode == 0, checked.stderr
    assert "3 files verified" in checked.stdout
    for digest in store.digests():
        assert (restored / "evidence" / digest[:2] / digest).read_bytes() == (
            store.root / digest[:2] / digest
        ).read_bytes()
    # … or a plain copy of the folder, as the layout is the store's own.
    shutil.copytree(copies, restored / "copied")
    plain = run_tashan(
        restored_url, "evidence", "verify", env={"TASHAN_EVIDENCE_DIR": str(restored / "copied")}
    )
    assert plain.returncode == 0, plain.stderr


def test_db_backup_refuses_an_existing_evidence_folder_and_reports_a_damaged_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    database_url = sqlite_url
    store, env = folder_store(tmp_path)
    target = tmp_path / "tashan.db.bak"
    Path(f"{target}.evidence").mkdir()
    refused = run_tashan(database_url, "db", "backup", str(target), env=env)
    assert refused.returncode == 1
    assert f"cannot back up: {target}.evidence exists" in refused.stderr
    assert not target.exists()

    damaged = sorted(store.digests())[0]
    flip_a_byte(store, damaged)
    other = tmp_path / "other.db"
    result = run_tashan(database_url, "db", "backup", str(other), env=env)
    assert result.returncode == 1
    assert other.is_file()  # the database is backed up all the same
    assert f"altered: {damaged}" in result.stderr
    assert "were not copied" in result.stderr
    assert sorted(DirectoryStore(Path(f"{other}.evidence")).digests()) == sorted(
        set(store.digests()) - {damaged}
    )


def test_db_backup_on_postgresql_points_to_pg_dump_and_evidence_backup(tmp_path: Path) -> None:
    # Refused before connecting: any PostgreSQL URL will do, on either suite run.
    postgresql = "postgresql+psycopg://postgres@127.0.0.1:1/tashan"
    result = run_tashan(postgresql, "db", "backup", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert "pg_dump -Fc" in result.stderr
    assert "tashan evidence backup DIR" in result.stderr


def test_evidence_backup_is_incremental(database_url: str, tmp_path: Path) -> None:
    store, env = folder_store(tmp_path)
    backup = tmp_path / "evidence-backup"
    first = run_tashan(database_url, "evidence", "backup", str(backup), env=env)
    assert first.returncode == 0, first.stderr
    assert "copied 3 evidence files" in first.stdout
    stored_file(store, b"a new upload", tmp_path / "uploads")
    second = run_tashan(database_url, "evidence", "backup", str(backup), env=env)
    assert second.returncode == 0, second.stderr
    assert "copied 1 evidence file (12 bytes)" in second.stdout
    assert second.stdout.strip().endswith("3 already there")
    itself = run_tashan(database_url, "evidence", "backup", str(store.root), env=env)
    assert itself.returncode == 1
    assert "is the evidence store itself" in itself.stderr


def test_a_bucket_is_not_copied_by_db_backup_but_by_evidence_backup(
    database_url: str, sqlite_url: str, s3_endpoint: str, s3_store: S3Store, tmp_path: Path
) -> None:
    for data in FILES:
        stored_file(s3_store, data, tmp_path / "uploads")
    env = s3_env(s3_endpoint, s3_store.location)
    made = run_tashan(sqlite_url, "db", "backup", str(tmp_path / "b.db"), env=env)
    assert made.returncode == 0, made.stderr
    assert f"evidence files are in {s3_store.location} and were not copied" in made.stdout
    assert not Path(f"{tmp_path / 'b.db'}.evidence").exists()

    # Bucket → folder → a new prefix of the bucket, then verified there.
    backup = tmp_path / "bucket-backup"
    copied = run_tashan(database_url, "evidence", "backup", str(backup), env=env)
    assert copied.returncode == 0, copied.stderr
    assert (
        f"copied 3 evidence files ({sum(map(len, FILES)):,} bytes) from {s3_store.location}"
        in copied.stdout
    )
    elsewhere = s3_env(s3_endpoint, f"s3://{s3_store.where.bucket}/restored")
    restored = run_tashan(database_url, "evidence", "restore", str(backup), env=elsewhere)
    assert restored.returncode == 0, restored.stderr
    checked = run_tashan(database_url, "evidence", "verify", env=elsewhere)
    assert checked.returncode == 0, checked.stderr
    assert (
        f"3 files verified in s3://{s3_store.where.bucket}/restored: all intact" in checked.stdout
    )
    flat = tmp_path / "flat"  # what aws s3 sync makes: not the store's layout
    flat.mkdir()
    (flat / sorted(s3_store.digests())[0]).write_bytes(FILES[0])
    wrong = run_tashan(database_url, "evidence", "restore", str(flat), env=elsewhere)
    assert wrong.returncode == 0, wrong.stderr
    assert "holds no evidence files in the store's layout" in wrong.stderr
    missing = run_tashan(database_url, "evidence", "restore", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 1
    assert "there is no folder" in missing.stderr
