"""What every writer shares: the tables of a report (columns, headings, how a row's values are
read), the headline figures and how values read as text."""

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from app.actions.derived import Light
from app.actions.models import signed
from app.actions.stats import UnitStats
from app.actions.workflow import Status
from app.reports.document import ActionLine, ChangeLine, ReportHead, StatusReport
from app.spreadsheet import ACTIONS_SHEET, EDIT_MARK, EDITABLE_KEYS, Lang, label, status_label

Value = str | int | float | date | datetime | None
Row = TypeVar("Row")


class Kind(StrEnum):
    """How a value is shown."""

    text = "text"
    number = "number"
    tally = "tally"  # a small whole number under a wider heading (延期次数), shown centred
    percent = "percent"  # progress 0..100, whole
    average = "average"  # mean progress 0..100, one decimal
    rate = "rate"  # 0..1
    date = "date"
    datetime = "datetime"
    light = "light"  # 红黄绿灯, its label; coloured where a format can (XLSX, HTML)


DATETIME_TEXT = "%Y-%m-%d %H:%M"
NUMERIC = {Kind.number, Kind.tally, Kind.percent, Kind.average, Kind.rate}


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column: its heading's label key, how a row's value is read, how it is shown."""

    key: str
    get: Callable[[Row, Lang], Value]
    kind: Kind = Kind.text
    wrap: bool = False
    editable: bool = False  # filled in by a unit and uploaded back; its heading ends with ✎
    attribute: str | None = None  # the row's attribute get reads, if it reads just that


def reading(key: str, attribute: str, kind: Kind = Kind.text, wrap: bool = False) -> Column[Any]:
    """A column showing one attribute of its rows as it is (a writer of many rows may read
    the attribute of all of them at once: a call of get per cell costs more than the cell)."""
    return Column(key, lambda row, _: getattr(row, attribute), kind, wrap, attribute=attribute)


@dataclass(frozen=True)
class Table(Generic[Row]):
    """Rows under a heading, with their columns."""

    key: str
    columns: Sequence[Column[Row]]
    rows: Sequence[Row]

    def headers(self, lang: Lang) -> list[str]:
        return [heading(column, lang) for column in self.columns]

    def values(self, row: Row, lang: Lang) -> list[Value]:
        return [column.get(row, lang) for column in self.columns]

    def texts(self, row: Row, lang: Lang) -> list[str]:
        return [text(column.get(row, lang), column.kind) for column in self.columns]


def heading(column: Column[Row], lang: Lang) -> str:
    """A column's heading in lang, marked ✎ if a unit fills it in."""
    return label(column.key, lang) + (EDIT_MARK if column.editable else "")


def _yes_no(flag: bool, lang: Lang) -> str:
    return label("yes" if flag else "no", lang)


ACTION_COLUMNS: tuple[Column[ActionLine], ...] = (
    reading("id", "id", Kind.number),
    reading("version", "version", Kind.number),
    reading("action", "title"),
    reading("lead_unit", "owner"),
    Column("co_owners", lambda a, _: "、".join(a.co_owners)),
    reading("status", "status_label"),
    reading("light", "light_label", Kind.light),
    Column("priority", lambda a, lang: label(a.priority, lang)),
    reading("progress", "progress", Kind.percent),
    reading("expected_progress", "expected_progress", Kind.percent),
    reading("due_on", "due_on", Kind.date),
    reading("original_due_on", "original_due_on", Kind.date),
    reading("extension_count", "extension_count", Kind.tally),
    Column("is_overdue", lambda a, lang: _yes_no(a.overdue, lang)),
    reading("assignee", "assignee"),
    reading("leader", "leader"),
    Column("themes", lambda a, _: "、".join(a.themes)),
    reading("evidence_files", "evidence_count", Kind.tally),
    reading("latest_note", "latest_note", wrap=True),
    reading("quote", "quote", wrap=True),
    reading("updated_at", "updated_at", Kind.datetime),
)

NEW_NOTE: Column[ActionLine] = Column("new_note", lambda a, _: None, wrap=True, editable=True)


def _round_trip(columns: Sequence[Column[ActionLine]]) -> tuple[Column[ActionLine], ...]:
    """The columns with the editable ones marked and an empty new_note after latest_note."""
    marked: list[Column[ActionLine]] = []
    for column in columns:
        marked.append(replace(column, editable=column.key in EDITABLE_KEYS))
        if column.key == "latest_note":
            marked.append(NEW_NOTE)
    return tuple(marked)


ROUND_TRIP_COLUMNS = _round_trip(ACTION_COLUMNS)

# Where a reader can see more than a count (HTML, XLSX), 佐证材料 lists the files' names, one
# a line; CSV, Markdown and JSON give the count.
EVIDENCE_NAMES: Column[ActionLine] = Column(
    "evidence_files", lambda a, _: "\n".join(a.evidence) or None, wrap=True
)


def naming_evidence(columns: Sequence[Column[ActionLine]]) -> tuple[Column[ActionLine], ...]:
    """columns with 佐证材料 listing the files' names instead of counting them."""
    return tuple(EVIDENCE_NAMES if c.key == "evidence_files" else c for c in columns)


NAMED_ACTION_COLUMNS = naming_evidence(ACTION_COLUMNS)
NAMED_ROUND_TRIP_COLUMNS = naming_evidence(ROUND_TRIP_COLUMNS)

RANKING_COLUMNS: tuple[Column[UnitStats], ...] = (
    Column("rank", lambda u, _: u.rank, Kind.number),
    Column("unit", lambda u, _: u.unit_name),
    Column("total", lambda u, _: u.total, Kind.number),
    Column("completed", lambda u, _: u.completed, Kind.number),
    Column("in_progress", lambda u, _: u.in_progress, Kind.number),
    Column("submitted", lambda u, _: u.submitted, Kind.number),
    Column("blocked", lambda u, _: u.blocked, Kind.number),
    Column("overdue", lambda u, _: u.overdue, Kind.number),
    Column("red_count", lambda u, _: u.red, Kind.number),
    Column("completion_rate", lambda u, _: u.completion_rate, Kind.rate),
    Column("average_progress", lambda u, _: u.average_progress, Kind.average),
)
RATE_COLUMN = 10  # 1-based position of completion_rate, charted by unit (column 2)

CHANGE_COLUMNS: tuple[Column[ChangeLine], ...] = (
    Column("at", lambda c, _: c.at, Kind.datetime),
    Column("id", lambda c, _: c.action_id, Kind.number),
    Column("action", lambda c, _: c.action_title),
    Column("actor", lambda c, _: signed(c.actor, c.actor_unit)),
    Column("kind", lambda c, _: c.kind),
    Column("summary", lambda c, _: c.summary, wrap=True),
    Column("note", lambda c, _: c.note, wrap=True),
)


def ranking_table(report: ReportHead) -> Table[UnitStats]:
    return Table("ranking", RANKING_COLUMNS, report.ranking)


def actions_table(
    report: StatusReport, *, round_trip: bool = False, evidence_names: bool = False
) -> Table[ActionLine]:
    """The actions; round_trip: as a sheet to fill in and upload back (XLSX 明细, CSV), with
    the editable columns marked and an empty new_note column for this round's note;
    evidence_names: 佐证材料 names the files rather than counting them."""
    columns = ROUND_TRIP_COLUMNS if round_trip else ACTION_COLUMNS
    return Table(
        ACTIONS_SHEET, naming_evidence(columns) if evidence_names else columns, report.actions
    )


def overdue_table(report: StatusReport, *, evidence_names: bool = False) -> Table[ActionLine]:
    columns = NAMED_ACTION_COLUMNS if evidence_names else ACTION_COLUMNS
    return Table("overdue_sheet", columns, report.overdue)


def changes_table(report: StatusReport) -> Table[ChangeLine]:
    return Table("changes", CHANGE_COLUMNS, report.changes)


@dataclass(frozen=True)
class Figure:
    """One headline figure: its heading, value and how it is shown."""

    label: str
    value: Value
    kind: Kind = Kind.text


def figures(report: ReportHead) -> list[Figure]:
    """The headline figures, in reading order."""
    lang, head = report.lang, report.headline
    period = f"{report.period_start.isoformat()} – {report.period_end.isoformat()}"
    pairs: list[tuple[str, Value, Kind]] = [
        ("period", period, Kind.text),
        ("as_of", report.as_of or label("now", lang), Kind.date if report.as_of else Kind.text),
        ("generated_at", report.generated_at, Kind.datetime),
        ("filters", report.filter_summary or label("none", lang), Kind.text),
        ("total", head.total, Kind.number),
        ("completed", head.completed, Kind.number),
        ("completion_rate", head.completion_rate, Kind.rate),
        ("average_progress", head.average_progress, Kind.average),
        ("overdue", head.overdue, Kind.number),
        ("stale", head.stale, Kind.number),
        ("created_in_period", head.created_in_period, Kind.number),
        ("changed_in_period", head.changed_in_period, Kind.number),
    ]
    return [Figure(label(key, lang), value, kind) for key, value, kind in pairs]


def status_figures(report: ReportHead) -> list[Figure]:
    """How many actions have each status, headed in the report's language."""
    return [
        Figure(status_label(Status(count.status), report.lang), count.count, Kind.number)
        for count in report.headline.by_status
    ]


def light_figures(report: ReportHead) -> list[tuple[Light, Figure]]:
    """How many actions have each light, headed in the report's language, with the light."""
    counts = report.headline.lights
    return [
        (
            colour,
            Figure(label(f"light_{colour}", report.lang), getattr(counts, colour), Kind.number),
        )
        for colour in Light
    ]


def light_of(lang: Lang) -> dict[str, Light]:
    """The light each label of lang names (a light column's values are its labels)."""
    return {label(f"light_{colour}", lang): colour for colour in Light}


def local(moment: datetime) -> datetime:
    """The wall-clock time a reader expects: the report's times are already in the deployment
    time zone, so files (which keep no zone) show them as they are."""
    return moment.replace(tzinfo=None)


def text(value: Value, kind: Kind = Kind.text) -> str:
    """A value as a reader reads it."""
    if type(value) is str:  # the most common case first: a report has a million of them
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).strftime(DATETIME_TEXT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and kind in NUMERIC:
        if kind == Kind.percent:
            return f"{value:.0f}%"
        if kind == Kind.average:
            return f"{value:.1f}%"
        if kind == Kind.rate:
            return f"{value * 100:.1f}%"
    return str(value)


def display_width(value: str) -> int:
    """Columns the widest line of a text takes: East Asian wide characters count 2."""
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            for line in value.splitlines()
        ),
        default=0,
    )
