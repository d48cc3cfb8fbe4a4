"""The status report as a document: the one model every format is rendered from. (A kept
report file is a row of the table app.reports.models.Report.)"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from app.actions.stats import LightCounts, StatusCount, UnitStats
from app.spreadsheet import Lang


class ReportFormat(StrEnum):
    """The file formats a report is written in."""

    xlsx = "xlsx"
    csv = "csv"
    md = "md"
    html = "html"
    json = "json"


MEDIA_TYPES = {
    ReportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.csv: "text/csv; charset=utf-8",
    ReportFormat.md: "text/markdown; charset=utf-8",
    ReportFormat.html: "text/html; charset=utf-8",
    ReportFormat.json: "application/json",
}


class Headline(BaseModel):
    """The figures at the top of a report."""

    total: int
    by_status: list[StatusCount]
    completed: int
    completion_rate: float = Field(description="completed ÷ actions not declined, 0..1")
    average_progress: float
    overdue: int
    lights: LightCounts = Field(
        default=LightCounts(), description="红黄绿灯: how many active actions have each light"
    )
    stale: int
    created_in_period: int
    changed_in_period: int


@dataclass(slots=True, kw_only=True)
class ActionLine:
    """One action's row: what a leader reads about it. A dataclass, not a model: a report of
    every action makes 100,000, and validating each was a fifth of a CSV's time; the one
    query that fills them gives its own types (app/reports/builder.py). In a StatusReport
    pydantic serializes them, descriptions included, without validating them again."""

    id: int
    version: int
    title: str
    owner: Annotated[str, Field(description="the lead unit (牵头单位)")]
    co_owners: Annotated[list[str], Field(description="the cooperating units (配合单位), by name")]
    status: str
    status_label: str
    priority: str
    progress: int
    expected_progress: Annotated[int | None, Field(description="序时进度, 0..100")] = None
    light: Annotated[str | None, Field(description="红黄绿灯: green, yellow, red or null")] = None
    light_label: Annotated[str | None, Field(description="the light in the report's language")] = (
        None
    )
    due_on: date | None
    original_due_on: Annotated[
        date | None, Field(description="原定完成时限: the first due date set")
    ]
    extension_count: Annotated[int, Field(description="延期次数: extensions approved")]
    overdue: bool
    assignee: str | None
    leader: Annotated[str | None, Field(description="责任领导")]
    themes: list[str]
    evidence_count: Annotated[
        int, Field(description="佐证材料: evidence files attached, not withdrawn")
    ] = 0
    evidence: Annotated[list[str], Field(description="their file names, oldest first")] = (
        dataclass_field(default_factory=list)
    )
    latest_note: str | None
    quote: str
    updated_at: datetime


class ChangeLine(BaseModel):
    """One event of the period."""

    at: datetime
    action_id: int
    action_title: str
    actor: str
    actor_unit: str | None = Field(None, description="the unit whose key acted; null: the office's")
    kind: str
    summary: str
    note: str | None


class ReportHead(BaseModel):
    """A report's title, figures and ranking: all of it but its lists of actions and events."""

    title: str
    lang: Lang
    period_start: date
    period_end: date
    as_of: date | None = Field(description="figures are as of this day's end; null: now")
    generated_at: datetime
    filters: dict[str, Any]
    filter_summary: str = Field(description="the filters as the report prints them, by name")
    headline: Headline
    ranking: list[UnitStats]


class StatusReport(ReportHead):
    """A status report for a period and a set of filters, as of the period's end."""

    overdue: list[ActionLine]
    changes: list[ChangeLine]
    actions: list[ActionLine]


@dataclass
class StreamedReport:
    """A report whose action lines are read a chunk at a time while it is written, so a report
    of every action stays in bounded memory. Its headline counts those lines: head() is whole
    once chunks has been read through."""

    lang: Lang
    changes: list[ChangeLine]
    chunks: Iterator[Sequence[ActionLine]]
    head: Callable[[], ReportHead]

    @classmethod
    def of(cls, report: StatusReport) -> "StreamedReport":
        """A report already built, its lines in one chunk."""
        return cls(report.lang, report.changes, iter([report.actions]), lambda: report)
