"""The core of `tashan evidence verify` on each kind of store: intact files, a byte flipped in
a stored file, a file the database names that the store lacks; and the references read from
an `evidence` table."""

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.evidence.store import EvidenceStore
from app.evidence.verify import Problem, Reference, referenced_digests, verify_store
from tests.helpers import flip_a_byte, stored_file

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out

ABSENT = hashlib.sha256(b"uploaded, then lost").hexdigest()


def test_intact_files_verify(evidence_store: EvidenceStore, tmp_path: Path) -> None:
    plan = stored_file(evidence_store, b"%PDF-1.7 plan", tmp_path)
    photo = stored_file(evidence_store, b"\x89PNG photo", tmp_path)
    references = [Reference(plan, 1, 16), Reference(photo, 2, 16), Reference(plan, 3, 19)]
    result = verify_store(evidence_store, references)
    assert result.ok
    assert result.verified == 2
    assert result.summary() == f"2 files verified in {evidence_store.location}: all intact"


def test_a_flipped_byte_is_named_with_what_refers_to_it(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    plan = stored_file(evidence_store, b"%PDF-1.7 the signed implementation plan", tmp_path)
    intact = stored_file(evidence_store, b"minutes", tmp_path)
    altered = flip_a_byte(evidence_store, plan)
    actual = hashlib.sha256(altered).hexdigest()
    result = verify_store(
        evidence_store, [Reference(plan, 4, 16), Reference(intact, 5, 16), Reference(plan, 2, 19)]
    )
    assert not result.ok
    assert result.verified == 2
    assert result.problems == [
        Problem(plan, actual, (Reference(plan, 2, 19), Reference(plan, 4, 16)))
    ]
    line = result.problems[0].line()
    assert line == (
        f"altered: {plan}: expected sha256 {plan}, found {actual} "
        "(referenced by evidence 2 of action 19, evidence 4 of action 16)"
    )
    assert result.summary().endswith(": 0 missing, 1 altered")


def test_an_altered_file_nobody_refers_to_is_still_caught(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    orphan = stored_file(evidence_store, b"uploaded, row never committed", tmp_path)
    flip_a_byte(evidence_store, orphan)
    result = verify_store(evidence_store, [])
    assert [problem.digest for problem in result.problems] == [orphan]
    assert result.problems[0].line().endswith("(no evidence row refers to it)")


def test_a_referenced_file_the_store_lacks_is_missing(
    evidence_store: EvidenceStore, tmp_path: Path
) -> None:
    stored_file(evidence_store, b"here", tmp_path)
    result = verify_store(
        evidence_store, [Reference(ABSENT, 7, 3), Reference("not-a-digest", 8, 3)]
    )
    assert result.verified == 1
    assert [(problem.kind, problem.digest) for problem in result.problems] == [
        ("missing", ABSENT),
        ("missing", "not-a-digest"),
    ]
    assert result.problems[0].line() == (
        f"missing: {ABSENT} is not in the store (referenced by evidence 7 of action 3)"
    )
    assert result.summary().endswith(
        "1 file verified in " + evidence_store.location + ": 2 missing, 0 altered"
    )


def test_an_empty_store_with_no_references_verifies(evidence_store: EvidenceStore) -> None:
    result = verify_store(evidence_store, [])
    assert result.ok
    assert result.verified == 0


def test_references_are_read_from_the_evidence_table(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'refs.db'}")
    try:
        assert referenced_digests(engine) is None  # not migrated that far: no table
        with engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE evidence (id INTEGER PRIMARY KEY, action_id INTEGER, sha256 TEXT, withdrawn BOOLEAN)"
                )
            )
            connection.execute(
                text("INSERT INTO evidence VALUES (2, 16, :b, 1), (1, 19, :a, 0)"),
                {"a": "a" * 64, "b": "b" * 64},
            )
        # Withdrawn evidence counts: its bytes are kept.
        assert referenced_digests(engine) == [
            Reference("a" * 64, 1, 19),
            Reference("b" * 64, 2, 16),
        ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["missing", "altered"])
def test_a_problem_says_what_it_is(kind: str) -> None:
    problem = Problem(ABSENT, None if kind == "missing" else "f" * 64, ())
    assert problem.kind == kind
    assert problem.line().startswith(f"{kind}: {ABSENT}")
