"""The 五个一 schedules made exactly once: due periods after an outage (catch-up), the cron
time in the deployment time zone, disabled schedules, and concurrent runs claiming each
(schedule, period) once — with fixed `now` values, no sleeping."""

import csv
import io
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from time_machine import TimeMachineFixture

from app.actions.models import Action
from app.config import SEEDS_DIR, Settings
from app.db import write_session
from app.reports import service as report_service
from app.reports.document import ReportFormat
from app.reports.models import Report, ReportRun, ReportSchedule
from app.reports.schemas import BodyFilters, ScheduleUpdate
from app.seeding.service import seed_database
from app.spreadsheet import Lang

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

SHANGHAI = ZoneInfo("Asia/Shanghai")
CREATED = "2026-01-07T10:00"  # a Wednesday of ISO week 2026-W02 (5–11 January)
WEEKS = {  # ISO weeks of 2026 by their Monday
    "2026-W01": date(2025, 12, 29),
    "2026-W02": date(2026, 1, 5),
    "2026-W03": date(2026, 1, 12),
    "2026-W04": date(2026, 1, 19),
    "2026-W05": date(2026, 1, 26),
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test database, and an export folder of this test's own."""
    return Settings(database_url=database_url, export_dir=tmp_path / "exports", _env_file=None)


def shanghai(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=SHANGHAI)


def make_schedules(engine: Engine, created: str = CREATED) -> None:
    """The five default schedules, as if created at `created` (Shanghai time)."""
    with Session(engine) as session:
        for schedule in session.exec(select(ReportSchedule)).all():
            schedule.created_at = shanghai(created)
            session.add(schedule)
        session.commit()


TRACKED_SINCE = "2025-06-02T10:00"  # long before CREATED: a database with history


def install_with_history(engine: Engine) -> None:
    """The seed's actions tracked since TRACKED_SINCE, then the schedules made at CREATED —
    an upgrade, which reports the periods that ended before the schedules existed."""
    with time_machine.travel(shanghai(TRACKED_SINCE), tick=False):
        seed_database(engine, SEEDS_DIR)
    make_schedules(engine)


def only(engine: Engine, *names: str) -> None:
    """Disable every schedule but names."""
    with Session(engine) as session:
        for schedule in session.exec(select(ReportSchedule)).all():
            schedule.enabled = schedule.name in names
            session.add(schedule)
        session.commit()


def runs(engine: Engine, schedule: str | None = None) -> list[tuple[str, date, date]]:
    with Session(engine) as session:
        claims = session.exec(select(ReportRun)).all()
    return sorted(
        (run.schedule, run.period_start, run.period_end)
        for run in claims
        if schedule is None or run.schedule == schedule
    )


def kept(engine: Engine) -> list[Report]:
    with Session(engine) as session:
        return list(session.exec(select(Report).order_by(col(Report.id))).all())


def weekly_starts(engine: Engine) -> list[date]:
    return [start for _, start, _ in runs(engine, "weekly")]


def week(name: str) -> tuple[str, date, date]:
    return ("weekly", WEEKS[name], WEEKS[name] + timedelta(days=6))


def test_first_run_makes_the_periods_that_ended_before_the_schedules_existed(
    engine: Engine, settings: Settings
) -> None:
    install_with_history(engine)

    made = report_service.run_due(engine, settings, now=shanghai("2026-01-12T07:00"))

    assert runs(engine) == [
        ("annual", date(2025, 1, 1), date(2025, 12, 31)),
        ("half-yearly", date(2025, 7, 1), date(2025, 12, 31)),
        ("monthly", date(2025, 12, 1), date(2025, 12, 31)),
        ("quarterly", date(2025, 10, 1), date(2025, 12, 31)),
        week("2026-W01"),
    ]
    assert len(made) == 10  # two default formats each
    assert Counter((r.schedule, r.format) for r in made) == {
        (name, fmt): 1
        for name in ("weekly", "monthly", "quarterly", "half-yearly", "annual")
        for fmt in ("xlsx", "html")
    }
    assert {r.file_name for r in made if r.schedule == "weekly"} == {
        "tashan-weekly-2026-W01.xlsx",
        "tashan-weekly-2026-W01.html",
    }
    assert {r.file_name for r in made if r.schedule != "weekly" and r.format == "xlsx"} == {
        "tashan-monthly-2025-12.xlsx",
        "tashan-quarterly-2025-Q4.xlsx",
        "tashan-half-yearly-2025-H2.xlsx",
        "tashan-annual-2025.xlsx",
    }
    assert [r.id for r in kept(engine)] == sorted(r.id or 0 for r in made)


def test_a_new_install_reports_no_period_before_its_install(
    engine: Engine, settings: Settings
) -> None:
    with time_machine.travel(shanghai(CREATED), tick=False):
        seed_database(engine, SEEDS_DIR)
    make_schedules(engine)  # installed and seeded on the same day of W02

    first = report_service.run_due(engine, settings, now=shanghai("2026-01-12T09:00"))
    later = report_service.run_due(engine, settings, now=shanghai("2026-02-02T09:00"))

    assert {(r.schedule, r.period_start) for r in first} == {("weekly", WEEKS["2026-W02"])}
    assert {(r.schedule, r.period_start) for r in later} == {
        ("weekly", WEEKS["2026-W03"]),
        ("weekly", WEEKS["2026-W04"]),
        ("weekly", WEEKS["2026-W05"]),
        ("monthly", date(2026, 1, 1)),
    }


def test_an_install_without_actions_starts_reporting_with_the_period_of_its_first_action(
    engine: Engine, settings: Settings
) -> None:
    make_schedules(engine)

    assert report_service.run_due(engine, settings, now=shanghai("2026-01-20T09:00")) == []
    with time_machine.travel(shanghai("2026-01-21T10:00"), tick=False):  # W04
        seed_database(engine, SEEDS_DIR)
    made = report_service.run_due(engine, settings, now=shanghai("2026-02-02T09:00"))

    assert runs(engine) == [
        ("monthly", date(2026, 1, 1), date(2026, 1, 31)),
        week("2026-W04"),
        week("2026-W05"),
    ]
    assert all(r.row_count == 43 for r in made if r.schedule == "weekly")


def test_catch_up_makes_each_missed_period_once_after_an_outage(
    engine: Engine, settings: Settings
) -> None:
    install_with_history(engine)
    report_service.run_due(engine, settings, now=shanghai("2026-01-12T09:00"))
    assert weekly_starts(engine) == [WEEKS["2026-W01"], WEEKS["2026-W02"]]
    before = len(kept(engine))

    # down for three weeks: W03, W04 and W05 ended meanwhile, and so did January
    made = report_service.run_due(engine, settings, now=shanghai("2026-02-02T09:00"))

    assert sorted((r.schedule, r.period_start, r.format) for r in made) == sorted(
        [("monthly", date(2026, 1, 1), fmt) for fmt in ("xlsx", "html")]
        + [
            ("weekly", WEEKS[w], fmt)
            for w in ("2026-W03", "2026-W04", "2026-W05")
            for fmt in ("xlsx", "html")
        ]
    )
    assert runs(engine, "weekly") == [week(w) for w in WEEKS]
    assert ("monthly", date(2026, 1, 1), date(2026, 1, 31)) in runs(engine, "monthly")
    everything = kept(engine)
    assert len(everything) == before + len(made)
    per_period = Counter((r.schedule, r.period_start, r.format) for r in everything)
    assert set(per_period.values()) == {1}
    for report in made:
        assert report.run_id is not None and report.created_by == "scheduler"
        assert (settings.export_dir / report.file_name).read_bytes() == report.content
    assert {r.file_name for r in made if r.format == "xlsx"} == {
        "tashan-weekly-2026-W03.xlsx",
        "tashan-weekly-2026-W04.xlsx",
        "tashan-weekly-2026-W05.xlsx",
        "tashan-monthly-2026-01.xlsx",
    }

    assert report_service.run_due(engine, settings, now=shanghai("2026-02-02T09:00")) == []
    assert report_service.run_due(engine, settings, now=shanghai("2026-02-02T10:00")) == []
    assert len(kept(engine)) == len(everything)
    assert runs(engine, "weekly") == [week(w) for w in WEEKS]


def test_a_second_run_at_the_same_moment_makes_nothing(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)
    now = shanghai("2026-01-20T12:00")
    first = report_service.run_due(engine, settings, now=now)
    assert first and weekly_starts(engine) == [
        WEEKS["2026-W01"],
        WEEKS["2026-W02"],
        WEEKS["2026-W03"],
    ]

    second = report_service.run_due(engine, settings, now=now)

    assert second == []
    assert len(kept(engine)) == len(first)
    assert len(runs(engine)) == 7  # three weeks, and December, Q4, H2 and 2025


@pytest.mark.parametrize(
    ("now", "made"),
    [
        (shanghai("2026-01-12T07:00"), False),
        (shanghai("2026-01-12T07:59:59"), False),
        (shanghai("2026-01-12T08:00"), True),
        (datetime(2026, 1, 11, 23, 59, tzinfo=UTC), False),  # 07:59 in Shanghai
        (datetime(2026, 1, 12, 0, 0, tzinfo=UTC), True),  # 08:00 in Shanghai
        (datetime(2026, 1, 12, 3, 0, tzinfo=UTC), True),
    ],
)
def test_a_period_is_made_once_its_cron_time_has_come_in_the_deployment_zone(
    engine: Engine, settings: Settings, now: datetime, made: bool
) -> None:
    install_with_history(engine)
    only(engine, "weekly")

    report_service.run_due(engine, settings, now=now)

    expected = [WEEKS["2026-W01"], WEEKS["2026-W02"]] if made else [WEEKS["2026-W01"]]
    assert weekly_starts(engine) == expected
    assert {name for name, _, _ in runs(engine)} == {"weekly"}


def test_a_period_still_running_is_not_made(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)
    only(engine, "weekly")
    with write_session(engine) as session:  # due at any minute: only the period's end holds it back
        report_service.update_schedule(
            session, "weekly", ScheduleUpdate(cron="* * * * *", formats=[ReportFormat.json])
        )

    report_service.run_due(engine, settings, now=shanghai("2026-01-11T23:59"))
    assert weekly_starts(engine) == [WEEKS["2026-W01"]]
    report_service.run_due(engine, settings, now=shanghai("2026-01-12T00:00"))
    assert weekly_starts(engine) == [WEEKS["2026-W01"], WEEKS["2026-W02"]]


def test_an_edited_cron_decides_when_a_period_is_due(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)
    only(engine, "weekly")
    with write_session(engine) as session:  # Friday 18:00 after the week ended
        report_service.update_schedule(
            session, "weekly", ScheduleUpdate(cron="0 18 * * fri", formats=[ReportFormat.csv])
        )

    report_service.run_due(engine, settings, now=shanghai("2026-01-16T17:59"))
    assert weekly_starts(engine) == [WEEKS["2026-W01"]]
    made = report_service.run_due(engine, settings, now=shanghai("2026-01-16T18:00"))
    assert [(r.period_start, r.format) for r in made] == [(WEEKS["2026-W02"], "csv")]


def test_a_disabled_schedule_makes_nothing(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)
    with write_session(engine) as session:
        report_service.update_schedule(
            session,
            "weekly",
            ScheduleUpdate(cron="0 8 * * mon", formats=[ReportFormat.xlsx], enabled=False),
        )

    made = report_service.run_due(engine, settings, now=shanghai("2026-02-02T09:00"))

    assert made and all(r.schedule != "weekly" for r in made)
    assert runs(engine, "weekly") == []
    only(engine)  # all five off
    assert report_service.run_due(engine, settings, now=shanghai("2026-12-31T09:00")) == []
    assert runs(engine, "weekly") == [] and len(kept(engine)) == len(made)


def test_nothing_is_made_when_every_schedule_is_off(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)
    only(engine)

    assert report_service.run_due(engine, settings, now=shanghai("2027-06-01T09:00")) == []
    assert runs(engine) == [] and kept(engine) == []
    assert not settings.export_dir.exists() or not any(settings.export_dir.iterdir())


def test_a_schedule_reports_in_its_formats_language_and_filters_as_of_the_period_end(
    engine: Engine, settings: Settings, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(shanghai("2026-01-05T09:00"), tick=False)
    seed_database(engine, SEEDS_DIR)
    with Session(engine) as session:
        owned = session.exec(
            select(func.count()).select_from(Action).where(Action.owner_id == 5)
        ).one()
    assert 0 < owned < 43
    make_schedules(engine)
    only(engine, "weekly")
    with write_session(engine) as session:
        report_service.update_schedule(
            session,
            "weekly",
            ScheduleUpdate(
                cron="0 8 * * mon",
                formats=[ReportFormat.csv, ReportFormat.json],
                lang=Lang.en,
                filters=BodyFilters(owner_id=5),
            ),
        )

    time_machine.move_to(shanghai("2026-01-12T09:00"), tick=False)
    made = report_service.run_due(engine, settings)

    by_period = {(r.period_start, r.format): r for r in made}
    # W01 ended before anything was tracked: no report for it
    assert set(by_period) == {(WEEKS["2026-W02"], f) for f in ("csv", "json")}
    after_seed = by_period[(WEEKS["2026-W02"], "csv")]
    assert after_seed.row_count == owned
    assert (after_seed.lang, after_seed.filters) == ("en", {"owner_id": 5})
    rows = list(csv.reader(io.StringIO(after_seed.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[0][0] == "ID" and len(rows) == owned + 1
    assert {row[5] for row in rows[1:]} == {"Proposed"}
    assert b'"as_of": "2026-01-11"' in by_period[(WEEKS["2026-W02"], "json")].content


def run_together(engine: Engine, settings: Settings, now: datetime, threads: int) -> list[Any]:
    """Call run_due from several threads at once; each thread's reports (or its error)."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = report_service.run_due(engine, settings, now=now)
        except Exception as exc:  # reported by the assertion below
            results[index] = exc

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in workers)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], errors
    return results


def assert_exactly_once(engine: Engine, made: list[list[Report]]) -> None:
    every_run = runs(engine)
    assert len(every_run) == len(set((name, start) for name, start, _ in every_run))
    everything = kept(engine)
    per_period = Counter((r.schedule, r.period_start, r.format) for r in everything)
    assert per_period and set(per_period.values()) == {1}, per_period
    with Session(engine) as session:
        formats = {s.name: len(s.formats) for s in session.exec(select(ReportSchedule)).all()}
    per_run = Counter(r.run_id for r in everything)
    assert len(per_run) == len(every_run)
    with Session(engine) as session:
        for run in session.exec(select(ReportRun)).all():
            assert per_run[run.id] == formats[run.schedule]
    ids = [r.id or 0 for thread in made for r in thread]
    assert sorted(ids) == [r.id for r in everything]  # each report made by exactly one thread


def test_concurrent_runs_claim_each_period_once(engine: Engine, settings: Settings) -> None:
    install_with_history(engine)

    made = run_together(engine, settings, shanghai("2026-02-02T09:00"), threads=4)

    assert_exactly_once(engine, made)
    assert weekly_starts(engine) == list(WEEKS.values())
    assert len(runs(engine)) == 10  # five weeks; Dec and Jan; Q4, H2, 2025


@pytest.mark.usefixtures("seeded")
def test_concurrent_first_runs_on_a_fresh_database_make_each_period_once(
    engine: Engine, settings: Settings
) -> None:
    # the schedules as migrated and the seed loaded (both at NOW), never run: every process
    # claims the due periods
    now = datetime.now(UTC) + timedelta(days=40)

    made = run_together(engine, settings, now, threads=4)

    assert_exactly_once(engine, made)
    with Session(engine) as session:
        names = session.exec(select(ReportSchedule.name)).all()
    assert sorted(names) == sorted(["weekly", "monthly", "quarterly", "half-yearly", "annual"])
    assert len(weekly_starts(engine)) >= 5
