"""Cells as Excel and WPS write them back, uploaded through the API: a GBK CSV whose ✎ became
?, progress typed 50% or 50.0%, dates as Chinese Windows shows them or as day numbers, ids
with thousands separators; and what a refusal says about a cell it cannot read."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.seeding.schemas import SeedReport
from tests.helpers import transitioned

IMPORTS = "/api/v1/imports"
ACCEPTED = (16, 17, 19, 20, 21, 22)  # 区经济发展局's, moved to accepted: version 2
EXCEL_DAY_ZERO = date(1899, 12, 30)  # day 0 of Excel's 1900 date system (after its 1900-02-29)


@pytest.fixture
def accepted(client: TestClient, seeded: SeedReport) -> None:
    for action_id in ACCEPTED:
        transitioned(client, action_id, "accepted")


def upload_gbk(client: TestClient, *rows: str) -> dict[int, dict[str, Any]]:
    """The dry run of a CSV as Excel on Chinese Windows saves it, by row number."""
    text = "\r\n".join(["编号,版本,进度 ?,截止日期 ?", *rows]) + "\r\n"
    files = {"file": ("进展.csv", text.encode("gbk"))}
    response = client.post(IMPORTS, files=files)
    assert response.status_code == 200, response.text
    return {row["row"]: row for row in response.json()["results"]}


@pytest.mark.usefixtures("accepted")
def test_progress_and_dates_as_excel_writes_them(client: TestClient) -> None:
    serial = (date(2027, 7, 1) - EXCEL_DAY_ZERO).days
    rows = upload_gbk(
        client,
        "16,2,50%,2027/6/30",
        "17,2,40.0%,2027/06/30",
        "19,2,30,2027年6月30日",
        f"20,2,100 %,{serial}",
        "21,2,０,2027/6/30 0:00",
        "22,2,,2027.6.30",
    )
    changes = {number: row["changes"] for number, row in rows.items()}
    due = [None, "2027-06-30"]
    assert changes == {
        2: {"progress": [0, 50], "due_on": due},
        3: {"progress": [0, 40], "due_on": due},
        4: {"progress": [0, 30], "due_on": due},
        5: {"progress": [0, 100], "due_on": [None, "2027-07-01"]},
        6: {"due_on": due},
        7: {"due_on": due},
    }


@pytest.mark.usefixtures("accepted")
def test_cells_that_cannot_be_read_are_named_as_the_sheet_heads_them(client: TestClient) -> None:
    rows = upload_gbk(
        client,
        "16,2,0.5,",
        "17,2,12.5%,2027/13/1",
        "19,2,一半,30",
        '"1,234",1,,',
        "20,2.5,,",
    )
    reasons = {number: [e["reason"] for e in row["errors"]] for number, row in rows.items()}
    assert reasons == {
        2: [
            "进度 ? (column C, row 2): “0.5” is a fraction; progress is a number from 0 to 100: "
            "type 50 for 50 %"
        ],
        3: [
            "进度 ? (column C, row 3): “12.5%” is not a whole number from 0 to 100",
            "截止日期 ? (column D, row 3): “2027/13/1” is not a date; type it as 2027-06-30",
        ],
        4: [
            "进度 ? (column C, row 4): “一半” is not a number; type 0 to 100 (40 for 40 %)",
            "截止日期 ? (column D, row 4): “30” is not a date; type it as 2027-06-30",
        ],
        5: ["编号 (column A, row 5): no action 1234"],
        6: ["版本 (column B, row 6): “2.5” is not a whole number; keep the exported value"],
    }
    assert {e["column"] for row in rows.values() for e in row["errors"]} == {
        "id",
        "version",
        "progress",
        "due_on",
    }


@pytest.mark.usefixtures("accepted")
def test_an_assignee_the_api_would_refuse_is_refused_not_cut_short(client: TestClient) -> None:
    """责任人 held to the API's rules for a name, as 责任领导 is: at most 200 characters, one
    line. An over-long name is refused, not stored cut to 200 characters."""
    longest, too_long = "张" * 200, "李" * 201
    text = "\r\n".join(
        ["编号,版本,责任人 ✎", f"16,2,{longest}", f"17,2,{too_long}", '19,2,"王明\n李娜"']
    )
    response = client.post(IMPORTS, files={"file": ("责任人.csv", text.encode())})
    assert response.status_code == 200, response.text
    rows = {row["row"]: row for row in response.json()["results"]}
    assert rows[2]["changes"] == {"assignee": [None, longest]}
    assert rows[2]["errors"] == []
    [error] = rows[3]["errors"]
    assert error["column"] == "assignee"
    assert error["reason"].startswith("责任人 ✎ (column C, row 3): ")
    assert "at most 200 characters" in error["reason"]
    [error] = rows[4]["errors"]
    assert (error["column"], "single line" in error["reason"]) == ("assignee", True)
