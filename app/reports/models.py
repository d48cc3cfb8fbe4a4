"""Kept reports, the 五个一 schedules, and the claims that make each period's report once."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class ReportSchedule(SQLModel, table=True):
    """A cadence's schedule: when its reports are due, in which formats and for what."""

    __tablename__ = "report_schedules"

    name: str = Field(sa_type=String(20), primary_key=True)
    cron: str = Field(sa_type=String(100))
    formats: list[str] = Field(sa_type=JSON)
    lang: str = Field(default="zh", sa_type=String(5))
    enabled: bool = True
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ReportRun(SQLModel, table=True):
    """A claim on one (schedule, period): the unique constraint lets only one process make it."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("schedule", "period_start"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule: str = Field(sa_type=String(20), foreign_key="report_schedules.name")
    period_start: date
    period_end: date
    claimed_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """A kept report file, stored whole so any server process can serve it."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="report_runs.id", index=True)
    schedule: str | None = Field(default=None, sa_type=String(20))
    period_start: date
    period_end: date
    format: str = Field(sa_type=String(10))
    lang: str = Field(sa_type=String(5))
    filters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    file_name: str = Field(sa_type=String(200))
    content: bytes = Field(sa_type=LargeBinary)
    size_bytes: int
    sha256: str = Field(sa_type=String(64))
    row_count: int
    created_by: str = Field(sa_type=String(100))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
