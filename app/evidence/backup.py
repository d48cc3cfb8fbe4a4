"""Copying evidence files from one store to another, each copy re-hashed: the evidence half of
`tashan db backup` (the store → FILE.evidence/), `tashan evidence backup DIR` and
`tashan evidence restore DIR` (a backup directory → the configured store).

Files are named by their sha256 and never deleted, so a copy is incremental by nature: a file
already in the target is the same file, and is skipped. A file whose bytes no longer hash to
its name is not copied (it would spread the damage) and is reported."""

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.evidence.store import CHUNK, DirectoryStore, EvidenceStore, MissingEvidence, sha256_of
from app.evidence.verify import Problem


@dataclass
class CopyReport:
    """What a copy did."""

    source: str
    target: str
    copied: int = 0
    copied_bytes: int = 0
    present: int = 0  # already in the target: the same name is the same bytes
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        line = (
            f"copied {self.copied} evidence file{'' if self.copied == 1 else 's'} "
            f"({self.copied_bytes:,} bytes) from {self.source} to {self.target}, each "
            f"re-hashed; {self.present} already there"
        )
        if self.problems:
            line += f"; {len(self.problems)} not copied (missing or altered)"
        return line


def copy_evidence(
    source: EvidenceStore,
    target: EvidenceStore,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every file of source that target lacks: stream it to a temporary file while
    hashing it, refuse it if the hash is not its name, store it in target (atomically), then
    read the stored copy back and hash it again."""
    report = CopyReport(source.location, target.location)
    scratch = target.root if isinstance(target, DirectoryStore) else None
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    for digest in sorted(source.digests()):
        if progress:
            progress(digest)
        if target.exists(digest):
            report.present += 1
            continue
        with tempfile.TemporaryDirectory(dir=scratch, prefix=".incoming-") as folder:
            staged = Path(folder) / digest
            try:
                actual, size = _stage(source, digest, staged)
            except MissingEvidence:  # listed, then gone: a store never deletes, so report it
                report.problems.append(Problem(digest, None, ()))
                continue
            if actual != digest:
                report.problems.append(Problem(digest, actual, ()))
                continue
            target.put(digest, staged)
        with target.open(digest) as stored:
            copied = sha256_of(stored)
        if copied != digest:
            report.problems.append(Problem(digest, copied, ()))
            continue
        report.copied += 1
        report.copied_bytes += size
    return report


def _stage(source: EvidenceStore, digest: str, staged: Path) -> tuple[str, int]:
    """Stream digest's bytes from source to staged; their sha256 and size."""
    hashing = hashlib.sha256()
    size = 0
    with source.open(digest) as stream, staged.open("wb") as out:
        while chunk := stream.read(CHUNK):
            hashing.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return hashing.hexdigest(), size
