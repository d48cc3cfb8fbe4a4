"""The report's action lines as CSV: UTF-8 with a BOM (so Excel and WPS read Chinese), CRLF
line endings, a header row of labels, and formula-like cells defused with a leading quote.

A round-trip sheet like the XLSX 明细: the headings of the columns a unit fills in end with ✎,
and an empty new_note column follows latest_note."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from operator import attrgetter, methodcaller
from typing import Any

from app.reports.document import ActionLine, StatusReport
from app.reports.formats.table import (
    DATETIME_TEXT,
    ROUND_TRIP_COLUMNS,
    Column,
    Kind,
    Table,
    Value,
    text,
)
from app.spreadsheet import ACTIONS_SHEET, MAYBE_GUARDED, Lang, guard

BOM = "\ufeff"


def render(report: StatusReport) -> bytes:
    """The 明细 table as CSV bytes."""
    return b"".join(stream([report.actions], report.lang))


def stream(chunks: Iterable[Sequence[ActionLine]], lang: Lang) -> Iterator[bytes]:
    """The 明细 table as CSV bytes, a chunk of action lines at a time."""
    table = Table(ACTIONS_SHEET, ROUND_TRIP_COLUMNS, [])
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)  # the excel dialect: CRLF, quoting where needed
    writer.writerow([guard(header) for header in table.headers(lang)])
    for chunk in chunks:
        columns = [_cells(column, chunk, lang) for column in table.columns]
        writer.writerows(zip(*columns, strict=True))  # the rows, read across the columns
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no action at all: the header alone
        yield buffer.getvalue().encode("utf-8")


def _cells(column: Column[ActionLine], lines: Sequence[ActionLine], lang: Lang) -> list[str]:
    """A column's cells of lines (a chunk is written a column at a time): most are text that
    needs no guard, or numbers and dates written the one way their kind writes them, answered
    without a call of text (a report of every action has two million cells)."""
    values = (
        list(map(attrgetter(column.attribute), lines))
        if column.attribute
        else [column.get(line, lang) for line in lines]
    )
    plain = PLAIN_TEXTS.get(column.kind)
    if plain is not None:
        kind_type, to_text = plain
        values = [to_text(value) if type(value) is kind_type else value for value in values]
    kind = column.kind
    return [
        value
        if type(value) is str and not value.startswith(MAYBE_GUARDED)
        else ""
        if value is None
        else _cell(value, kind)
        for value in values
    ]


# The values of a kind as text reads them, for the type they usually have (others go through
# text): a whole number as str does, a date in ISO form, progress with its percent sign.
PLAIN_TEXTS: dict[Kind, tuple[type, Callable[[Any], str]]] = {
    Kind.number: (int, str),
    Kind.tally: (int, str),
    Kind.percent: (int, "{}%".format),
    Kind.date: (date, date.isoformat),
    # the wall-clock time the value carries, as text(local(value)) writes it
    Kind.datetime: (datetime, methodcaller("strftime", DATETIME_TEXT)),
}


def _cell(value: Value, kind: Kind) -> str:
    """guard(text(value, kind))."""
    if value is None:
        return ""
    return guard(text(value, kind))
