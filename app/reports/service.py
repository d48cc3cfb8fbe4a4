"""Use cases of reports: render on demand, keep, schedule, and make each due period once."""

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import clock
from app.actions.filter_references import check_references
from app.actions.models import Action
from app.actions.schemas import ActionFilters
from app.config import Settings
from app.db import on_commit, write_session
from app.errors import InvalidInput, NotFound
from app.notifications import hooks
from app.pagination import PageParams
from app.reports.builder import action_lines, build_report, report_moment, stream_report
from app.reports.document import ReportFormat
from app.reports.formats import STREAMED, csv, render, render_streamed
from app.reports.models import Report, ReportRun, ReportSchedule
from app.reports.periods import (
    Cadence,
    describe_period,
    next_period,
    period_containing,
    period_name,
    previous_period,
)
from app.reports.schemas import ReportCreate, ScheduleUpdate
from app.spreadsheet import Lang

logger = logging.getLogger("tashan.reports")
SCHEDULER_ACTOR = "scheduler"
MAX_CATCH_UP = 24  # periods per schedule per run, so a long outage cannot flood the disk


def render_status_report(
    session: Session,
    settings: Settings,
    filters: ActionFilters,
    period: tuple[date, date],
    lang: Lang,
    fmt: ReportFormat,
    template: bool = False,
) -> tuple[bytes, str]:
    """The rendered report and its file name, e.g. tashan-status-2026-W48.xlsx; template: a
    unit's fill-in workbook (xlsx only), e.g. tashan-template-5-2026-W48.xlsx ("all" for
    every unit's actions)."""
    content, _ = render_report(session, settings, filters, period, lang, fmt, template)
    if template:
        owner = filters.owner_id or "all"
        return content, f"tashan-template-{owner}-{describe_period(period)}.{fmt}"
    return content, f"tashan-status-{describe_period(period)}.{fmt}"


def render_report(
    session: Session,
    settings: Settings,
    filters: ActionFilters,
    period: tuple[date, date],
    lang: Lang,
    fmt: ReportFormat,
    template: bool = False,
) -> tuple[bytes, int]:
    """The report written in fmt, and how many actions it lists. XLSX and CSV are written as
    their lines are read, in bounded memory; the other formats are rendered from the whole
    report, which holds every line."""
    if fmt in STREAMED:
        streamed = stream_report(session, settings, filters, period, lang)
        content = render_streamed(streamed, fmt, template=template)
        return content, streamed.head().headline.total
    report = build_report(session, settings, filters, period, lang)
    return render(report, fmt, template=template), len(report.actions)


def stream_status_csv(
    engine: Engine,
    settings: Settings,
    filters: ActionFilters,
    period: tuple[date, date],
    lang: Lang,
) -> tuple[Iterator[bytes], str]:
    """The CSV status report as it is written, a chunk of actions at a time, in bounded
    memory; and its file name. It reads in a session of its own, which lasts as long as the
    download does."""

    def chunks() -> Iterator[bytes]:
        with Session(engine) as session:
            moment = report_moment(settings, period)
            yield from csv.stream(action_lines(session, filters, moment, lang), lang)

    return chunks(), f"tashan-status-{describe_period(period)}.{ReportFormat.csv}"


def create_report(session: Session, settings: Settings, data: ReportCreate, actor: str) -> Report:
    """Generate a report and keep it (in the database and the export folder)."""
    check_references(session.connection(), data.filters, ["body", "filters"])
    period = (data.period_start, data.period_end)
    content, row_count = render_report(
        session, settings, data.filters, period, data.lang, data.format
    )
    report = _keep(
        session,
        content,
        "",  # named below, once it has an id: two reports of one second must not collide
        period=period,
        fmt=data.format,
        lang=data.lang,
        filters=data.filters,
        row_count=row_count,
        actor=actor,
    )
    report.file_name = f"tashan-report-{report.id}-{describe_period(period)}.{data.format}"
    session.flush()
    _export_once_committed(session, settings, report)
    return report


def _keep(
    session: Session,
    content: bytes,
    file_name: str,
    *,
    period: tuple[date, date],
    fmt: ReportFormat,
    lang: Lang,
    filters: ActionFilters,
    row_count: int,
    actor: str,
    run: ReportRun | None = None,
) -> Report:
    report = Report(
        run_id=run.id if run else None,
        schedule=run.schedule if run else None,
        period_start=period[0],
        period_end=period[1],
        format=fmt,
        lang=lang,
        filters=filters.model_dump(mode="json", exclude_defaults=True),
        file_name=file_name,
        content=content,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        row_count=row_count,
        created_by=actor,
    )
    session.add(report)
    session.flush()
    return report


def _export_once_committed(session: Session, settings: Settings, report: Report) -> None:
    """Also write the file to the export folder once the report is kept (a report rolled back
    leaves no file); the database copy is the one that counts."""
    file_name, content = report.file_name, report.content
    on_commit(session, lambda: _export(settings, file_name, content))


def _export(settings: Settings, file_name: str, content: bytes) -> None:
    try:
        settings.export_dir.mkdir(parents=True, exist_ok=True)
        (settings.export_dir / file_name).write_bytes(content)
    except OSError as exc:
        logger.warning("could not write %s to %s: %s", file_name, settings.export_dir, exc)


def get_report(session: Session, report_id: int) -> Report:
    """A kept report, or NotFound."""
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"report {report_id} does not exist")
    return report


def list_reports(session: Session, page: PageParams) -> tuple[Sequence[Report], int]:
    """A page of kept reports, newest first."""
    total = session.exec(select(func.count()).select_from(Report)).one()
    rows = session.exec(
        select(Report).order_by(col(Report.id).desc()).offset(page.offset).limit(page.limit)
    ).all()
    return rows, total


def list_schedules(session: Session) -> list[ReportSchedule]:
    """The five schedules (migration 0009 made them) in cadence order."""
    by_name = {s.name: s for s in session.exec(select(ReportSchedule)).all()}
    return [by_name[cadence] for cadence in Cadence if cadence in by_name]


def update_schedule(session: Session, name: str, data: ScheduleUpdate) -> ReportSchedule:
    """Change a schedule's cron, formats, language, filters or whether it runs."""
    schedule = session.get(ReportSchedule, name) if name in set(Cadence) else None
    if schedule is None:
        raise NotFound(f"no schedule {name!r}; schedules: {', '.join(Cadence)}")
    _check_cron(data.cron)
    check_references(session.connection(), data.filters, ["body", "filters"])
    schedule.sqlmodel_update(
        {
            "cron": data.cron,
            "formats": list(dict.fromkeys(data.formats)),
            "lang": data.lang,
            "enabled": data.enabled,
            "filters": data.filters.model_dump(mode="json", exclude_defaults=True),
            "updated_at": clock.now(),
        }
    )
    session.add(schedule)
    session.flush()
    return schedule


def _check_cron(cron: str) -> None:
    try:
        CronTrigger.from_crontab(cron)
    except ValueError as exc:
        raise InvalidInput(f"not a cron expression: {exc}", ["body", "cron"]) from exc


def due_periods(
    schedule: ReportSchedule,
    last_made: date | None,
    settings: Settings,
    now: datetime,
    first_tracked: date | None = None,
) -> Iterator[tuple[date, date]]:
    """The periods of schedule that have ended, whose cron time has come, and that come after
    the last one made — or, never run, from the first period worth a report (first_period)."""
    cadence = Cadence(schedule.name)
    trigger = CronTrigger.from_crontab(schedule.cron, timezone=settings.tz)
    local_now = now.astimezone(settings.tz)
    if last_made is not None:
        period = next_period(cadence, period_containing(cadence, last_made))
    elif first_tracked is not None:
        installed = schedule.created_at.astimezone(settings.tz).date()
        period = first_period(cadence, installed, first_tracked)
    else:
        return  # nothing tracked yet: a report would be empty
    for _ in range(MAX_CATCH_UP):
        ended_at = datetime.combine(period[1] + timedelta(days=1), time(), tzinfo=settings.tz)
        due_at = trigger.get_next_fire_time(None, ended_at)
        if ended_at > local_now or due_at is None or due_at > local_now:
            return
        yield period
        period = next_period(cadence, period)


def first_period(cadence: Cadence, installed: date, first_tracked: date) -> tuple[date, date]:
    """The first period a schedule reports: the one in which the first action was tracked,
    but no earlier than the one that ended just before the schedule was installed (an
    upgrade of a database with history reports its last period, not years of them)."""
    return max(period_containing(cadence, first_tracked), previous_period(cadence, installed))


def first_tracked_on(session: Session, settings: Settings) -> date | None:
    """The local day the first action was created, or None when there is none."""
    first = session.exec(select(func.min(Action.created_at))).one()
    return None if first is None else first.astimezone(settings.tz).date()


def run_due(engine: Engine, settings: Settings, now: datetime | None = None) -> list[Report]:
    """Make every scheduled report whose period is due and not made yet; each period is
    claimed first, so concurrent runs (workers, cron) make it exactly once."""
    now = now or clock.now()
    with Session(engine) as session:
        schedules = [s for s in session.exec(select(ReportSchedule)).all() if s.enabled]
        last_made = dict(
            session.exec(
                select(ReportRun.schedule, func.max(ReportRun.period_start)).group_by(
                    col(ReportRun.schedule)
                )
            ).all()
        )
        never_run = any(s.name not in last_made for s in schedules)
        first_tracked = first_tracked_on(session, settings) if never_run else None
    made: list[Report] = []
    for schedule in schedules:
        periods = due_periods(schedule, last_made.get(schedule.name), settings, now, first_tracked)
        for period in periods:
            made += _make_scheduled(engine, settings, schedule, period)
    return made


def _make_scheduled(
    engine: Engine, settings: Settings, schedule: ReportSchedule, period: tuple[date, date]
) -> list[Report]:
    """Claim (schedule, period) and make its reports in one transaction; [] if taken."""
    filters = ActionFilters.model_validate(schedule.filters)
    lang = Lang(schedule.lang)
    with write_session(engine) as session:
        run = ReportRun(schedule=schedule.name, period_start=period[0], period_end=period[1])
        session.add(run)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            logger.info("the %s report for %s – %s is another process's", schedule.name, *period)
            return []
        name = f"tashan-{schedule.name}-{period_name(Cadence(schedule.name), period)}"
        reports = []
        for fmt in map(ReportFormat, schedule.formats):
            content, row_count = render_report(session, settings, filters, period, lang, fmt)
            reports.append(
                _keep(
                    session,
                    content,
                    f"{name}.{fmt}",
                    period=period,
                    fmt=fmt,
                    lang=lang,
                    filters=filters,
                    row_count=row_count,
                    actor=SCHEDULER_ACTOR,
                    run=run,
                )
            )
        for report in reports:
            _export_once_committed(session, settings, report)
        hooks.reports_made(session, settings, schedule.name, reports, SCHEDULER_ACTOR)
    logger.info("made the %s report for %s – %s", schedule.name, *period)
    return reports
