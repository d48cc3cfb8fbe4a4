"""The contract of an evidence store, the same tests for each kind: a folder (DirectoryStore)
and a bucket of a real S3-compatible server on loopback (S3Store against moto's server)."""

import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest

from app.evidence.s3 import S3Store
from app.evidence.store import DirectoryStore, EvidenceStore, MissingEvidence, sha256_of
from tests.helpers import stored_file

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

MiB = 1024 * 1024
ABSENT = hashlib.sha256(b"never stored").hexdigest()


def test_put_then_open_gives_the_same_bytes(evidence_store: EvidenceStore, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    digest = stored_file(evidence_store, data, tmp_path / "uploads")
    with evidence_store.open(digest) as stream:
        head = stream.read(10)  # read in pieces, as a download streams it
        rest = stream.read()
    assert head + rest == data
    assert stream.closed


def test_an_empty_file_round_trips(evidence_store: EvidenceStore, tmp_path: Path) -> None:
    digest = stored_file(evidence_store, b"", tmp_path / "uploads")
    with evidence_store.open(digest) as stream:
        assert stream.read() == b""


def test_the_same_bytes_put_twice_are_stored_once(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    data = b"%PDF-1.7 the signed plan"
    digest = stored_file(evidence_store, data, tmp_path / "first")
    assert stored_file(evidence_store, data, tmp_path / "second") == digest
    # The second put does not even read its file: the store has the digest already.
    evidence_store.put(digest, tmp_path / "no such file")
    assert list(evidence_store.digests()) == [digest]
    if isinstance(evidence_store, DirectoryStore):
        assert [p for p in evidence_store.root.rglob("*") if p.is_file()] == [
            evidence_store.root / digest[:2] / digest
        ]
    else:
        assert isinstance(evidence_store, S3Store)
        listed = evidence_store.client.list_objects_v2(Bucket=evidence_store.where.bucket)
        assert [item["Key"] for item in listed["Contents"]] == [f"evidence/test/{digest}"]


def test_exists_says_whether_a_digest_is_stored(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    assert not evidence_store.exists(ABSENT)
    digest = stored_file(evidence_store, b"minutes", tmp_path)
    assert evidence_store.exists(digest)
    assert not evidence_store.exists(ABSENT)


def test_digests_lists_every_stored_file_and_nothing_else(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    assert list(evidence_store.digests()) == []
    stored = {stored_file(evidence_store, f"file {n}".encode(), tmp_path) for n in range(7)}
    if isinstance(evidence_store, S3Store):
        evidence_store.page_size = 2  # four listing requests: the pages are all followed
        bucket = evidence_store.where.bucket
        # Beside the prefix, in it under another name, and under a longer prefix: not files.
        evidence_store.client.put_object(Bucket=bucket, Key=f"evidence/{ABSENT}", Body=b"x")
        evidence_store.client.put_object(Bucket=bucket, Key="evidence/test/notes.txt", Body=b"")
        evidence_store.client.put_object(Bucket=bucket, Key=f"evidence/testing/{ABSENT}", Body=b"")
    else:
        assert isinstance(evidence_store, DirectoryStore)
        (evidence_store.root / "notes.txt").write_text("")
        (evidence_store.root / ABSENT[:2] / f".incoming-{ABSENT}").parent.mkdir(exist_ok=True)
        (evidence_store.root / ABSENT[:2] / f".incoming-{ABSENT}").write_text("")
    listed = list(evidence_store.digests())
    assert sorted(listed) == sorted(stored)
    assert len(listed) == 7


def test_a_missing_file_is_missing_evidence(evidence_store: EvidenceStore) -> None:
    with pytest.raises(MissingEvidence):
        evidence_store.open(ABSENT)


@pytest.mark.parametrize(
    "digest",
    ["", "abc", ABSENT.upper(), ABSENT + "0", f"../{ABSENT[3:]}", f"{ABSENT[:-1]}/", "g" * 64],
)
def test_a_name_that_is_not_a_sha256_is_refused(
    evidence_store: EvidenceStore, tmp_path: Path, digest: str
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match="not a sha256"):
        evidence_store.put(digest, path)
    with pytest.raises(ValueError, match="not a sha256"):
        evidence_store.open(digest)
    with pytest.raises(ValueError, match="not a sha256"):
        evidence_store.exists(digest)
    assert list(evidence_store.digests()) == []


def test_a_25_mib_file_is_stored_whole_without_holding_it_in_memory(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for _ in range(25):
            out.write(os.urandom(MiB))
    with path.open("rb") as source:
        digest = sha256_of(source)
    tracemalloc.start()
    try:
        evidence_store.put(digest, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # S3: 8 MiB parts, two at a time; the folder: 1 MiB chunks. Never the file's 25 MiB.
    assert peak < 12 * MiB, f"put held {peak / MiB:.1f} MiB"
    with evidence_store.open(digest) as stream:
        assert sha256_of(stream) == digest
    if isinstance(evidence_store, S3Store):
        head = evidence_store.client.head_object(
            Bucket=evidence_store.where.bucket, Key=evidence_store.where.key(digest)
        )
        assert head["ContentLength"] == 25 * MiB
        assert head["ETag"].strip('"').endswith("-4")  # a multipart upload of 4 parts


# The folder's atomicity: temporary file, fsync, rename.


def test_a_directory_put_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "evidence")
    digest = stored_file(store, b"photo of the incubator", tmp_path / "uploads")
    assert not [p for p in store.root.rglob("*") if p.name.startswith(".incoming-")]
    assert (store.root / digest[:2] / digest).read_bytes() == b"photo of the incubator"


def test_a_failed_directory_put_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryStore(tmp_path / "evidence")
    source = tmp_path / "upload"
    source.write_bytes(b"half written")
    digest = hashlib.sha256(b"half written").hexdigest()

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.put(digest, source)
    monkeypatch.undo()
    assert not store.exists(digest)
    assert list(store.digests()) == []
    assert not [p for p in store.root.rglob("*") if p.is_file()]
    with pytest.raises(MissingEvidence):
        store.open(digest)


def test_a_directory_file_is_not_visible_under_its_digest_until_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryStore(tmp_path / "evidence")
    data = os.urandom(5 * MiB)
    source = tmp_path / "upload"
    source.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    seen: list[tuple[bool, int]] = []
    real_replace = os.replace

    def watching_replace(src: str, dst: str) -> None:
        # The moment before the rename: the whole file is written under a temporary name,
        # and nothing is under the digest yet.
        seen.append((store.exists(digest), Path(src).stat().st_size))
        assert Path(src).name.startswith(".incoming-")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    store.put(digest, source)
    assert seen == [(False, len(data))]
    assert store.exists(digest)
