"""scripts/candidates-eval as a user runs it: the seed article's figures, which meet the
issue's targets (exit 0), and a clear usage error for a seed file that is not there."""

import subprocess
import sys

import pytest

from app.config import PROJECT_DIR

pytestmark = pytest.mark.database_free  # no database: the PostgreSQL pass leaves it out


def candidates_eval(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.candidates_eval", *arguments],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_seed_article_meets_its_targets() -> None:
    result = candidates_eval("seeds/xiuzhou-secondment.toml")

    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("xiuzhou-secondment.toml: recall ")
    assert "speakers with their units 8/8" in first


def test_a_seed_file_that_is_not_there_is_a_usage_error() -> None:
    result = candidates_eval("no-such-article.toml")

    assert result.returncode == 2
    assert "no such seed file: no-such-article.toml" in result.stderr
    assert result.stdout == ""
