"""The in-process scheduler of `tashan serve` (TASHAN_SCHEDULER=on): every minute it makes
whatever reports are due, and the reminders and 催办 due today. Every worker process runs
one; the claims of run_due and the outbox's unique key keep each report and each automatic
notification exactly-once across workers and cron."""

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from app.config import Settings
from app.notifications import reminders
from app.reports import service as report_service

logger = logging.getLogger("tashan.reports")


def _run_due(engine: Engine, settings: Settings) -> None:
    try:
        report_service.run_due(engine, settings)
    except Exception:  # a failed run must not stop the scheduler; the next one retries
        logger.exception("scheduled report run failed")
    try:
        reminders.make_due(engine, settings)
    except Exception:
        logger.exception("making due reminders failed")


def start_scheduler(engine: Engine, settings: Settings) -> BackgroundScheduler:
    """Check for due reports and reminders at once (catch-up after downtime), then every
    settings.scheduler_interval_seconds (a minute by default)."""
    scheduler = BackgroundScheduler(timezone=settings.tz)
    scheduler.add_job(
        _run_due,
        IntervalTrigger(seconds=settings.scheduler_interval_seconds, timezone=settings.tz),
        args=[engine, settings],
        # APScheduler times its runs by the machine's clock; which reports are due is read
        # from Tashan's clock inside run_due.
        next_run_time=datetime.now(settings.tz),
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
