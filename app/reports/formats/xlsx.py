"""The report as an Excel workbook: 概览 (figures and a chart) · 排名 · 明细 · 逾期 · 动态; or, as a
fill-in template for a unit, the 明细 sheet alone with its entries validated.

明细 is a round-trip sheet: a unit fills in the columns headed ✎ (highlighted) and uploads
it back to /api/v1/imports, which finds each row's action by id and version.

Written in openpyxl's write-only mode, so rows stream to disk and a large report stays in
bounded memory. Text is always stored as text (never a formula); dates, times, progress and
rates are real dates, times and numbers with number formats. Times are wall-clock
times of the deployment time zone."""

from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.actions.workflow import Status
from app.reports.formats.table import (
    RATE_COLUMN,
    Kind,
    Table,
    Value,
    actions_table,
    changes_table,
    display_width,
    figures,
    local,
    overdue_table,
    ranking_table,
    status_figures,
    text,
)
from app.reports.labels import label, status_label
from app.reports.model import Lang, Report

Sheet = Any  # openpyxl's WriteOnlyWorksheet, which has no type hints

# Progress is stored as the whole number people type (40) and shown as 40%, so a filled-in
# sheet reads back the same whichever way it was made; rates are fractions (0.25 → 25.0%).
NUMBER_FORMATS = {
    Kind.percent: '0"%"',
    Kind.average: '0.0"%"',
    Kind.rate: "0.0%",
    Kind.date: "yyyy-mm-dd",
    Kind.datetime: "yyyy-mm-dd hh:mm",
}
MIN_WIDTH, WRAP_MIN_WIDTH, MAX_WIDTH = 6, 24, 60
WIDTH_SAMPLE = 1000  # rows looked at to size a column; the rest stream past unread
MAX_CELL_TEXT = 32767  # Excel's limit on a cell's text
SPARE_ROWS = 200  # empty rows under a template's actions that its validations cover too
EARLIEST_DUE, LATEST_DUE = "DATE(2000,1,1)", "DATE(2099,12,31)"
BOLD = Font(bold=True)
HINT = Font(italic=True, color="7F6000")
EDITABLE = PatternFill("solid", fgColor="FFF2CC")  # the heading of a column to fill in
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
A4 = 9  # paper size code


def render(report: Report, *, template: bool = False) -> bytes:
    """The report as .xlsx bytes; template: a unit's fill-in form, the 明细 sheet alone with
    its status, progress and due-date entries validated and progress a whole number 0..100."""
    workbook = Workbook(write_only=True)
    actions = actions_table(report, round_trip=True)
    if template:
        sheet = workbook.create_sheet(label(actions.key, report.lang))
        _write_table(sheet, actions, report.lang, template=True)
    else:
        overview = workbook.create_sheet(label("overview", report.lang))
        tables: list[Table[Any]] = [
            ranking_table(report),
            actions,
            overdue_table(report),
            changes_table(report),
        ]
        sheets = [workbook.create_sheet(label(table.key, report.lang)) for table in tables]
        _write_overview(overview, report, ranking_sheet=sheets[0])
        for sheet, table in zip(sheets, tables, strict=True):
            _write_table(sheet, table, report.lang)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Sheet, value: Value, kind: Kind = Kind.text, wrap: bool = False) -> Any:
    """A cell holding value as Excel should: text as literal text, numbers and dates typed."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_TEXT])
        cell.data_type = "s"  # "=..." would otherwise be stored as a formula
    else:
        cell = WriteOnlyCell(sheet, value=_typed(value))
        if kind in NUMBER_FORMATS:
            cell.number_format = NUMBER_FORMATS[kind]
    if wrap:
        cell.alignment = WRAP
    return cell


def _typed(value: Value) -> Value:
    return local(value) if isinstance(value, datetime) else value


def _bold(sheet: Sheet, value: str, font: Font = BOLD) -> Any:
    cell = _cell(sheet, value)
    cell.font = font
    return cell


def _write_table(sheet: Sheet, table: Table[Any], lang: Lang, template: bool = False) -> None:
    """A header row (the headings of editable columns highlighted) and a row per item; in a
    template, the entries are validated."""
    headers = table.headers(lang)
    kinds = [c.kind for c in table.columns]
    _size_columns(sheet, table, headers, lang)
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(table.rows) + 1}"
    _fit_to_page_width(sheet)
    if template:
        _validate(sheet, table, kinds, lang, last_row=len(table.rows) + 1 + SPARE_ROWS)
    sheet.append(
        [_heading(sheet, h, c.editable) for c, h in zip(table.columns, headers, strict=True)]
    )
    for row in table.rows:
        values = table.values(row, lang)
        sheet.append(
            [
                _cell(sheet, value, kind, column.wrap)
                for column, kind, value in zip(table.columns, kinds, values, strict=True)
            ]
        )


def _heading(sheet: Sheet, header: str, editable: bool) -> Any:
    cell = _bold(sheet, header)
    if editable:
        cell.fill = EDITABLE
    return cell


def _validate(
    sheet: Sheet, table: Table[Any], kinds: list[Kind], lang: Lang, last_row: int
) -> None:
    """Validations of the status, progress and due-date columns, over the data rows and
    SPARE_ROWS more (never the header); an empty cell is allowed."""
    statuses = ",".join(status_label(status, lang) for status in Status)
    rules = {
        "status": DataValidation(type="list", formula1=f'"{statuses}"'),
        "progress": DataValidation(type="whole", operator="between", formula1="0", formula2="100"),
        "due_on": DataValidation(
            type="date", operator="between", formula1=EARLIEST_DUE, formula2=LATEST_DUE
        ),
    }
    for index, (column, kind) in enumerate(zip(table.columns, kinds, strict=True), 1):
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
        if kind in NUMBER_FORMATS:  # so a date typed in a spare row shows as one
            sheet.column_dimensions[letter].number_format = NUMBER_FORMATS[kind]


def _size_columns(sheet: Sheet, table: Table[Any], headers: list[str], lang: Lang) -> None:
    """Widths that fit the heading and the first rows' text, capped at MAX_WIDTH."""
    sample = table.rows[:WIDTH_SAMPLE]
    for index, (column, header) in enumerate(zip(table.columns, headers, strict=True), 1):
        texts = [text(column.get(row, lang), column.kind) for row in sample]
        _set_width(sheet, index, [header, *texts], WRAP_MIN_WIDTH if column.wrap else MIN_WIDTH)


def _set_width(sheet: Sheet, index: int, texts: list[str], least: int = MIN_WIDTH) -> None:
    widest = max(display_width(t) for t in texts) + 2
    width = min(MAX_WIDTH, max(least, widest))
    sheet.column_dimensions[get_column_letter(index)].width = width


def _fit_to_page_width(sheet: Sheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _write_overview(sheet: Sheet, report: Report, ranking_sheet: Sheet) -> None:
    """The headline figures in two columns, counts by status, and the chart beside them."""
    lang = report.lang
    headline, statuses = figures(report), status_figures(report)
    every = headline + statuses
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
    if report.ranking:
        sheet.add_chart(_rate_chart(report, ranking_sheet), "D3")


def _rate_chart(report: Report, ranking_sheet: Sheet) -> BarChart:
    """Completion rate by unit, read from the ranking sheet, best unit on top."""
    last_row = len(report.ranking) + 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = label("chart_title", report.lang)
    chart.legend = None
    rates = Reference(ranking_sheet, min_col=RATE_COLUMN, min_row=1, max_row=last_row)
    chart.add_data(rates, titles_from_data=True)
    chart.set_categories(Reference(ranking_sheet, min_col=2, min_row=2, max_row=last_row))
    chart.dataLabels = DataLabelList(showVal=True)
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.width, chart.height = 18, max(7.5, 0.8 * len(report.ranking) + 3)
    return chart
