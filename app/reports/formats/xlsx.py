"""The report as an Excel workbook: 概览 (figures and a chart) · 排名 · 明细 · 逾期 · 动态; or, as a
fill-in template for a unit, the 明细 sheet alone with its entries validated.

明细 is a round-trip sheet: a unit fills in the columns headed ✎ (highlighted) and uploads
it back to /api/v1/imports, which finds each row's action by id and version.

Written in openpyxl's write-only mode, the rows of the tables as XML of their own
(sheet_data), so rows stream to disk and a large report stays in bounded memory. Text is
always stored as text (never a formula); dates, times, progress and rates are real dates,
times and numbers with number formats. Times are wall-clock times of the deployment time
zone."""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from math import ceil
from typing import Any, Generic

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.actions.derived import Light
from app.actions.workflow import Status
from app.reports.document import ActionLine, ReportHead, StatusReport, StreamedReport
from app.reports.formats.sheet_data import Cell as SheetCell
from app.reports.formats.sheet_data import LightCell, SheetData, clean, saved
from app.reports.formats.table import (
    CHANGE_COLUMNS,
    NAMED_ACTION_COLUMNS,
    NAMED_ROUND_TRIP_COLUMNS,
    RANKING_COLUMNS,
    RATE_COLUMN,
    Column,
    Kind,
    Row,
    Value,
    display_width,
    figures,
    heading,
    light_figures,
    light_of,
    local,
    status_figures,
    text,
)
from app.spreadsheet import ACTIONS_SHEET, Lang, label, status_label

Sheet = Any  # openpyxl's WriteOnlyWorksheet, which has no type hints

# Progress is stored as the whole number people type (40) and shown as 40%, so a filled-in
# sheet reads back the same whichever way it was made; rates are fractions (0.25 → 25.0%).
NUMBER_FORMATS = {
    Kind.tally: "0",
    Kind.percent: '0"%"',
    Kind.average: '0.0"%"',
    Kind.rate: "0.0%",
    Kind.date: "yyyy-mm-dd",
    Kind.datetime: "yyyy-mm-dd hh:mm",
}
# A printed sheet is fitted to the page's width, so every unit of width shrinks its text: long
# text wraps in a column of at most WRAP_MAX_WIDTH, and so do the names and titles below.
MIN_WIDTH, WRAP_MIN_WIDTH, WRAP_MAX_WIDTH, MAX_WIDTH = 6, 12, 24, 60
WRAPPED_IN_SHEET = {"action", "lead_unit", "co_owners", "themes"}
TEXTS_MEASURED = 16384  # texts whose wrapped lines are remembered
WIDTH_SAMPLE = 1000  # rows looked at to size a column; the rest stream past unread
SPARE_ROWS = 200  # empty rows under a template's actions that its validations cover too
EARLIEST_DUE, LATEST_DUE = "DATE(2000,1,1)", "DATE(2099,12,31)"
BOLD = Font(bold=True)
HINT = Font(italic=True, color="7F6000")
EDITABLE = PatternFill("solid", fgColor="FFF2CC")  # the heading of a column to fill in
TITLE = Font(bold=True, size=14)
# 红黄绿灯: the fill of a light's cell, in the colours of a traffic light a printout keeps.
LIGHT_FILLS = {
    Light.green: PatternFill("solid", fgColor="63BE7B"),
    Light.yellow: PatternFill("solid", fgColor="FFD966"),
    Light.red: PatternFill("solid", fgColor="F8696B"),
}
WRAP = Alignment(wrap_text=True, vertical="top")
SHAPES = {Kind.date: "0000-00-00", Kind.datetime: "0000-00-00 00:00"}
# A heading wraps, so its column needs half its width; in the middle of its cell both ways,
# as headings of a table printed for an office are (a one-line one beside a wrapped one
# would sit on the bottom line).
HEADING = Alignment(wrap_text=True, horizontal="center", vertical="center")
# A row grows to its longest wrapped text: every cell of it starts at the top.
TOP = Alignment(vertical="top")
CENTRED = Alignment(horizontal="center", vertical="top")
A4 = 9  # paper size code
# Excel's "Narrow" margins, in inches
NARROW_MARGINS = {
    "left": 0.25,
    "right": 0.25,
    "top": 0.75,
    "bottom": 0.75,
    "header": 0.3,
    "footer": 0.3,
}


def render(report: StatusReport, *, template: bool = False) -> bytes:
    """The report as .xlsx bytes; template: a unit's fill-in form, the 明细 sheet alone with
    its status, progress and due-date entries validated and progress a whole number 0..100."""
    return render_streamed(StreamedReport.of(report), template=template)


def render_streamed(report: StreamedReport, *, template: bool = False) -> bytes:
    """render, the action lines written to their sheets a chunk at a time as they are read.

    Each sheet of a write-only workbook streams to a temporary file of its own, so the 明细 and
    逾期 sheets fill side by side, and 概览 (created first, so it comes first) is written last,
    once the lines have been counted into its figures."""
    workbook = Workbook(write_only=True)
    lang = report.lang
    if template:
        sheet = workbook.create_sheet(label(ACTIONS_SHEET, lang))
        writer = SheetWriter(sheet, NAMED_ROUND_TRIP_COLUMNS, lang, template=True)
        _write_lines(report.chunks, writer)
        return saved(workbook, [writer.data])
    overview = workbook.create_sheet(label("overview", lang))
    ranking, actions, overdue, changes = (
        workbook.create_sheet(label(key, lang))
        for key in ("ranking", "actions", "overdue_sheet", "changes")
    )
    writers: list[SheetWriter[Any]] = [
        SheetWriter(actions, NAMED_ROUND_TRIP_COLUMNS, lang),
        SheetWriter(overdue, NAMED_ACTION_COLUMNS, lang),
    ]
    _write_lines(report.chunks, *writers)
    head = report.head()
    writers.append(_write_rows(SheetWriter(ranking, RANKING_COLUMNS, lang), head.ranking))
    writers.append(_write_rows(SheetWriter(changes, CHANGE_COLUMNS, lang), report.changes))
    _write_overview(overview, head, ranking_sheet=ranking)
    return saved(workbook, [writer.data for writer in writers])


def _write_lines(
    chunks: Iterable[Sequence[ActionLine]],
    actions: "SheetWriter[ActionLine]",
    overdue: "SheetWriter[ActionLine] | None" = None,
) -> None:
    for chunk in chunks:
        actions.add(chunk)
        if overdue is not None:
            overdue.add([line for line in chunk if line.overdue])
    actions.close()
    if overdue is not None:
        overdue.close()


def _write_rows(writer: "SheetWriter[Row]", rows: Sequence[Row]) -> "SheetWriter[Row]":
    writer.add(rows)
    writer.close()
    return writer


class SheetWriter(Generic[Row]):
    """Rows of a table added to a write-only sheet as they come: a header row (the headings
    of editable columns highlighted), then a row per item; in a template, the entries are
    validated. openpyxl writes a sheet's column widths before its first row, so the first
    WIDTH_SAMPLE rows wait here until they have sized the columns. The rows themselves are
    written as XML (sheet_data), the rest of the sheet by openpyxl."""

    def __init__(
        self, sheet: Sheet, columns: Sequence[Column[Row]], lang: Lang, template: bool = False
    ) -> None:
        self.sheet, self.lang, self.template = sheet, lang, template
        self.columns = [replace(c, wrap=True) if c.key in WRAPPED_IN_SHEET else c for c in columns]
        self.data = SheetData(sheet)
        self.waiting: list[Row] | None = []  # None once the header is written
        self.widths: list[int] = []  # of the columns, once sized
        self.cells: list[SheetCell] = []  # how each column's cells are written, once sized

    @property
    def written(self) -> int:
        """The rows written below the header."""
        return max(0, self.data.rows - 1)

    def add(self, rows: Sequence[Row]) -> None:
        if self.waiting is None:
            self._append(rows)
            return
        self.waiting.extend(rows)
        if len(self.waiting) >= WIDTH_SAMPLE:
            self._start()

    def close(self) -> None:
        """Write what still waits, and what comes after the rows: the filter and validations."""
        if self.waiting is not None:
            self._start()
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{self.written + 1}"
        if self.template:
            _validate(self.sheet, self.columns, self.lang, last_row=self.written + 1 + SPARE_ROWS)

    def _start(self) -> None:
        sheet, columns, lang = self.sheet, self.columns, self.lang
        headers = [heading(column, lang) for column in columns]
        waiting, self.waiting = self.waiting or [], None
        self.widths = _size_columns(sheet, columns, headers, waiting[:WIDTH_SAMPLE], lang)
        sheet.freeze_panes = "A2"
        sheet.print_title_rows = "1:1"
        _fit_to_page_width(sheet)
        if self.template:
            _format_validated_columns(sheet, columns)
        headings = [
            SheetCell(index, _heading(sheet, header, column.editable))
            for index, (column, header) in enumerate(zip(columns, headers, strict=True), 1)
        ]
        self.data.append(headings, [(headers, _lines(headers, self.widths))])
        self.cells = [
            _column_cells(sheet, index, column, lang) for index, column in enumerate(columns, 1)
        ]
        self._append(waiting)

    def _append(self, rows: Sequence[Row]) -> None:
        columns, lang = self.columns, self.lang
        wrapped = [i for i, column in enumerate(columns) if column.wrap]
        wrapped_widths = [self.widths[i] for i in wrapped]

        def row_of(row: Row) -> tuple[list[Value], int]:
            values = [column.get(row, lang) for column in columns]
            return values, _lines([values[i] for i in wrapped], wrapped_widths)

        self.data.append(self.cells, map(row_of, rows))


def _column_cells(sheet: Sheet, index: int, column: Column[Any], lang: Lang) -> SheetCell:
    """How a column's cells are written: styled for its kind; an empty cell is left out, but
    where a date, number or note is typed it is formatted; a light's cell is filled in its
    colour."""
    styled = _cell(sheet, None, column.kind, column.wrap)
    if column.kind == Kind.light:
        lights = {name: _light_cell(sheet, name, colour) for name, colour in light_of(lang).items()}
        return LightCell(index, styled, lights)
    return SheetCell(index, styled, keep=column.wrap or column.kind in NUMBER_FORMATS)


def _cell(sheet: Sheet, value: Value, kind: Kind = Kind.text, wrap: bool = False) -> Any:
    """A cell holding value as Excel should: text as literal text, numbers and dates typed."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=clean(value))
        cell.data_type = "s"  # "=..." would otherwise be stored as a formula
    else:
        cell = WriteOnlyCell(sheet, value=_typed(value))
        if kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[kind]
    cell.alignment = WRAP if wrap else CENTRED if kind == Kind.tally else TOP
    return cell


def _light_cell(sheet: Sheet, name: str, colour: Light) -> Any:
    """A cell reading a light's label, filled in its colour."""
    cell = _cell(sheet, name)
    cell.fill = LIGHT_FILLS[colour]
    cell.alignment = CENTRED
    return cell


def _typed(value: Value) -> Value:
    return local(value) if isinstance(value, datetime) else value


def _bold(sheet: Sheet, value: str, font: Font = BOLD) -> Any:
    cell = _cell(sheet, value)
    cell.font = font
    return cell


def _heading(sheet: Sheet, header: str, editable: bool) -> Any:
    cell = _bold(sheet, header)
    cell.alignment = HEADING
    if editable:
        cell.fill = EDITABLE
    return cell


VALIDATED = ("status", "progress", "due_on")


def _validate(sheet: Sheet, columns: Sequence[Column[Row]], lang: Lang, last_row: int) -> None:
    """Validations of the status, progress and due-date columns, and the prompt of the
    cooperating units', over the data rows and SPARE_ROWS more (never the header); an empty
    cell is allowed."""
    statuses = ",".join(status_label(status, lang) for status in Status)
    rules = {
        "status": DataValidation(type="list", formula1=f'"{statuses}"'),
        "progress": DataValidation(type="whole", operator="between", formula1="0", formula2="100"),
        "due_on": DataValidation(
            type="date", operator="between", formula1=EARLIEST_DUE, formula2=LATEST_DUE
        ),
        # Any text (several names in a cell): only the prompt, saying how to write them.
        "co_owners": DataValidation(),
    }
    for index, column in enumerate(columns, 1):
        rule = rules.get(column.key)
        if rule is None:
            continue
        letter = get_column_letter(index)
        rule.allow_blank = True
        rule.showInputMessage = rule.showErrorMessage = True
        rule.promptTitle, rule.errorTitle = label(column.key, lang), label("invalid_entry", lang)
        rule.prompt = rule.error = label(f"{column.key}_prompt", lang)
        rule.add(f"{letter}2:{letter}{last_row}")
        sheet.data_validations.append(rule)


def _format_validated_columns(sheet: Sheet, columns: Sequence[Column[Row]]) -> None:
    """So a date typed in a spare row shows as one (before the first row: openpyxl writes a
    column's format with its width)."""
    for index, column in enumerate(columns, 1):
        if column.key in VALIDATED and column.kind in NUMBER_FORMATS:
            sheet.column_dimensions[get_column_letter(index)].number_format = NUMBER_FORMATS[
                column.kind
            ]


def _size_columns(
    sheet: Sheet, columns: Sequence[Column[Row]], headers: list[str], sample: list[Row], lang: Lang
) -> list[int]:
    """Widths that fit the first rows' text and the heading on two lines; a column of long
    text as wide as it needs up to WRAP_MAX_WIDTH, others up to MAX_WIDTH."""
    widths = []
    for index, (column, header) in enumerate(zip(columns, headers, strict=True), 1):
        texts = [text(column.get(row, lang), column.kind) for row in sample]
        texts.append(SHAPES.get(column.kind, ""))  # a date fits, though none is there yet
        least = max(WRAP_MIN_WIDTH if column.wrap else MIN_WIDTH, _heading_width(header))
        most = WRAP_MAX_WIDTH if column.wrap else MAX_WIDTH
        widths.append(_set_width(sheet, index, texts, least, most))
    return widths


def _lines(texts: Sequence[Value], widths: Sequence[int]) -> int:
    """The lines the tallest of texts takes, each wrapped in its column."""
    return max(
        (_text_lines(t, width) for t, width in zip(texts, widths, strict=True) if t),
        default=1,
    )


@lru_cache(maxsize=TEXTS_MEASURED)
def _text_lines(value: Value, width: int) -> int:
    """The lines value takes wrapped in a column of width, which holds about width - 1 narrow
    characters, half as many wide ones. Remembered: titles, quotes and names recur (a report
    of 100,000 actions has some 7,000 titles and 1,200 quotes), and measuring is by character."""
    room = width - 1
    if not isinstance(value, str):
        return 1
    if 2 * len(value) <= room and "\n" not in value:  # no need to measure it
        return 1
    return sum(max(1, ceil(display_width(line) / room)) for line in value.splitlines())


def _heading_width(header: str) -> int:
    """The width a wrapped heading needs: half its own, or its longest word (CJK breaks
    anywhere; an English word does not)."""
    words = [display_width(word) for word in header.split() if word.isascii()]
    return max([ceil(display_width(header) / 2), *words]) + 3


def _set_width(
    sheet: Sheet, index: int, texts: list[str], least: int = MIN_WIDTH, most: int = MAX_WIDTH
) -> int:
    widest = max((display_width(t) for t in texts), default=0) + 2
    width = min(most, max(least, widest))
    sheet.column_dimensions[get_column_letter(index)].width = width
    return width


def _fit_to_page_width(sheet: Sheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for side, inches in NARROW_MARGINS.items():
        setattr(sheet.page_margins, side, inches)


def _write_overview(sheet: Sheet, report: ReportHead, ranking_sheet: Sheet) -> None:
    """The headline figures in two columns, counts by status, and the chart beside them."""
    lang = report.lang
    headline, statuses = figures(report), status_figures(report)
    lights = light_figures(report)
    every = headline + statuses + [figure for _, figure in lights]
    _set_width(sheet, 1, [f.label for f in every])
    _set_width(sheet, 2, ["0000-00-00 00:00", *(text(f.value, f.kind) for f in every)])
    _fit_to_page_width(sheet)
    sheet.append([_bold(sheet, report.title, TITLE)])
    hint = _cell(sheet, label("edit_hint", lang))
    hint.font = HINT
    sheet.append([hint])
    for figure in headline:
        sheet.append([_bold(sheet, figure.label), _cell(sheet, figure.value, figure.kind)])
    sheet.append([])
    sheet.append([_bold(sheet, label("by_status", lang))])
    for figure in statuses:
        sheet.append([_cell(sheet, figure.label), _cell(sheet, figure.value, figure.kind)])
    sheet.append([])
    sheet.append([_bold(sheet, label("lights", lang))])
    for colour, figure in lights:
        sheet.append(
            [_light_cell(sheet, figure.label, colour), _cell(sheet, figure.value, figure.kind)]
        )
    if report.ranking:
        sheet.add_chart(_rate_chart(report, ranking_sheet), "D3")


def _values_alone() -> DataLabelList:
    """Data labels showing the value and nothing else. Every flag is written: a reader fills in
    a missing one with its own default, and LibreOffice's adds the series and category names
    and a legend key ("区经济发展局；完成率；8.3%" on every bar)."""
    return DataLabelList(
        dLblPos="outEnd",
        showVal=True,
        showSerName=False,
        showCatName=False,
        showLegendKey=False,
        showPercent=False,
        showBubbleSize=False,
        showLeaderLines=False,
    )


def _rate_chart(report: ReportHead, ranking_sheet: Sheet) -> BarChart:
    """Completion rate by unit, read from the ranking sheet, best unit on top."""
    last_row = len(report.ranking) + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = label("chart_title", report.lang)
    chart.legend = None
    rates = Reference(ranking_sheet, min_col=RATE_COLUMN, min_row=1, max_row=last_row)
    chart.add_data(rates, titles_from_data=True)
    chart.set_categories(Reference(ranking_sheet, min_col=2, min_row=2, max_row=last_row))
    chart.dataLabels = _values_alone()
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.width, chart.height = 18, max(7.5, 0.8 * len(report.ranking) + 3)
    return chart
