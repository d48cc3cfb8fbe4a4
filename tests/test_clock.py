"""The one clock: TASHAN_CLOCK_START moves a process's "now", an offset-less instant is read
in the deployment time zone, and a real `tashan` process dates its work by it."""

import ast
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import clock
from app.config import PROJECT_DIR, Settings
from tests.helpers import SHANGHAI, TASHAN, cli_env

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too


@pytest.fixture(autouse=True)
def machine_clock_after() -> Iterator[None]:
    """Each test here moves the process's clock; put the machine's back after."""
    yield
    clock.start_at(None)


def test_the_clock_starts_at_the_instant_given_and_goes_on(database_url: str) -> None:
    start = datetime(2031, 6, 15, 23, 59, 59, tzinfo=SHANGHAI)
    settings = Settings(database_url=database_url, clock_start=start, _env_file=None)

    settings.start_clock()

    assert timedelta(0) <= clock.now() - start < timedelta(seconds=5)
    assert clock.now().tzinfo == UTC
    assert settings.now().tzinfo == SHANGHAI
    assert settings.today().isoformat() in {"2031-06-15", "2031-06-16"}


def test_an_instant_without_an_offset_is_read_in_the_deployment_time_zone(
    database_url: str,
) -> None:
    settings = Settings(
        database_url=database_url, clock_start="2028-02-29T00:00:30", _env_file=None
    )

    settings.start_clock()

    assert settings.today().isoformat() == "2028-02-29"  # still 28 Feb in UTC
    assert clock.now().date().isoformat() == "2028-02-28"


def test_unset_it_is_the_machine_clock(database_url: str) -> None:
    Settings(database_url=database_url, clock_start=datetime(2031, 1, 1, tzinfo=UTC)).start_clock()
    Settings(database_url=database_url, _env_file=None).start_clock()

    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_tashan_process_dates_its_report_by_the_moved_clock(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    env = cli_env(database_url, TASHAN_CLOCK_START="2031-06-15T12:00:00+08:00")
    done = subprocess.run(
        [TASHAN, "report", "export", "--format", "json", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["generated_at"].startswith("2031-06-15T12:00")
    assert report["period_start"] == "2031-06-09" and report["period_end"] == "2031-06-15"


# The scheduler's own timing is APScheduler's, by the machine's clock; what is due is read
# from Tashan's clock inside run_due.
MACHINE_CLOCK_ALLOWED = {"app/clock.py", "app/reports/scheduler.py"}
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("time", "time"),
}


def wall_clock_calls(path: Path) -> list[str]:
    """Where a module calls datetime.now, date.today, time.time and the like."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (name, node.func.attr) in WALL_CLOCK_CALLS:
                found.append(f"{path}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_nothing_in_app_reads_the_machine_clock_but_the_clock_module() -> None:
    modules = [
        path
        for path in (PROJECT_DIR / "app").rglob("*.py")
        if str(path.relative_to(PROJECT_DIR)) not in MACHINE_CLOCK_ALLOWED
    ]

    assert modules and [call for path in modules for call in wall_clock_calls(path)] == []
    assert wall_clock_calls(PROJECT_DIR / "app/clock.py"), "the check finds such calls"
