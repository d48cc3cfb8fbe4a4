"""default report schedules

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

The five 五个一 schedules become data that the migration writes, so that reading them
(GET /api/v1/report-schedules) writes nothing; until now the first read, change or scheduler
run created them. The rows are frozen here as the defaults were on this day, and no app code
is imported, so later changes to the app cannot change what this revision does. A schedule
that a first read already made is left as it is.

A schedule that never ran starts with the period that ended before it was created, so the
rows are stamped with Tashan's clock (which TASHAN_CLOCK_START may move) when Tashan runs the
migration: app.migrations hands it over as the config attribute "now".
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEDULES = sa.table(
    "report_schedules",
    sa.column("name", sa.String),
    sa.column("cron", sa.String),
    sa.column("formats", sa.JSON),
    sa.column("lang", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("filters", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
RUNS = sa.table("report_runs", sa.column("schedule", sa.String))
# 08:00 on the first day after each period ends, in the deployment time zone.
DEFAULT_CRON = {
    "weekly": "0 8 * * mon",
    "monthly": "0 8 1 * *",
    "quarterly": "0 8 1 1,4,7,10 *",
    "half-yearly": "0 8 1 1,7 *",
    "annual": "0 8 1 1 *",
}


def _now() -> datetime:
    config = op.get_context().config
    now: datetime | None = config.attributes.get("now") if config is not None else None
    return now or datetime.now(UTC)


def upgrade() -> None:
    now = _now()
    rows = [
        {
            "name": name,
            "cron": cron,
            "formats": ["xlsx", "html"],
            "lang": "zh",
            "enabled": True,
            "filters": {},
            "created_at": now,
            "updated_at": now,
        }
        for name, cron in DEFAULT_CRON.items()
    ]
    bind = op.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    bind.execute(insert(SCHEDULES).values(rows).on_conflict_do_nothing())


def downgrade() -> None:
    # 0008 creates a missing schedule on first read, so a default no one has changed or run
    # goes; one an admin changed, or that has runs referring to it, stays as valid there.
    untouched = sa.and_(
        SCHEDULES.c.name.in_(DEFAULT_CRON),
        SCHEDULES.c.created_at == SCHEDULES.c.updated_at,
        SCHEDULES.c.name.not_in(sa.select(RUNS.c.schedule)),
    )
    op.get_bind().execute(sa.delete(SCHEDULES).where(untouched))
