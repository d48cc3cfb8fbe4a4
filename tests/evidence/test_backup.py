"""Copying evidence between stores (the core of the backups and the restore), each copy
re-hashed: folder to folder, bucket to folder and back; incremental; a damaged file is not
spread."""

from pathlib import Path

import pytest

from app.evidence.backup import copy_evidence
from app.evidence.store import DirectoryStore, EvidenceStore
from app.evidence.verify import verify_store
from tests.helpers import flip_a_byte, stored_file

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out


def contents(store: EvidenceStore) -> dict[str, bytes]:
    result = {}
    for digest in store.digests():
        with store.open(digest) as stream:
            result[digest] = stream.read()
    return result


def test_a_backup_restored_into_a_fresh_store_is_byte_identical(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    files = [b"%PDF-1.7 plan", b"\x89PNG photo", b"PK\x03\x04 minutes" * 10_000, b""]
    digests = {stored_file(evidence_store, data, tmp_path / "uploads") for data in files}
    backup = DirectoryStore(tmp_path / "backup")
    report = copy_evidence(evidence_store, backup)
    assert report.ok
    assert (report.copied, report.present) == (4, 0)
    assert report.copied_bytes == sum(map(len, files))
    assert not [p for p in backup.root.rglob("*") if p.name.startswith(".incoming-")]

    fresh = DirectoryStore(tmp_path / "restored")
    assert copy_evidence(backup, fresh).copied == 4
    assert set(contents(fresh)) == digests
    assert contents(fresh) == contents(evidence_store)
    assert verify_store(fresh, []).ok


def test_a_folder_backup_restores_into_a_bucket(s3_store: EvidenceStore, tmp_path: Path) -> None:
    backup = DirectoryStore(tmp_path / "backup")
    stored_file(backup, b"minutes of the meeting", tmp_path / "uploads")
    stored_file(backup, b"signed projects.xlsx", tmp_path / "uploads")
    report = copy_evidence(backup, s3_store)
    assert report.ok
    assert report.copied == 2
    assert contents(s3_store) == contents(backup)


def test_a_second_copy_adds_only_the_new_files(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    stored_file(evidence_store, b"one", tmp_path)
    backup = DirectoryStore(tmp_path / "backup")
    assert copy_evidence(evidence_store, backup).copied == 1
    stored_file(evidence_store, b"two", tmp_path)
    again = copy_evidence(evidence_store, backup)
    assert (again.copied, again.present) == (1, 1)
    assert "copied 1 evidence file (3 bytes)" in again.summary()
    assert again.summary().endswith("1 already there")


def test_an_altered_file_is_reported_and_not_copied(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    good = stored_file(evidence_store, b"good", tmp_path)
    bad = stored_file(evidence_store, b"will be damaged", tmp_path)
    flip_a_byte(evidence_store, bad)
    backup = DirectoryStore(tmp_path / "backup")
    report = copy_evidence(evidence_store, backup)
    assert not report.ok
    assert report.copied == 1
    assert [(problem.digest, problem.kind) for problem in report.problems] == [(bad, "altered")]
    assert list(backup.digests()) == [good]
    assert "1 not copied" in report.summary()
