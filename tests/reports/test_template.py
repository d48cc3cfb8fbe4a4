"""The Excel round trip, export side: the XLSX 明细 sheet and the CSV mark the columns a unit
fills in (✎) and carry an empty new-note column; a unit's fill-in template is that sheet
alone, over the unit's actions, with its status, progress and due-date entries validated."""

import csv
import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from tests.helpers import PROBLEM_JSON, TODAY, write_action

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

SHANGHAI = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OWNER = 5
MARKED_ZH = ["配合单位 ✎", "状态 ✎", "进度 ✎", "截止日期 ✎", "责任人 ✎", "责任领导 ✎", "本次进展 ✎"]
MARKED_EN = [
    "Cooperating units ✎",
    "Status ✎",
    "Progress ✎",
    "Due ✎",
    "Assignee ✎",
    "Leader ✎",
    "New note ✎",
]
STATUSES_ZH = ["待研究", "已采纳", "推进中", "待审核", "受阻", "已完成", "不采纳"]
STATUSES_EN = [
    "Proposed",
    "Accepted",
    "In progress",
    "Submitted",
    "Blocked",
    "Completed",
    "Declined",
]
EDITABLE_FILL = "FFF2CC"


def this_week_name() -> str:
    today = TODAY
    monday = today - timedelta(days=today.weekday())
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def status_report(client: TestClient, **params: Any) -> Any:
    return client.get("/api/v1/reports/status", params=params)


def template(client: TestClient, **params: Any) -> Any:
    response = status_report(client, format="xlsx", template="true", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return response


def open_book(response: Any) -> Any:
    return load_workbook(io.BytesIO(response.content))


def header(sheet: Worksheet) -> list[Any]:
    return [cell.value for cell in sheet[1]]


def marked(sheet: Worksheet) -> list[str]:
    return [h for h in header(sheet) if isinstance(h, str) and h.endswith(" ✎")]


def by_heading(sheet: Worksheet) -> list[dict[str, Any]]:
    """The data rows, each as its cells by heading."""
    names = header(sheet)
    return [dict(zip(names, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def letter_of(sheet: Worksheet, heading: str) -> str:
    return str(sheet.cell(row=1, column=header(sheet).index(heading) + 1).column_letter)


def validation_of(sheet: Worksheet, heading: str) -> DataValidation:
    """The one validation that covers the first data cell under heading."""
    first = f"{letter_of(sheet, heading)}2"
    found = [dv for dv in sheet.data_validations.dataValidation if first in dv.sqref]
    assert len(found) == 1, (heading, [str(dv.sqref) for dv in found])
    return found[0]


def covers(rule: DataValidation, letter: str, rows: range) -> bool:
    return all(f"{letter}{row}" in rule.sqref for row in rows)


def owners_actions(client: TestClient, owner_id: int) -> dict[int, dict[str, Any]]:
    listed = client.get("/api/v1/actions", params={"owner_id": owner_id, "limit": 200})
    assert listed.status_code == 200, listed.text
    actions = {a["id"]: a for a in listed.json()["items"]}
    assert listed.json()["total"] == len(actions) > 0
    return actions


@pytest.fixture
def worked_on(client: TestClient, seeded: Any) -> int:
    """One of the unit's actions in progress at 40% with a due date and an assignee."""
    action_id = min(owners_actions(client, OWNER))
    write_action(client, action_id, "transitions", {"to": "accepted"})
    write_action(client, action_id, "transitions", {"to": "in_progress"})
    write_action(client, action_id, "updates", {"note": "方案已起草", "progress": 40})
    due = (TODAY + timedelta(days=30)).isoformat()
    write_action(client, action_id, "patch", {"due_on": due, "assignee": "张三"})
    return action_id


# --- the template ------------------------------------------------------------------------


def test_template_is_the_units_actions_sheet_alone(client: TestClient, worked_on: int) -> None:
    expected = owners_actions(client, OWNER)

    response = template(client, owner_id=OWNER)

    file_name = f"tashan-template-{OWNER}-{this_week_name()}.xlsx"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{file_name}\"; filename*=UTF-8''{file_name}"
    )
    book = open_book(response)
    assert book.sheetnames == ["明细"]
    sheet = book["明细"]
    assert sheet.freeze_panes == "A2"
    assert all(sheet.column_dimensions[letter].width >= 6 for letter in "ABCDEFGHIJKLMNO")
    assert marked(sheet) == MARKED_ZH
    assert header(sheet)[:2] == ["编号", "版本"]
    rows = by_heading(sheet)
    assert sorted(row["编号"].value for row in rows) == sorted(expected)
    for row in rows:
        action = expected[row["编号"].value]
        assert row["版本"].value == action["version"]
        assert row["状态 ✎"].value == action["status_label"]
        assert row["进度 ✎"].value == action["progress"]  # a whole number, as typed
        assert row["本次进展 ✎"].value is None
        assert row["截止日期 ✎"].number_format == "yyyy-mm-dd"
    worked = next(row for row in rows if row["编号"].value == worked_on)
    assert (worked["状态 ✎"].value, worked["进度 ✎"].value) == ("推进中", 40)
    assert worked["进度 ✎"].data_type == "n" and worked["进度 ✎"].number_format == '0"%"'
    assert worked["截止日期 ✎"].value.date() == date.fromisoformat(expected[worked_on]["due_on"])
    assert worked["责任人 ✎"].value == "张三" and worked["最新进展"].value == "方案已起草"


def test_template_headings_of_editable_columns_are_highlighted(
    client: TestClient, seeded: Any
) -> None:
    sheet = open_book(template(client, owner_id=OWNER))["明细"]

    for cell in sheet[1]:
        assert cell.font.bold, cell.value
        highlighted = cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(
            EDITABLE_FILL
        )
        assert highlighted == cell.value.endswith(" ✎"), cell.value


def test_template_validates_status_progress_and_due_date_on_every_row_and_spare_ones(
    client: TestClient, seeded: Any
) -> None:
    size = len(owners_actions(client, OWNER))

    sheet = open_book(template(client, owner_id=OWNER))["明细"]

    assert sheet.max_row == size + 1
    data_rows, spare_rows = range(2, size + 2), range(size + 2, size + 52)
    status = validation_of(sheet, "状态 ✎")
    assert status.type == "list"
    assert status.formula1 == '"' + ",".join(STATUSES_ZH) + '"'
    progress = validation_of(sheet, "进度 ✎")
    assert (progress.type, progress.operator) == ("whole", "between")
    assert (progress.formula1, progress.formula2) == ("0", "100")
    assert progress.showInputMessage and "0 到 100 的整数" in progress.prompt
    assert "40" in progress.prompt
    assert progress.showErrorMessage and progress.error
    due = validation_of(sheet, "截止日期 ✎")
    assert due.type == "date" and due.formula1 and due.formula2
    assert "yyyy-mm-dd" in due.prompt
    for heading, rule in (("状态 ✎", status), ("进度 ✎", progress), ("截止日期 ✎", due)):
        letter = letter_of(sheet, heading)
        assert covers(rule, letter, data_rows) and covers(rule, letter, spare_rows), heading
        assert f"{letter}1" not in rule.sqref  # never the header
        assert rule.allow_blank
    co_owners = validation_of(sheet, "配合单位 ✎")
    assert co_owners.type is None  # any text: several names, separated by 、
    assert co_owners.showInputMessage and "、" in co_owners.prompt
    letter = letter_of(sheet, "配合单位 ✎")
    assert covers(co_owners, letter, data_rows) and covers(co_owners, letter, spare_rows)
    assert len(sheet.data_validations.dataValidation) == 4
    due_letter = letter_of(sheet, "截止日期 ✎")
    assert sheet.column_dimensions[due_letter].number_format == "yyyy-mm-dd"


def test_template_in_english(client: TestClient, seeded: Any) -> None:
    sheet = open_book(template(client, owner_id=OWNER, lang="en"))["Actions"]

    assert sheet.parent.sheetnames == ["Actions"]
    assert marked(sheet) == MARKED_EN
    assert validation_of(sheet, "Status ✎").formula1 == '"' + ",".join(STATUSES_EN) + '"'
    assert "whole number from 0 to 100" in validation_of(sheet, "Progress ✎").prompt
    assert {row["Status ✎"].value for row in by_heading(sheet)} == {"Proposed"}


def test_template_without_an_owner_has_every_action(client: TestClient, seeded: Any) -> None:
    response = template(client)

    file_name = f"tashan-template-all-{this_week_name()}.xlsx"
    assert file_name in response.headers["content-disposition"]
    sheet = open_book(response)["明细"]
    assert sheet.max_row == 44  # header + the 43 seeded actions
    assert {row["牵头单位"].value for row in by_heading(sheet)} != set()
    status = validation_of(sheet, "状态 ✎")
    assert covers(status, letter_of(sheet, "状态 ✎"), range(2, 45))


@pytest.mark.parametrize("fmt", ["csv", "md", "html", "json"])
def test_template_in_another_format_is_422(client: TestClient, fmt: str) -> None:
    response = status_report(client, format=fmt, template="true")

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert ["query", "template"] in [error["loc"] for error in response.json()["errors"]]


def test_template_of_a_period_that_has_ended_is_422(client: TestClient) -> None:
    response = status_report(
        client, template="true", period_start="2021-01-01", period_end="2021-01-31"
    )

    assert response.status_code == 422, response.text
    assert ["query", "period_end"] in [error["loc"] for error in response.json()["errors"]]


def test_template_false_is_the_normal_workbook(client: TestClient, seeded: Any) -> None:
    response = status_report(client, format="xlsx", template="false")

    assert response.status_code == 200
    assert open_book(response).sheetnames == ["概览", "排名", "明细", "逾期", "动态"]
    assert "tashan-status-" in response.headers["content-disposition"]


# --- the normal exports ------------------------------------------------------------------


def test_workbook_actions_sheet_is_a_round_trip_sheet(client: TestClient, worked_on: int) -> None:
    book = open_book(status_report(client, format="xlsx"))

    sheet = book["明细"]
    names = header(sheet)
    assert marked(sheet) == MARKED_ZH
    assert names.index("本次进展 ✎") == names.index("最新进展") + 1
    assert names[:2] == ["编号", "版本"]
    highlighted = [c.value for c in sheet[1] if c.fill.fill_type == "solid"]
    assert highlighted == MARKED_ZH
    rows = by_heading(sheet)
    assert len(rows) == 43 and all(row["本次进展 ✎"].value is None for row in rows)
    worked = next(row for row in rows if row["编号"].value == worked_on)
    assert worked["进度 ✎"].value == 40  # the same whole number as the template, shown as 40%
    assert sheet.data_validations.dataValidation == []
    overview = book["概览"]
    assert overview["A2"].value == "明细表中标 ✎ 的列可填写，填好后上传 /api/v1/imports"
    assert marked(book["逾期"]) == []  # read-only: the import reads 明细


def test_english_workbook_hint_names_the_upload(client: TestClient, seeded: Any) -> None:
    book = open_book(status_report(client, format="xlsx", lang="en"))

    hint = book["Overview"]["A2"].value
    assert "✎" in hint and "/api/v1/imports" in hint
    assert marked(book["Actions"]) == MARKED_EN


def test_csv_marks_editable_columns_and_has_an_empty_new_note(
    client: TestClient, worked_on: int
) -> None:
    response = status_report(client, format="csv", owner_id=OWNER)

    assert response.status_code == 200, response.text
    text = response.content.decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    names = rows[0]
    assert [h for h in names if h.endswith(" ✎")] == MARKED_ZH
    assert names.index("本次进展 ✎") == names.index("最新进展") + 1
    lines = [dict(zip(names, row, strict=True)) for row in rows[1:]]
    assert sorted(int(line["编号"]) for line in lines) == sorted(owners_actions(client, OWNER))
    assert all(line["本次进展 ✎"] == "" for line in lines)
    worked = next(line for line in lines if line["编号"] == str(worked_on))
    assert (worked["状态 ✎"], worked["进度 ✎"], worked["责任人 ✎"]) == ("推进中", "40%", "张三")
    english = status_report(client, format="csv", lang="en").content.decode("utf-8")
    assert [h for h in next(csv.reader(io.StringIO(english[1:]))) if "✎" in h] == MARKED_EN
