"""The report writers, opened the way a reader opens them: XLSX with openpyxl, CSV with the
csv module, HTML with the stdlib HTML parser, Markdown as text, JSON with json.loads."""

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from app.actions import service as action_service
from app.actions.schemas import ActionFilters, ActionUpdate, ProgressUpdateCreate, TransitionCreate
from app.actions.workflow import Status
from app.auth.models import Role
from app.auth.schemas import Actor
from app.config import Settings
from app.reports import builder, formats
from app.reports.builder import build_report, current_week, stream_report
from app.reports.document import ActionLine, ChangeLine, ReportFormat, ReportHead, StatusReport
from app.reports.formats import csv as csv_format
from app.reports.formats import html as html_format
from app.reports.formats import json as json_format
from app.reports.formats import md as md_format
from app.reports.formats import xlsx as xlsx_format
from app.reports.formats.table import local
from app.seeding.schemas import SeedReport
from app.spreadsheet import Lang
from tests.helpers import TODAY

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

ZH_HEADERS = [
    "编号",
    "版本",
    "事项",
    "牵头单位",
    "配合单位",
    "状态",
    "红黄绿灯",
    "优先级",
    "进度",
    "序时进度",
    "截止日期",
    "原定完成时限",
    "延期次数",
    "是否逾期",
    "责任人",
    "责任领导",
    "主题",
    "佐证材料",
    "最新进展",
    "原文摘录",
    "更新时间",
]
EN_HEADERS = [
    "ID",
    "Version",
    "Action",
    "Lead unit",
    "Cooperating units",
    "Status",
    "Light",
    "Priority",
    "Progress",
    "Expected progress",
    "Due",
    "Original due",
    "Extensions",
    "Overdue",
    "Assignee",
    "Leader",
    "Themes",
    "Evidence",
    "Latest note",
    "Source quote",
    "Updated",
]


# The XLSX 明细 sheet and the CSV are sheets to fill in and upload back: the headings of the
# editable columns end with ✎, and an empty new-note column follows the latest note.
ZH_SHEET_HEADERS = [
    "编号",
    "版本",
    "事项",
    "牵头单位",
    "配合单位 ✎",
    "状态 ✎",
    "红黄绿灯",
    "优先级",
    "进度 ✎",
    "序时进度",
    "截止日期 ✎",
    "原定完成时限",
    "延期次数",
    "是否逾期",
    "责任人 ✎",
    "责任领导 ✎",
    "主题",
    "佐证材料",
    "最新进展",
    "本次进展 ✎",
    "原文摘录",
    "更新时间",
]
EN_SHEET_HEADERS = [
    "ID",
    "Version",
    "Action",
    "Lead unit",
    "Cooperating units ✎",
    "Status ✎",
    "Light",
    "Priority",
    "Progress ✎",
    "Expected progress",
    "Due ✎",
    "Original due",
    "Extensions",
    "Overdue",
    "Assignee ✎",
    "Leader ✎",
    "Themes",
    "Evidence",
    "Latest note",
    "New note ✎",
    "Source quote",
    "Updated",
]
INJECTION = '=HYPERLINK("http://x","点我")'
SCRIPT = "<script>alert(1)</script>"
PIPE_NOTE = "第一行 | 管道\n第二行"
ACTOR = Actor("test-reports")

# ---------------------------------------------------------------- fixtures


def _version(session: Session, action_id: int) -> int:
    """The current version, as a client would send it in If-Match."""
    return action_service.get_action(session, action_id).version


def _move(session: Session, action_id: int, *steps: Status) -> None:
    for step in steps:
        data = TransitionCreate(to=step, note="理由")
        version = _version(session, action_id)
        mover = action_service.Mover(ACTOR, Role.admin)
        action_service.change_status(session, action_id, data, version, mover, today=TODAY)


def _note(session: Session, action_id: int, note: str, progress: int | None = None) -> None:
    data = ProgressUpdateCreate(note=note, progress=progress)
    version = _version(session, action_id)
    action_service.add_progress_update(session, action_id, data, version, ACTOR)


def _due(session: Session, action_id: int, due_on: date) -> None:
    data, version = ActionUpdate(due_on=due_on), _version(session, action_id)
    action_service.update_action(session, action_id, data, version, ACTOR, role=Role.admin)


@pytest.fixture
def worked(session: Session, settings: Settings, seeded: SeedReport) -> date:
    """The seed data after a week of work through the service layer: action 1 completed,
    actions 2 and 3 overdue with notes a spreadsheet or browser must not run; returns today."""
    today = settings.now().date()
    _move(session, 1, Status.accepted, Status.in_progress, Status.completed)
    _move(session, 2, Status.accepted, Status.in_progress)
    _note(session, 2, INJECTION, progress=40)
    _due(session, 2, today - timedelta(days=5))
    _note(session, 3, f"{SCRIPT}{PIPE_NOTE}")
    _due(session, 3, today - timedelta(days=1))
    return today


def _build(session: Session, settings: Settings, lang: Lang) -> StatusReport:
    # The current week (2026-11-23 – 2026-11-29 when these tests were written): the seed's
    # actions are created now, so a week already past would show none of them.
    period = current_week(settings.now().date())
    return build_report(session, settings, ActionFilters(), period, lang)


@pytest.fixture
def report(session: Session, settings: Settings, worked: date) -> StatusReport:
    """The Chinese report of the current week."""
    built = _build(session, settings, Lang.zh)
    assert len(built.actions) == 43 and len(built.overdue) == 2
    assert built.headline.completed == 1 and len(built.ranking) == 8
    return built


@pytest.fixture
def english(session: Session, settings: Settings, worked: date) -> StatusReport:
    """The same report, in English."""
    return _build(session, settings, Lang.en)


@pytest.fixture
def hostile(report: StatusReport) -> StatusReport:
    """The real report with a first line and change whose every text is hostile input."""
    line = ActionLine(
        id=999,
        version=1,
        title=INJECTION,
        owner="@某单位",
        co_owners=["=配合单位", "区科技创新局"],
        status="in_progress",
        status_label="推进中",
        priority="high",
        progress=5,
        due_on=None,
        original_due_on=None,
        extension_count=0,
        overdue=False,
        assignee="-张三",
        leader="+李副区长",
        themes=["+主题", "招商"],
        latest_note=SCRIPT,
        quote=PIPE_NOTE,
        updated_at=report.generated_at,
    )
    change = ChangeLine(
        at=report.generated_at,
        action_id=999,
        action_title=f"{SCRIPT} | 标题",
        actor="\tactor",
        kind="修改",
        summary="=1+1",
        note='<img src="http://evil.example/x.png">',
    )
    return report.model_copy(
        update={"actions": [line, *report.actions], "changes": [change, *report.changes]}
    )


def line_of(report: StatusReport, action_id: int) -> ActionLine:
    return next(line for line in report.actions if line.id == action_id)


# ---------------------------------------------------------------- XLSX


def open_xlsx(report: StatusReport) -> Workbook:
    return load_workbook(io.BytesIO(xlsx_format.render(report)))


def header(sheet: Any) -> list[Any]:
    return [cell.value for cell in sheet[1]]


def row_of(sheet: Any, action_id: int) -> dict[str, Any]:
    """The cells of the row whose first column is action_id, by heading."""
    names = header(sheet)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == action_id)
    return dict(zip(names, row, strict=True))


def figures_of(sheet: Any) -> dict[str, Any]:
    return {row[0].value: row[1] for row in sheet.iter_rows(min_row=3) if row[0].value}


def test_xlsx_sheets_in_order_with_frozen_headers_and_filters(report: StatusReport) -> None:
    book = open_xlsx(report)
    assert book.sheetnames == ["概览", "排名", "明细", "逾期", "动态"]
    sizes = {
        "排名": len(report.ranking),
        "明细": len(report.actions),
        "逾期": len(report.overdue),
        "动态": len(report.changes),
    }
    for name, size in sizes.items():
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        assert sheet.max_row == size + 1
        assert sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.font.bold for cell in sheet[1])
    assert header(book["明细"]) == ZH_SHEET_HEADERS
    assert header(book["逾期"]) == ZH_HEADERS
    assert header(book["排名"])[:2] == ["排名", "单位"]
    assert header(book["动态"])[:3] == ["时间", "编号", "事项"]
    assert {row[0].value for row in book["逾期"].iter_rows(min_row=2)} == {2, 3}


def contents(book: Workbook) -> dict[str, Any]:
    """What a reader sees of each sheet: its cells, column widths, filter and validations."""
    return {
        sheet.title: (
            [
                [(c.value, c.number_format, c.font.b, c.alignment.wrap_text) for c in row]
                for row in sheet.iter_rows()
            ],
            {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()},
            sheet.auto_filter.ref,
            [(rule.sqref, rule.formula1) for rule in sheet.data_validations.dataValidation],
        )
        for sheet in book.worksheets
    }


@pytest.mark.parametrize("template", [False, True])
def test_xlsx_streamed_a_few_lines_at_a_time_is_the_whole_reports_workbook(
    session: Session,
    settings: Settings,
    worked: date,
    monkeypatch: pytest.MonkeyPatch,
    template: bool,
) -> None:
    # Chunks of 5 lines while 7 rows size the columns: the rows that size them span chunks,
    # and the 2 overdue lines never fill a sample.
    fixed = settings.now()
    monkeypatch.setattr(Settings, "now", lambda _: fixed)
    monkeypatch.setattr(builder, "LINES_PER_CHUNK", 5)
    monkeypatch.setattr(xlsx_format, "WIDTH_SAMPLE", 7)
    period = current_week(fixed.date())
    whole = build_report(session, settings, ActionFilters(), period, Lang.zh)
    streamed = stream_report(session, settings, ActionFilters(), period, Lang.zh)

    book = load_workbook(io.BytesIO(xlsx_format.render_streamed(streamed, template=template)))

    assert contents(book) == contents(
        load_workbook(io.BytesIO(xlsx_format.render(whole, template=template)))
    )
    assert streamed.head() == ReportHead(**dict(whole))
    assert book.sheetnames == (["明细"] if template else ["概览", "排名", "明细", "逾期", "动态"])


def test_xlsx_action_cells_are_typed(report: StatusReport) -> None:
    sheet = open_xlsx(report)["明细"]
    overdue = row_of(sheet, 2)
    expected = line_of(report, 2)
    assert expected.due_on is not None and expected.progress == 40
    assert isinstance(overdue["截止日期 ✎"].value, datetime)
    assert overdue["截止日期 ✎"].value.date() == expected.due_on
    assert overdue["截止日期 ✎"].number_format == "yyyy-mm-dd"
    # progress is the whole number people type, shown as a percent
    assert overdue["进度 ✎"].value == 40
    assert overdue["进度 ✎"].number_format == '0"%"'
    assert overdue["是否逾期"].value == "是"
    assert overdue["状态 ✎"].value == "推进中"
    assert overdue["编号"].data_type == "n" and overdue["版本"].value == expected.version
    updated = overdue["更新时间"].value
    assert isinstance(updated, datetime) and updated.tzinfo is None
    assert abs(updated - local(expected.updated_at)) < timedelta(seconds=1)
    completed = row_of(sheet, 1)
    assert completed["状态 ✎"].value == "已完成" and completed["进度 ✎"].value == 100
    assert completed["是否逾期"].value == "否"
    assert completed["主题"].value == "、".join(line_of(report, 1).themes)
    assert completed["原文摘录"].value == line_of(report, 1).quote


def test_xlsx_formula_like_text_stays_text(hostile: StatusReport) -> None:
    book = open_xlsx(hostile)
    row = row_of(book["明细"], 999)
    for heading, text in [
        ("事项", INJECTION),
        ("牵头单位", "@某单位"),
        ("配合单位 ✎", "=配合单位、区科技创新局"),
        ("责任领导 ✎", "+李副区长"),
        ("责任人 ✎", "-张三"),
        ("主题", "+主题、招商"),
        ("最新进展", SCRIPT),
        ("原文摘录", PIPE_NOTE),
    ]:
        assert row[heading].data_type == "s", heading
        assert row[heading].value == text, heading
    noted = row_of(book["明细"], 2)["最新进展"]
    assert noted.data_type == "s" and noted.value == INJECTION
    change = next(book["动态"].iter_rows(min_row=2, max_row=2))
    assert [(c.value, c.data_type) for c in change[3:6]] == [
        ("\tactor", "s"),
        ("修改", "s"),
        ("=1+1", "s"),
    ]


def test_xlsx_text_reads_back_as_it_was(hostile: StatusReport) -> None:
    """The rows are written as XML of their own (sheet_data): spaces at either end, a carriage
    return, markup and entities read back as they were; characters XML cannot hold are left
    out, and a text longer than Excel's limit on a cell is cut there."""
    odd = "  a & b <c> &amp; \r\n line two \x07 "
    line = replace(line_of(hostile, 999), latest_note=odd, quote="长" * 40_000)
    report = hostile.model_copy(update={"actions": [line, *hostile.actions[1:]]})
    row = row_of(open_xlsx(report)["明细"], 999)
    assert row["最新进展"].value == odd.replace("\x07", "")
    assert row["原文摘录"].value == "长" * 32767


def test_xlsx_column_widths_fit_chinese_and_wrap_long_text(hostile: StatusReport) -> None:
    """Printed fitted to the page's width, every unit of width makes the text smaller: long
    text wraps in a column of at most 24, a heading over two lines, and a row is as tall as its
    longest wrapped text (LibreOffice does not grow a row to fit it, Excel does)."""
    sheet = open_xlsx(hostile)["明细"]
    widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
    assert set(widths) == set("ABCDEFGHIJKLMNOPQRSTUV")
    assert all(6 <= width <= 60 for width in widths.values())
    assert sum(widths.values()) <= 300  # 405 before: printed at a quarter of its size
    wide_title = line_of(hostile, 1).title  # every character East Asian wide
    assert 2 * len(wide_title) + 2 > 24 and widths["C"] == 24
    assert widths["D"] >= 2 * len("区城乡建设和生态环境局") + 2  # a unit's name on one line
    quotes = [cell for (cell,) in sheet.iter_rows(min_row=2, min_col=21, max_col=21)]
    titles = [cell for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3)]
    assert all(cell.alignment.wrap_text for cell in quotes + titles)
    assert all(cell.alignment.vertical == "top" for cell in sheet[2] if cell.value is not None)
    longest = max(quotes, key=lambda cell: len(cell.value))
    assert len(longest.value) * 2 > 4 * 24 and widths["U"] == 24
    assert sheet.row_dimensions[longest.row].height >= 4 * 15  # four lines and more
    assert widths["L"] < 2 * len("原定完成时限") + 2  # its heading wraps
    assert all(cell.alignment.wrap_text for cell in sheet[1])
    assert {(c.alignment.horizontal, c.alignment.vertical) for c in sheet[1]} == {("center",) * 2}
    assert sheet.row_dimensions[1].height == 2 * 15


def test_xlsx_sheets_print_landscape_one_page_wide_under_their_header(
    report: StatusReport,
) -> None:
    """Printed, a table fills the width of A4 landscape, narrow margins and all, and goes on
    over as many pages as its rows need, its header row repeated on each."""
    book = open_xlsx(report)
    for name in ("明细", "逾期", "动态", "排名"):
        sheet = book[name]
        setup = sheet.page_setup
        assert (setup.orientation, setup.paperSize) == ("landscape", 9), name
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), name
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert sheet.print_title_rows == "$1:$1"
        margins = sheet.page_margins
        assert (margins.left, margins.right, margins.top, margins.bottom) == (
            0.25,
            0.25,
            0.75,
            0.75,
        )


def test_xlsx_overview_has_headline_figures_and_a_chart(report: StatusReport) -> None:
    book = open_xlsx(report)
    sheet = book["概览"]
    assert sheet["A1"].value == report.title
    found = figures_of(sheet)
    head = report.headline
    assert found["统计期间"].value == f"{report.period_start} – {report.period_end}"
    assert found["数据截至"].value == "当前"
    assert isinstance(found["生成时间"].value, datetime)
    assert found["事项总数"].value == head.total == 43
    assert found["已完成"].value == head.completed == 1
    assert found["完成率"].value == pytest.approx(head.completion_rate)
    assert found["完成率"].number_format == "0.0%"
    assert found["平均进度"].value == pytest.approx(head.average_progress)
    assert found["平均进度"].number_format == '0.0"%"'
    assert found["逾期"].value == head.overdue == 2
    assert found["本期新增"].value == head.created_in_period
    assert found["本期有变动"].value == head.changed_in_period == 3
    assert found["推进中"].value == 1 and found["已完成"].value == 1
    assert found["待研究"].value == 41
    (chart,) = sheet._charts
    assert chart.anchor._from.col == 3  # column D, beside the figures
    rates = chart.series[0].val.numRef.f
    assert rates == f"'排名'!$J$2:$J${len(report.ranking) + 1}"
    ranking = book["排名"]
    assert ranking["H1"].value == "逾期" and ranking["D1"].value == "已完成"
    assert (ranking["E1"].value, ranking["F1"].value) == ("推进中", "待审核")
    assert ranking["I1"].value == "红灯" and ranking["J1"].value == "完成率"
    assert ranking["J2"].number_format == "0.0%"
    assert [row[1].value for row in ranking.iter_rows(min_row=2)] == [
        unit.unit_name for unit in report.ranking
    ]
    assert ranking["J2"].value == pytest.approx(report.ranking[0].completion_rate)
    assert ranking["I2"].value == report.ranking[0].red
    assert ranking["J2"].value > 0


def test_xlsx_chart_labels_each_bar_with_its_value_alone(report: StatusReport) -> None:
    """Every show* flag written: a flag left out is the reader's to default, and LibreOffice
    then labels each bar "区经济发展局；完成率；8.3%" beside a legend key."""
    (chart,) = open_xlsx(report)["概览"]._charts
    labels = chart.dataLabels
    assert labels.showVal is True
    shown = (labels.showSerName, labels.showCatName, labels.showLegendKey, labels.showPercent)
    assert shown == (False, False, False, False)
    assert labels.showBubbleSize is False and labels.showLeaderLines is False


def test_xlsx_in_english(english: StatusReport) -> None:
    book = open_xlsx(english)
    assert book.sheetnames == ["Overview", "Ranking", "Actions", "Overdue", "Changes"]
    assert header(book["Actions"]) == EN_SHEET_HEADERS
    row = row_of(book["Actions"], 1)
    assert row["Status ✎"].value == "Completed" and row["Overdue"].value == "no"
    assert row["Priority"].value in {"High", "Medium", "Low"}
    found = figures_of(book["Overview"])
    assert found["Actions"].value == 43 and found["Figures as of"].value == "now"
    assert found["Proposed"].value == 41


# ---------------------------------------------------------------- CSV


def read_csv(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.removeprefix(b"\xef\xbb\xbf").decode(), newline="")))


def test_csv_is_excel_friendly_utf8_with_bom(report: StatusReport) -> None:
    raw = csv_format.render(report)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and raw.count(b"\r\n") >= len(report.actions) + 1
    rows = read_csv(raw)
    assert rows[0] == ZH_SHEET_HEADERS
    assert len(rows) == len(report.actions) + 1
    by_id = {row[0]: dict(zip(ZH_SHEET_HEADERS, row, strict=True)) for row in rows[1:]}
    done = by_id["1"]
    assert done["事项"] == line_of(report, 1).title and done["状态 ✎"] == "已完成"
    assert done["进度 ✎"] == "100%" and done["是否逾期"] == "否"
    late = by_id["2"]
    assert late["截止日期 ✎"] == str(line_of(report, 2).due_on) and late["是否逾期"] == "是"
    assert late["最新进展"] == "'" + INJECTION
    assert by_id["3"]["最新进展"] == SCRIPT + PIPE_NOTE  # the newline survives, quoted


def test_csv_defuses_every_formula_like_cell(hostile: StatusReport) -> None:
    rows = read_csv(csv_format.render(hostile))
    first = dict(zip(ZH_SHEET_HEADERS, rows[1], strict=True))
    assert first["事项"] == "'" + INJECTION
    assert first["牵头单位"] == "'@某单位"
    assert first["配合单位 ✎"] == "'=配合单位、区科技创新局"
    assert first["责任领导 ✎"] == "'+李副区长"
    assert first["责任人 ✎"] == "'-张三"
    assert first["主题"] == "'+主题、招商"
    assert first["最新进展"] == SCRIPT and first["原文摘录"] == PIPE_NOTE
    risky = [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert risky == []


def test_csv_in_english(english: StatusReport) -> None:
    rows = read_csv(csv_format.render(english))
    assert rows[0] == EN_SHEET_HEADERS
    assert len(rows) == len(english.actions) + 1


# ---------------------------------------------------------------- HTML


class Page(HTMLParser):
    """What a browser would see: tags, attributes, text, the SVG and the tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.rects: list[dict[str, str | None]] = []
        self.svg_text: list[str] = []
        self.scale_text: list[str] = []  # the chart's scale: its labels, its lines
        self.lines: list[dict[str, str | None]] = []
        self.headings: list[str] = []
        self.table_rows: dict[str, int] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag == "rect":
            self.rects.append(dict(attrs))
        if tag == "line":
            self.lines.append(dict(attrs))
        if tag == "tr" and self.headings:
            self.table_rows[self.headings[-1]] = self.table_rows.get(self.headings[-1], 0) + 1
        if tag not in ("meta", "rect", "line"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "svg" in self._open and self._open[-1] == "text":
            (self.scale_text if "g" in self._open else self.svg_text).append(data)
        if self._open and self._open[-1] == "h2":
            self.headings.append(data)


def parse(raw: bytes) -> Page:
    page = Page()
    page.feed(raw.decode("utf-8"))
    page.close()
    return page


def test_html_is_one_self_contained_printable_file(report: StatusReport) -> None:
    raw = html_format.render(report)
    page = parse(raw)
    assert raw.startswith(b"<!DOCTYPE html>")
    assert ("lang", "zh-CN") in page.attributes and ("charset", "utf-8") in page.attributes
    assert page.tags.count("style") == 1
    assert not {"script", "link", "img", "iframe", "object"} & set(page.tags)
    assert not [v for k, v in page.attributes if k in ("src", "href") and v and "http" in v]
    assert "@media print" in raw.decode() and "page-break-inside: avoid" in raw.decode()
    assert page.headings == ["概览", "各单位完成率", "排名", "逾期", "动态", "明细"]
    assert page.table_rows == {
        "概览": 14,
        "各单位完成率": 4,  # beside the chart: a heading and a row per light
        "排名": len(report.ranking) + 1,
        "逾期": len(report.overdue) + 1,
        "动态": len(report.changes) + 1,
        "明细": len(report.actions) + 1,
    }
    assert report.title in page.text and "事项总数" in page.text


def test_html_chart_draws_one_bar_per_unit(report: StatusReport) -> None:
    page = parse(html_format.render(report))
    assert page.tags.count("svg") == 1
    assert len(page.rects) == len(report.ranking) == 8
    widths = [float(rect["width"] or 0) for rect in page.rects]
    rates = [unit.completion_rate for unit in report.ranking]
    full = widths[0] / rates[0]
    assert widths == [pytest.approx(rate * full, abs=0.1) for rate in rates]
    assert widths[0] > 0 and widths[-1] == 0
    names = [unit.unit_name for unit in report.ranking]
    percents = [f"{rate * 100:.1f}%" for rate in rates]
    assert page.svg_text == [t for pair in zip(names, percents, strict=True) for t in pair]


def test_html_chart_has_a_scale_from_0_to_100_percent(report: StatusReport) -> None:
    """A gridline and a label every 20 % under the bars, 0 % the axis they start from and
    100 % where a bar of the whole width would end."""
    page = parse(html_format.render(report))
    assert page.scale_text == ["0%", "20%", "40%", "60%", "80%", "100%"]
    xs = [float(line["x1"] or 0) for line in page.lines]
    assert [line["class"] for line in page.lines] == ["axis"] + ["grid"] * 5
    step = xs[1] - xs[0]
    assert step > 0 and xs == [pytest.approx(xs[0] + step * i) for i in range(6)]
    bars = page.rects
    assert {float(bar["x"] or 0) for bar in bars} == {xs[0]}  # every bar starts at 0 %
    rate, length = report.ranking[0].completion_rate, float(bars[0]["width"] or 0)
    assert xs[0] + length == pytest.approx(xs[0] + rate * (xs[-1] - xs[0]), abs=0.1)
    bottom = max(float(bar["y"] or 0) + float(bar["height"] or 0) for bar in bars)
    assert all(float(line["y2"] or 0) >= bottom for line in page.lines)


def test_html_escapes_user_text(hostile: StatusReport) -> None:
    raw = html_format.render(hostile).decode()
    page = parse(raw.encode())
    assert "<script" not in raw.lower() and "<img" not in raw.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert SCRIPT in page.text  # shown as text
    assert '<img src="http://evil.example/x.png">' in page.text
    assert "script" not in page.tags and "img" not in page.tags
    assert not [v for k, v in page.attributes if k in ("src", "href")]


def test_html_in_english(english: StatusReport) -> None:
    page = parse(html_format.render(english))
    assert ("lang", "en") in page.attributes
    assert page.headings == [
        "Overview",
        "Completion rate by unit",
        "Ranking",
        "Overdue",
        "Changes",
        "Actions",
    ]
    assert "Completed" in page.text and "Source quote" in page.text


# ---------------------------------------------------------------- Markdown


def md_sections(raw: bytes) -> dict[str, str]:
    text = raw.decode("utf-8")
    return {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}


def table_lines(section: str) -> list[str]:
    return [line for line in section.splitlines() if line.startswith("|")]


def cells(line: str) -> int:
    """How many cells a table line has (escaped pipes do not separate)."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_has_every_part(report: StatusReport) -> None:
    raw = md_format.render(report)
    assert raw.decode().startswith(f"# {report.title}\n")
    sections = md_sections(raw)
    assert list(sections) == ["概览", "排名", "逾期", "动态", "明细"]
    assert "- **事项总数**：43" in sections["概览"]
    assert "待研究 41" in sections["概览"]
    tables: list[tuple[str, Sequence[object]]] = [
        ("排名", report.ranking),
        ("动态", report.changes),
    ]
    for name, rows in tables:
        assert len(table_lines(sections[name])) == len(rows) + 2
    actions = table_lines(sections["明细"])
    assert len(actions) == len(report.actions) + 2
    assert actions[0] == "| " + " | ".join(ZH_HEADERS) + " |"
    assert {cells(line) for line in actions} == {len(ZH_HEADERS)}
    overdue = [line for line in sections["逾期"].splitlines() if line.startswith("- #")]
    assert [line.split()[1] for line in overdue] == ["#2", "#3"]
    assert "截止日期：" in overdue[0]


def test_markdown_escapes_pipes_newlines_and_markup(hostile: StatusReport) -> None:
    sections = md_sections(md_format.render(hostile))
    actions = table_lines(sections["明细"])
    assert len(actions) == len(hostile.actions) + 2
    assert {cells(line) for line in actions} == {len(ZH_HEADERS)}
    first = actions[2]
    assert "第一行 \\| 管道<br>第二行" in first
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first
    assert "<script>" not in "\n".join(sections.values())
    changes = table_lines(sections["动态"])
    assert {cells(line) for line in changes} == {7}
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| 标题" in changes[2]


def test_markdown_in_english(english: StatusReport) -> None:
    sections = md_sections(md_format.render(english))
    assert list(sections) == ["Overview", "Ranking", "Overdue", "Changes", "Actions"]
    assert "- **Actions**: 43" in sections["Overview"]
    assert table_lines(sections["Actions"])[0] == "| " + " | ".join(EN_HEADERS) + " |"


# ---------------------------------------------------------------- JSON and dispatch


def test_json_is_the_model_with_chinese_unescaped(hostile: StatusReport) -> None:
    raw = json_format.render(hostile)
    assert json.loads(raw) == hostile.model_dump(mode="json")
    assert "事项推进情况报告".encode() in raw and b"\\u" not in raw
    assert StatusReport.model_validate_json(raw) == hostile


def test_render_dispatches_every_format(report: StatusReport) -> None:
    assert set(formats.RENDERERS) == set(ReportFormat)
    assert formats.render(report, ReportFormat.md) == md_format.render(report)
    assert formats.render(report, ReportFormat.csv) == csv_format.render(report)
    assert formats.render(report, ReportFormat.html) == html_format.render(report)
    assert formats.render(report, ReportFormat.json) == json_format.render(report)
    assert formats.render(report, ReportFormat.xlsx).startswith(b"PK")


def test_empty_report_renders_everywhere(report: StatusReport) -> None:
    empty = report.model_copy(update={"actions": [], "overdue": [], "changes": [], "ranking": []})
    book = load_workbook(io.BytesIO(xlsx_format.render(empty)))
    assert book["明细"].max_row == 1 and book["概览"]._charts == []
    assert read_csv(csv_format.render(empty)) == [ZH_SHEET_HEADERS]
    page = parse(html_format.render(empty))
    assert "svg" not in page.tags and page.text.count("无") >= 5
    assert md_sections(md_format.render(empty))["明细"].strip().endswith("无")
