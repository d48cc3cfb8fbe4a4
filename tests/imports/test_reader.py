"""The upload reader, fed real files: workbooks written by openpyxl and by the report export,
CSV bytes in the encodings and dialects Excel and WPS write, and files that are no sheet."""

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.formula import ArrayFormula
from sqlmodel import Session

from app.actions.schemas import ActionFilters
from app.config import Settings
from app.imports.reader import (
    MAX_ROWS,
    CellValue,
    ColumnPlace,
    Formula,
    SheetRow,
    UnreadableSheet,
    UploadedSheet,
    read_upload,
)
from app.reports import formats
from app.reports.builder import build_report, current_week
from app.reports.document import ReportFormat, StatusReport
from app.seeding.schemas import SeedReport
from app.spreadsheet import Lang

ZH_HEADER = ["编号", "版本", "事项", "状态", "进度", "截止日期", "责任人", "本次进展"]
EN_HEADER = ["ID", "Version", "Action", "Status", "Progress", "Due", "Assignee", "New note"]
ALL_KEYS = ["id", "version", "status", "progress", "due_on", "assignee", "new_note"]

# ---------------------------------------------------------------- helpers


def xlsx(
    *rows: Sequence[object],
    title: str = "明细",
    extra: dict[str, Sequence[Sequence[object]]] | None = None,
) -> bytes:
    """A workbook whose first sheet, named title, holds rows; extra adds sheets after it."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, sheet_rows in (extra or {}).items():
        other = workbook.create_sheet(name)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n"


def unreadable(content: bytes, file_name: str | None = None) -> str:
    """The message read_upload refuses content with."""
    with pytest.raises(UnreadableSheet) as caught:
        read_upload(content, file_name)
    message = str(caught.value)
    assert message and caught.value.status == 422
    return message


def values(sheet: UploadedSheet) -> list[dict[str, CellValue | Formula]]:
    return [row.values for row in sheet.rows]


def assert_export_columns(sheet: UploadedSheet) -> None:
    """The export's 明细 columns an import reads, in its order; new_note (an empty column
    for the unit to fill in), when the export has it, is read empty."""
    assert [key for key in sheet.columns if key != "new_note"] == [
        "id",
        "version",
        "co_owners",
        "status",
        "progress",
        "due_on",
        "assignee",
        "leader",
    ]
    if "new_note" in sheet.columns:
        assert all(row.values["new_note"] is None for row in sheet.rows)


@pytest.fixture
def report(session: Session, settings: Settings, seeded: SeedReport) -> StatusReport:
    """The real Chinese report of the current week, over the seed data."""
    period = current_week(settings.now().date())
    built = build_report(session, settings, ActionFilters(), period, Lang.zh)
    assert len(built.actions) > 10
    return built


# ---------------------------------------------------------------- the real export, read back


def test_exported_xlsx_reads_back_every_action(report: StatusReport) -> None:
    sheet = read_upload(formats.render(report, ReportFormat.xlsx), "report.xlsx")

    assert sheet.format == "xlsx"
    assert_export_columns(sheet)
    assert [(r["id"], r["version"]) for r in values(sheet)] == [
        (line.id, line.version) for line in report.actions
    ]
    assert [r.number for r in sheet.rows] == list(range(2, len(report.actions) + 2))
    assert [r["status"] for r in values(sheet)] == [line.status_label for line in report.actions]
    assert [r["assignee"] for r in values(sheet)] == [line.assignee for line in report.actions]
    assert any(
        any("\u4e00" <= ch <= "\u9fff" for ch in line.status_label) for line in report.actions
    )
    # progress is a percentage cell: 40% is stored as 0.4; due dates are date cells
    assert [r["progress"] for r in values(sheet)] == pytest.approx(
        [line.progress / 100 for line in report.actions]
    )
    for row, line in zip(sheet.rows, report.actions, strict=True):
        due = row.values["due_on"]
        assert (due.date() if isinstance(due, datetime) else due) == line.due_on


def test_exported_csv_reads_back_every_action(report: StatusReport) -> None:
    content = formats.render(report, ReportFormat.csv)
    assert content.startswith(b"\xef\xbb\xbf")
    sheet = read_upload(content, "report.csv")

    assert sheet.format == "csv"
    assert_export_columns(sheet)
    assert [(r["id"], r["version"]) for r in values(sheet)] == [
        (str(line.id), str(line.version)) for line in report.actions
    ]
    assert [r["status"] for r in values(sheet)] == [line.status_label for line in report.actions]
    assert all("\ufeff" not in str(v) for r in values(sheet) for v in r.values())
    assert [r["assignee"] for r in values(sheet)] == [
        line.assignee or None for line in report.actions
    ]
    assert [r["progress"] for r in values(sheet)] == [
        f"{line.progress}%" for line in report.actions
    ]


def test_exported_english_report_reads_back(
    session: Session, settings: Settings, seeded: SeedReport
) -> None:
    period = current_week(settings.now().date())
    english = build_report(session, settings, ActionFilters(), period, Lang.en)
    for fmt in (ReportFormat.xlsx, ReportFormat.csv):
        sheet = read_upload(formats.render(english, fmt))
        assert [str(r["id"]) for r in values(sheet)] == [str(line.id) for line in english.actions]


# ---------------------------------------------------------------- headings


def test_chinese_workbook_reads_typed_cells() -> None:
    due = datetime(2026, 12, 31)
    sheet = read_upload(xlsx(ZH_HEADER, [7, 3, "修路", "推进中", 0.6, due, "张三", "已开工"]))
    assert sheet.columns == ALL_KEYS  # 事项 is not read
    assert sheet.rows == [
        SheetRow(
            2,
            {
                "id": 7,
                "version": 3,
                "status": "推进中",
                "progress": 0.6,
                "due_on": due,
                "assignee": "张三",
                "new_note": "已开工",
            },
        )
    ]


def test_english_headings_in_any_case() -> None:
    header = ["id", "VERSION", "Action", "status", "Progress", "due", "ASSIGNEE", "new note"]
    sheet = read_upload(
        xlsx(header, [1, 1, "x", "Blocked", None, None, None, None], title="Actions")
    )
    assert sheet.columns == ALL_KEYS
    assert sheet.rows[0].values["status"] == "Blocked"


def test_raw_keys_as_headings() -> None:
    content = csv_text("id,version,due_on,new_note", "5,2,2026-01-01,写了")
    sheet = read_upload(content.encode())
    assert sheet.columns == ["id", "version", "due_on", "new_note"]
    assert values(sheet) == [
        {"id": "5", "version": "2", "due_on": "2026-01-01", "new_note": "写了"}
    ]


def test_marked_headings_are_matched() -> None:
    header = [
        " 编号 ",
        "版本",
        "状态 ✎",
        "进度（可填）",
        "责任人(可填)",
        "Due (editable)",
        "New note ✎",
    ]
    sheet = read_upload(xlsx(header, [1, 1, "推进中", 0.5, "李四", None, "好"]))
    assert sheet.columns == [
        "id",
        "version",
        "status",
        "progress",
        "assignee",
        "due_on",
        "new_note",
    ]
    assert sheet.rows[0].values["assignee"] == "李四"


def test_other_columns_are_ignored_and_columns_keep_sheet_order() -> None:
    header = ["备注", "进度", "版本", "事项", "编号"]
    sheet = read_upload(xlsx(header, ["随便", 0.1, 4, "标题", 9]))
    assert sheet.columns == ["progress", "version", "id"]
    assert sheet.rows[0].values == {"progress": 0.1, "version": 4, "id": 9}


@pytest.mark.parametrize(
    ("value", "number_format", "read"),
    [
        (0.5, "0%", "50%"),  # 50% typed into a General cell: Excel stores 0.5 and shows 50%
        (0.125, "0.0%", "12.5%"),
        (0.07, "0%", "7%"),
        (1, "0%", "100%"),
        (0.4, "[Red]0.00%;[Blue]-0.00%", "40%"),
        (40, '0"%"', 40),  # the export's format: the number itself, a % sign printed after it
        (40, "0\\%", 40),
        (0.5, "General", 0.5),
    ],
)
def test_xlsx_numbers_are_read_as_shown_when_formatted_as_percentages(
    value: float, number_format: str, read: object
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["编号", "版本", "进度"])
    sheet.append([1, 1, value])
    sheet["C2"].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert values(read_upload(buffer.getvalue())) == [{"id": 1, "version": 1, "progress": read}]


# ---------------------------------------------------------------- CSV encodings and dialects


def test_gbk_csv() -> None:
    content = csv_text("编号,版本,状态,责任人,本次进展", "3,2,已完成,王五,验收通过").encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    sheet = read_upload(content, "导出.csv")
    assert sheet.columns == ["id", "version", "status", "assignee", "new_note"]
    assert values(sheet) == [
        {"id": "3", "version": "2", "status": "已完成", "assignee": "王五", "new_note": "验收通过"}
    ]


@pytest.mark.parametrize("marker", [" ?", "?", " ？", "？", " \ufffd", "", " ✎"])
def test_heading_marks_lost_in_a_gbk_save(marker: str) -> None:
    """GBK has no ✎: Excel writes ? in its place (WPS sometimes ？); some saves drop it."""
    header = ",".join(["编号", "版本", f"状态{marker}", f"进度{marker}"])
    content = csv_text(header, "3,2,推进中,50%").encode("gb18030")
    sheet = read_upload(content, "导出.csv")
    assert sheet.columns == ["id", "version", "status", "progress"]
    assert values(sheet) == [{"id": "3", "version": "2", "status": "推进中", "progress": "50%"}]
    assert sheet.cell_name("progress", 2) == f"进度{marker} (column D, row 2)"


def test_a_question_mark_inside_a_heading_is_no_marker() -> None:
    header = csv_text("编号,版本,状态?说明").encode()
    assert unreadable(header).startswith("the sheet has no column to fill in")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_csv_with_and_without_bom(bom: bytes) -> None:
    sheet = read_upload(bom + csv_text("编号,版本,状态", "1,1,受阻").encode())
    assert sheet.columns == ["id", "version", "status"]
    assert values(sheet) == [{"id": "1", "version": "1", "status": "受阻"}]


def test_utf16_tab_separated_text() -> None:
    """Excel's "Unicode text" save: UTF-16 with a BOM, tab-separated."""
    sheet = read_upload(csv_text("编号\t版本\t状态", "1\t1\t受阻").encode("utf-16"))
    assert values(sheet) == [{"id": "1", "version": "1", "status": "受阻"}]


def test_semicolon_delimiter() -> None:
    content = csv_text("编号;版本;进度;本次进展", "1;2;50%;一, 二, 三")
    sheet = read_upload(content.encode())
    assert sheet.columns == ["id", "version", "progress", "new_note"]
    assert values(sheet) == [
        {"id": "1", "version": "2", "progress": "50%", "new_note": "一, 二, 三"}
    ]


def test_tab_delimiter_and_quoted_multiline_cell() -> None:
    content = csv_text("编号\t版本\t本次进展", '1\t2\t"第一行\n第二行"', "2\t1\t")
    sheet = read_upload(content.encode())
    assert values(sheet)[0]["new_note"] == "第一行\n第二行"
    assert values(sheet)[1] == {"id": "2", "version": "1", "new_note": None}


def test_short_csv_rows_read_as_empty_cells() -> None:
    sheet = read_upload(csv_text("编号,版本,状态,进度", "1,1").encode())
    assert values(sheet) == [{"id": "1", "version": "1", "status": None, "progress": None}]


def test_csv_with_only_a_header_has_no_rows() -> None:
    sheet = read_upload("\ufeff编号,版本,状态 ✎\r\n".encode())
    assert sheet == UploadedSheet(
        "csv",
        ["id", "version", "status"],
        [],
        {
            "id": ColumnPlace("编号", "A"),
            "version": ColumnPlace("版本", "B"),
            "status": ColumnPlace("状态 ✎", "C"),
        },
    )
    assert sheet.cell_name("status", 7) == "状态 ✎ (column C, row 7)"


def test_workbook_with_only_a_header_has_no_rows() -> None:
    assert read_upload(xlsx(ZH_HEADER)).rows == []


# ---------------------------------------------------------------- formulas


def test_formula_cells_in_xlsx() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "明细"
    sheet.append(["编号", "版本", "进度", "本次进展"])
    sheet.append([1, 1, "=0.5*2", '=HYPERLINK("http://x","点我")'])
    sheet.append([2, 1, None, "=SUM(1)"])
    sheet["D3"].data_type = "s"  # text that merely looks like a formula, as the export writes it
    sheet["C4"] = ArrayFormula("C4", "=SUM(A2:A3*B2:B3)")
    sheet["A4"], sheet["B4"] = 3, 1
    buffer = io.BytesIO()
    workbook.save(buffer)

    rows = values(read_upload(buffer.getvalue()))
    assert rows[0]["progress"] == Formula("=0.5*2")
    assert rows[0]["new_note"] == Formula('=HYPERLINK("http://x","点我")')
    assert rows[1]["new_note"] == "=SUM(1)"
    assert rows[2]["progress"] == Formula("=SUM(A2:A3*B2:B3)")


def test_formula_cells_in_csv_and_the_export_guard() -> None:
    content = csv_text(
        "编号,版本,进度,本次进展",
        "1,1,=0.5*2,'=SUM(1)",
        "2,1,'+1,'-减少",
        "3,1,'@提到,'普通引号",
        "4,1,-5,@x",
    )
    rows = values(read_upload(content.encode()))
    assert rows[0]["progress"] == Formula("=0.5*2")
    assert rows[0]["new_note"] == "=SUM(1)"  # plain text now, not a Formula
    assert (rows[1]["progress"], rows[1]["new_note"]) == ("+1", "-减少")
    assert (rows[2]["progress"], rows[2]["new_note"]) == ("@提到", "'普通引号")
    assert (rows[3]["progress"], rows[3]["new_note"]) == ("-5", "@x")


# ---------------------------------------------------------------- empty rows and the limit


def test_empty_rows_are_skipped_with_real_row_numbers_xlsx() -> None:
    content = xlsx(
        ["编号", "版本", "事项", "状态"],
        [1, 1, "a", "推进中"],
        [],
        [None, None, "只有标题", None],  # no known column filled: empty for an import
        [None, None, None, "   "],
        [4, 2, None, None],
    )
    sheet = read_upload(content)
    assert [row.number for row in sheet.rows] == [2, 6]
    assert sheet.rows[1].values == {"id": 4, "version": 2, "status": None}


def test_header_below_blank_rows_keeps_real_row_numbers() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B3"], sheet["C3"], sheet["D3"] = "编号", "版本", "状态"
    sheet["B4"], sheet["C4"], sheet["D4"] = 1, 1, "受阻"
    sheet["B9"], sheet["C9"] = 2, 5
    buffer = io.BytesIO()
    workbook.save(buffer)
    read = read_upload(buffer.getvalue())
    assert [(row.number, row.values["id"]) for row in read.rows] == [(4, 1), (9, 2)]


def test_empty_rows_are_skipped_with_real_row_numbers_csv() -> None:
    content = csv_text("", "编号,版本,事项,状态", "1,1,a,推进中", ",,,", "", ",,标题,", "4,2,,")
    sheet = read_upload(content.encode())
    assert [row.number for row in sheet.rows] == [3, 7]


def _many_rows(count: int) -> bytes:
    lines = ["编号,版本,状态", *(f"{n},1,推进中" for n in range(1, count + 1))]
    return csv_text(*lines).encode()


def test_max_rows_is_fine() -> None:
    sheet = read_upload(_many_rows(MAX_ROWS))
    assert len(sheet.rows) == MAX_ROWS == 10_000
    assert sheet.rows[-1] == SheetRow(
        MAX_ROWS + 1, {"id": str(MAX_ROWS), "version": "1", "status": "推进中"}
    )


def test_one_row_more_than_max_rows_is_refused() -> None:
    message = unreadable(_many_rows(MAX_ROWS + 1))
    assert "more than 10,000 rows" in message


def test_blank_rows_do_not_count_against_the_limit() -> None:
    content = _many_rows(MAX_ROWS) + b",,\r\n" * 50
    assert len(read_upload(content).rows) == MAX_ROWS


def test_too_many_rows_in_xlsx_is_refused() -> None:
    rows = [[n, 1, "推进中"] for n in range(1, MAX_ROWS + 2)]
    assert "more than 10,000 rows" in unreadable(xlsx(["编号", "版本", "状态"], *rows))


# ---------------------------------------------------------------- header problems


def csv_bytes(*rows: Sequence[object]) -> bytes:
    return csv_text(*(",".join(map(str, row)) for row in rows)).encode()


@pytest.mark.parametrize("make", [xlsx, csv_bytes])
def test_header_problems_name_the_column(make: Callable[..., bytes]) -> None:
    no_id = unreadable(make(["版本", "状态"], [1, "x"]))
    assert no_id == "the sheet has no 编号/ID column; download a fresh template"
    no_version = unreadable(make(["编号", "Status"], [1, "x"]))
    assert no_version == "the sheet has no 版本/Version column; download a fresh template"
    no_editable = unreadable(make(["编号", "版本", "事项", "最新进展"], [1, 1, "x", "y"]))
    assert no_editable.startswith("the sheet has no column to fill in")
    assert "状态/Status" in no_editable and "本次进展/New note" in no_editable
    twice = unreadable(make(["编号", "版本", "状态", "事项", "Status ✎"], [1, 1, "x", "y", "z"]))
    assert twice.startswith("the column 状态/Status appears twice (columns C and E)")


def test_a_sheet_with_no_header_row() -> None:
    assert unreadable(xlsx()) == "the sheet 明细 is empty: it has no header row"
    assert unreadable(b"\xef\xbb\xbf\r\n,,\r\n") == "the file is empty: it has no header row"


def test_sheet_choice_prefers_the_actions_sheet() -> None:
    content = xlsx(
        ["编号", "版本", "状态"],
        [9, 9, "x"],
        title="概览",
        extra={"明细": [["编号", "版本", "状态"], [1, 2, "推进中"]], "逾期": [["编号"]]},
    )
    assert values(read_upload(content)) == [{"id": 1, "version": 2, "status": "推进中"}]


def test_sheet_choice_falls_back_to_the_first_with_an_id_column() -> None:
    content = xlsx(
        ["说明"],
        ["请填写第二页"],
        title="Sheet1",
        extra={"Sheet2": [["ID", "Version", "Progress"], [5, 1, 1]]},
    )
    assert values(read_upload(content)) == [{"id": 5, "version": 1, "progress": 1}]
    no_version = xlsx(["说明"], title="Sheet1", extra={"Sheet2": [["事项"]], "Sheet3": [["ID"]]})
    assert (
        unreadable(no_version) == "the sheet has no 版本/Version column; download a fresh template"
    )
    none = xlsx(["说明"], title="Sheet1", extra={"Sheet2": [["事项"]]})
    assert (
        unreadable(none)
        == "no sheet of the workbook has a 编号/ID column; download a fresh template"
    )


def test_the_only_sheet_is_read_whatever_its_name() -> None:
    content = xlsx(["编号", "版本", "状态"], [1, 1, "x"], title="我的表")
    assert len(read_upload(content).rows) == 1
    assert (
        unreadable(xlsx(["事项"], title="我的表"))
        == "the sheet has no 编号/ID column; download a fresh template"
    )


# ---------------------------------------------------------------- not a sheet at all


def test_empty_bytes() -> None:
    assert unreadable(b"") == "the file is empty; upload the filled-in .xlsx or .csv report"
    assert unreadable(b" \r\n") == "the file is empty; upload the filled-in .xlsx or .csv report"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "a PNG image"),
        (bytes(range(256)) * 8, "binary data, not text"),
        (b"\x07\x1b\x02\x05abc\x06\x03\x01\x04\x08", "binary data, not text"),
    ],
)
def test_not_a_spreadsheet(content: bytes, what: str) -> None:
    assert unreadable(content, "scan.pdf") == (
        f"not a spreadsheet: scan.pdf is {what}; upload the report as .xlsx or .csv"
    )
    assert unreadable(content).startswith(f"not a spreadsheet: the file is {what}")


def test_undecodable_text_names_the_encodings() -> None:
    message = unreadable(b"\xff\xfe"[:1] + b"\x80\x81abc,\xff\xff")
    assert message.startswith("not a readable .csv file: it is neither UTF-8 nor GB18030/GBK text")


def test_old_xls_workbook() -> None:
    message = unreadable(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "旧表.xls")
    assert message.startswith("not a readable .xlsx file: this is an old .xls workbook")


def test_truncated_xlsx() -> None:
    content = xlsx(ZH_HEADER, [1, 1, "a", "b", 0.1, None, None, None])
    for cut in (len(content) // 2, 100, 4):
        message = unreadable(content[:cut])
        assert message.startswith("not a readable .xlsx file: ")
        assert message.endswith("open it in Excel or WPS, save it as .xlsx and upload it again")


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    message = unreadable(buffer.getvalue(), "报告.docx")
    assert message.startswith(
        "not a readable .xlsx file: There is no item named '[Content_Types].xml'"
    )


def _rewrite(content: bytes, name: str, change: Callable[[str], str]) -> bytes:
    """content with the archive member name replaced by change(its text)."""
    source, target = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        for item in source.infolist():
            data = source.read(item)
            archive.writestr(
                item, change(data.decode()).encode() if item.filename == name else data
            )
    return target.getvalue()


def test_xlsx_with_no_sheets() -> None:
    content = xlsx(ZH_HEADER)

    def drop_sheets(text: str) -> str:
        start, end = text.index("<sheets>"), text.index("</sheets>") + len("</sheets>")
        return text[:start] + "<sheets/>" + text[end:]

    message = unreadable(_rewrite(content, "xl/workbook.xml", drop_sheets))
    assert message.startswith("not a readable .xlsx file: ")


def test_xlsx_with_a_broken_sheet() -> None:
    content = xlsx(ZH_HEADER, [1, 1, "a", "b", 0.1, None, None, None])
    broken = _rewrite(content, "xl/worksheets/sheet1.xml", lambda text: text[: len(text) // 2])
    assert unreadable(broken).startswith("not a readable .xlsx file: ")


def test_xlsx_with_a_wrong_recorded_size_is_read_whole() -> None:
    content = xlsx(["编号", "版本", "状态"], [1, 1, "x"], [2, 1, "y"])
    wrong = _rewrite(
        content,
        "xl/worksheets/sheet1.xml",
        lambda text: re.sub(r'<dimension ref="A1:C3"\s*/>', '<dimension ref="A1"/>', text),
    )
    assert wrong != content
    assert [row.values["id"] for row in read_upload(wrong).rows] == [1, 2]
