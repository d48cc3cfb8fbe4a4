"""Where the bytes of evidence files live: a content-addressed store, each file named by the
sha256 of its bytes, so the same file uploaded twice is stored once and a file's name is
its own integrity check (`tashan evidence verify`). The database keeps what a file is about
(app/evidence/models.py); a store keeps only bytes and never deletes them.

Two stores behind one interface: a directory (TASHAN_EVIDENCE_DIR, the default) and an
S3-compatible bucket (TASHAN_EVIDENCE_URL=s3://bucket/prefix) for deployments on several
machines. `store_for(settings)` picks the one the settings name."""

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from app.config import Settings

DIGEST = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class MissingEvidence(Exception):
    """The store has no file with this digest."""


class EvidenceStore(Protocol):
    """A content-addressed store of files; digest is the lowercase hex sha256 of the bytes."""

    @property
    def location(self) -> str:
        """Where the files are, for people: a directory path or s3://bucket/prefix."""
        ...

    def put(self, digest: str, path: Path) -> None:
        """Store the file at path (whose sha256 is digest) unless the store has it already.
        Atomic: no reader ever sees part of a file under its digest."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The stored bytes, to be read and closed by the caller; MissingEvidence if absent."""
        ...

    def exists(self, digest: str) -> bool:
        """Whether the store holds a file under digest."""
        ...

    def digests(self) -> Iterator[str]:
        """Every digest the store holds, in no particular order."""
        ...


def sha256_of(stream: BinaryIO) -> str:
    """The hex sha256 of what stream holds from where it is, read in chunks."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


class DirectoryStore:
    """Files in a directory, under <first two hex digits>/<digest>, written to a temporary
    file in the same directory, fsynced and renamed into place (then the directory fsynced),
    so a crash leaves either the whole file or none."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def location(self) -> str:
        return str(self.root)

    def _path(self, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, digest: str, path: Path) -> None:
        target = self._path(digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out, path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)

    def open(self, digest: str) -> BinaryIO:
        try:
            return self._path(digest).open("rb")
        except FileNotFoundError:
            raise MissingEvidence(digest) from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def digests(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/*")):
            if DIGEST.match(path.name) and path.parent.name == path.name[:2]:
                yield path.name


def _fsync_directory(directory: Path) -> None:
    """Make a rename in directory durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def store_for(settings: Settings) -> EvidenceStore:
    """The store the settings name: the S3 bucket of TASHAN_EVIDENCE_URL if set, else the
    directory TASHAN_EVIDENCE_DIR."""
    if settings.evidence_url:
        from app.evidence.s3 import S3Store  # boto3 loads only where a bucket is configured

        return S3Store.from_settings(settings)
    return DirectoryStore(settings.evidence_dir)
