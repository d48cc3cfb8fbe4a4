"""`tashan evidence verify`: re-hash every file the database refers to and every file the
store holds, and name each one missing or altered. A file's name is its sha256, so a file is
intact exactly when its bytes still hash to its name.

The core (verify_store) takes the references as plain tuples, so it does not depend on how
they are read; referenced_digests reads them from the `evidence` table."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Engine, inspect, text

from app.evidence.store import DIGEST, EvidenceStore, MissingEvidence, sha256_of


class Reference(NamedTuple):
    """An evidence row that names a stored file."""

    digest: str
    evidence_id: int
    action_id: int


@dataclass(frozen=True)
class Problem:
    """A file that is missing from the store, or whose bytes no longer hash to its name."""

    digest: str
    actual: str | None  # the sha256 of the bytes found; None when there are none
    references: tuple[Reference, ...]

    @property
    def kind(self) -> str:
        return "missing" if self.actual is None else "altered"

    def line(self) -> str:
        """One line for people: what, expected vs actual, and who refers to the file."""
        if self.actual is None:
            what = f"missing: {self.digest} is not in the store"
        else:
            what = f"altered: {self.digest}: expected sha256 {self.digest}, found {self.actual}"
        if self.references:
            refs = ", ".join(
                f"evidence {ref.evidence_id} of action {ref.action_id}" for ref in self.references
            )
            return f"{what} (referenced by {refs})"
        return f"{what} (no evidence row refers to it)"


@dataclass
class Verification:
    """What a verification found."""

    location: str
    verified: int = 0  # files read and hashed, intact or not
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        files = f"{self.verified} file{'' if self.verified == 1 else 's'}"
        if self.ok:
            return f"{files} verified in {self.location}: all intact"
        missing = sum(problem.kind == "missing" for problem in self.problems)
        altered = len(self.problems) - missing
        return f"{files} verified in {self.location}: {missing} missing, {altered} altered"


def verify_store(
    store: EvidenceStore,
    references: Iterable[Reference],
    progress: Callable[[str], None] | None = None,
) -> Verification:
    """Hash every file the references name and every file the store holds; a referenced file
    that is absent is missing, a file whose bytes hash to another digest is altered. A
    reference whose digest is not a sha256 at all is reported as missing."""
    by_digest: dict[str, list[Reference]] = defaultdict(list)
    for reference in references:
        by_digest[reference.digest].append(reference)
    stored = set(store.digests())
    result = Verification(store.location)
    for digest in sorted(stored | by_digest.keys()):
        refs = tuple(sorted(by_digest.get(digest, ()), key=lambda ref: ref.evidence_id))
        if progress:
            progress(digest)
        if not DIGEST.match(digest):
            result.problems.append(Problem(digest, None, refs))
            continue
        try:
            with store.open(digest) as stream:
                actual = sha256_of(stream)
        except MissingEvidence:
            result.problems.append(Problem(digest, None, refs))
            continue
        result.verified += 1
        if actual != digest:
            result.problems.append(Problem(digest, actual, refs))
    return result


def referenced_digests(engine: Engine) -> list[Reference] | None:
    """Every evidence row's (sha256, id, action_id), withdrawn ones too (their bytes are kept);
    None when the database has no `evidence` table (not migrated that far)."""
    if not inspect(engine).has_table("evidence"):
        return None
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, action_id, sha256 FROM evidence ORDER BY id"))
        return [Reference(str(sha256), int(id_), int(action_id)) for id_, action_id, sha256 in rows]
