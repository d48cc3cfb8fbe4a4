"""`tashan serve --workers 2` as a real process: the parent migrates and prints the bootstrap
key once, every worker runs the report scheduler yet each due report is made exactly once,
and SIGTERM stops every process cleanly. Behind a proxy on the same host, links keep its
scheme and host."""

import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from app import clock, migrations
from app.config import SEEDS_DIR, Settings
from app.reports import service as report_service
from app.reports.document import ReportFormat
from app.reports.models import Report, ReportRun, ReportSchedule
from app.reports.periods import Cadence
from app.seeding.service import seed_database
from tests.helpers import TASHAN, cli_env, free_port

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

WORKERS = 2
FORMATS = [ReportFormat.csv, ReportFormat.json]
MIGRATED_FORMATS = [ReportFormat.xlsx, ReportFormat.html]  # every schedule's, as migrated
KEY_IN_TEXT = re.compile(r"tsk_[A-Za-z0-9_-]+")
STARTED = "Application startup complete."
STOPPED = "Application shutdown complete."
TIMEOUT = 60  # seconds for one request: the machine running the tests may be very busy


@contextmanager
def serve_workers(
    database_url: str, log_path: Path, export_dir: Path, **extra_env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`tashan serve --workers 2` with the scheduler ticking every second; yields its URL and
    process once every worker has started, and sends it SIGTERM after."""
    port = free_port()
    env = cli_env(
        database_url,
        TASHAN_SCHEDULER="true",
        TASHAN_SCHEDULER_INTERVAL_SECONDS="1",
        TASHAN_EXPORT_DIR=str(export_dir),
        # Two default pools (2 x 50) are more than a stock PostgreSQL's 97, and serve refuses.
        TASHAN_DB_POOL_SIZE="5",
        TASHAN_DB_MAX_OVERFLOW="5",
        **extra_env,
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [TASHAN, "serve", "--workers", str(WORKERS), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: started(process, log_path), log_path)
            yield base_url, process
        finally:
            process.terminate()
            process.wait(timeout=60)


def started(process: subprocess.Popen[bytes], log_path: Path) -> bool:
    """Whether every worker has started (slow on a busy machine: each imports the app)."""
    assert process.poll() is None, log_path.read_text()
    return log_path.read_text().count(STARTED) == WORKERS


def wait_for(condition: Callable[[], bool], log_path: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)


def assert_stopped_cleanly(process: subprocess.Popen[bytes], log: str) -> None:
    """Exit code 0, every worker ran its shutdown, none was killed or failed."""
    assert process.returncode == 0, log
    assert log.count(STOPPED) == WORKERS, log
    for trouble in ("Traceback", "ERROR", "WARNING", "died", "Killed", "Execution of job"):
        assert trouble not in log, log


def kept(engine: Engine) -> list[Report]:
    with Session(engine) as session:
        return list(session.exec(select(Report)).all())


def assert_exactly_once(engine: Engine, formats_of: dict[str, int]) -> Counter[str]:
    """One kept report per (schedule, period, format), each schedule's formats for every
    claimed period; the number of periods made per schedule."""
    reports = kept(engine)
    per_period = Counter((r.schedule, r.period_start, r.format) for r in reports)
    assert per_period and set(per_period.values()) == {1}, per_period
    with Session(engine) as session:
        runs = session.exec(select(ReportRun)).all()
    per_run = Counter(r.run_id for r in reports)
    assert {run.id: formats_of[run.schedule] for run in runs} == dict(per_run)
    return Counter(run.schedule for run in runs)


def test_a_fresh_database_is_migrated_once_and_one_bootstrap_key_is_printed(
    database_url: str, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    migrations.downgrade(database_url, "base")  # an empty database: serve must migrate it

    with serve_workers(database_url, tmp_path / "first.log", tmp_path / "exports") as (
        base_url,
        first,
    ):
        assert httpx.get(f"{base_url}/readyz", timeout=TIMEOUT).status_code == 200  # at head
        [key] = KEY_IN_TEXT.findall((tmp_path / "first.log").read_text())
        headers = {"X-API-Key": key}
        time.sleep(3)  # three ticks of each worker's scheduler
        assert kept(engine) == []  # nothing tracked yet: no empty reports
        listed = httpx.get(f"{base_url}/api/v1/reports", headers=headers, timeout=TIMEOUT)
        assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
    assert_stopped_cleanly(first, (tmp_path / "first.log").read_text())

    seed_database(engine, SEEDS_DIR)  # tracked from NOW; served again 40 days later
    later = clock.now() + timedelta(days=40)
    due = due_at(engine, settings, later)
    with serve_workers(
        database_url,
        tmp_path / "second.log",
        tmp_path / "exports",
        TASHAN_CLOCK_START=later.isoformat(),
    ) as (base_url, second):
        me = httpx.get(f"{base_url}/api/v1/me", headers=headers, timeout=TIMEOUT)
        assert me.json()["name"] == "bootstrap"
        wait_for(
            lambda: len(kept(engine)) == len(due) * len(MIGRATED_FORMATS),
            tmp_path / "second.log",
        )
    log = (tmp_path / "second.log").read_text()
    assert "tsk_" not in log, log
    assert_stopped_cleanly(second, log)
    made = assert_exactly_once(engine, {c.value: len(MIGRATED_FORMATS) for c in Cadence})
    assert made["weekly"] >= 5 and made["monthly"] >= 1


def disabled_schedules(engine: Engine) -> dict[str, str]:
    """The five schedules, off; their crons by name."""
    with Session(engine) as session:
        session.exec(update(ReportSchedule).values(enabled=False))
        session.commit()
        return {s.name: s.cron for s in session.exec(select(ReportSchedule)).all()}


def due_at(engine: Engine, settings: Settings, moment: datetime) -> set[tuple[str, date]]:
    """Every (schedule, period start) due at moment on a database whose schedules never ran;
    fewer than MAX_CATCH_UP per schedule (the cap of one run), so one run makes them all."""
    with Session(engine) as session:
        schedules = session.exec(select(ReportSchedule)).all()
        first_tracked = report_service.first_tracked_on(session, settings)
    due = {
        (schedule.name, period[0])
        for schedule in schedules
        for period in report_service.due_periods(schedule, None, settings, moment, first_tracked)
    }
    per_schedule = Counter(name for name, _ in due)
    assert per_schedule and max(per_schedule.values()) < report_service.MAX_CATCH_UP
    return due


def test_two_workers_make_each_due_report_exactly_once(
    database_url: str, engine: Engine, settings: Settings, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    crons = disabled_schedules(engine)
    log_path = tmp_path / "server.log"
    exports = tmp_path / "exports"
    later = clock.now() + timedelta(days=100)  # many periods due once enabled

    with serve_workers(database_url, log_path, exports, TASHAN_CLOCK_START=later.isoformat()) as (
        base_url,
        process,
    ):
        headers = {"X-API-Key": admin_key}
        # Enabled while both workers tick every second, so both go after the same periods.
        for cadence in Cadence:
            body = {"cron": crons[cadence], "formats": FORMATS, "enabled": True}
            response = httpx.put(
                f"{base_url}/api/v1/report-schedules/{cadence.value}",
                json=body,
                headers=headers,
                timeout=TIMEOUT,
            )
            assert response.status_code == 200, response.text
        due = due_at(engine, settings, later)
        wait_for(lambda: len(kept(engine)) >= len(due) * len(FORMATS), log_path)
        time.sleep(3)  # three more ticks of each worker, which must find nothing left to make
    log = log_path.read_text()

    assert_stopped_cleanly(process, log)
    made = assert_exactly_once(engine, {c.value: len(FORMATS) for c in Cadence})
    with Session(engine) as session:
        claimed = {(r.schedule, r.period_start) for r in session.exec(select(ReportRun)).all()}
    assert due <= claimed and len(claimed) == sum(made.values())
    assert len(list(exports.iterdir())) == len(claimed) * len(FORMATS)
    made_by = Counter(re.findall(r"\[(\d+)\] made the", log))
    assert sum(made_by.values()) == len(claimed), log
    left_to_others = Counter(re.findall(r"\[(\d+)\] the .* is another process's", log))
    print(
        f"{len(claimed)} periods made by {dict(made_by)}, left to another by {dict(left_to_others)}"
    )


def test_behind_a_proxy_on_the_same_host_page_links_keep_its_scheme_and_host(
    live_server: str, admin_key: str, seeded: object
) -> None:
    response = httpx.get(
        f"{live_server}/api/v1/actions?limit=5",
        headers={
            "X-API-Key": admin_key,
            "Host": "tashan.example.gov.cn",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Link"].startswith("<https://tashan.example.gov.cn/api/v1/actions?")
