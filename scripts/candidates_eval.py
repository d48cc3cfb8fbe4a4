"""Score the speech and candidate finders against curated seed files: the seed article's and
the test fixtures' by default. Prints the figures and what was missed; exits 1 when the seed
article misses its targets (recall ≥ 90 %, ≤ 2 candidates per curated action, every speaker
with their unit)."""

import argparse
import sys
from pathlib import Path

from app.config import PROJECT_DIR, SEEDS_DIR
from app.sources.evaluation import Evaluation, evaluate

SEED_FILE = SEEDS_DIR / "xiuzhou-secondment.toml"
FIXTURES = PROJECT_DIR / "tests" / "sources" / "fixtures"


def meets_targets(figures: Evaluation) -> bool:
    """The issue's targets for the seed article."""
    return (
        figures.recall >= 0.9
        and figures.per_action <= 2
        and figures.speakers_found == figures.speakers
    )


def main(arguments: list[str]) -> int:
    """Print the figures of each seed file; 1 when the seed article misses its targets."""
    parser = argparse.ArgumentParser(prog="scripts/candidates-eval", description=__doc__)
    parser.add_argument("seed_files", nargs="*", type=Path, metavar="SEED.toml")
    named = parser.parse_args(arguments).seed_files
    missing = [str(file) for file in named if not file.is_file()]
    if missing:
        parser.error(f"no such seed file: {', '.join(missing)}")
    files = named or [SEED_FILE, *sorted(FIXTURES.glob("*.toml"))]
    failed = False
    for file in files:
        figures = evaluate(file)
        print("\n".join(figures.lines()))
        if file.resolve() == SEED_FILE.resolve() and not meets_targets(figures):
            print("  the seed article misses its targets", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
