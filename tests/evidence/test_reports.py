"""The reports' 明细 has a 佐证材料 column: the number of evidence files not withdrawn in CSV,
Markdown and JSON, their names, one a line, in HTML and XLSX; a past period's report counts
the files as they were at its end; 动态 names the evidence events."""

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.seeding.schemas import SeedReport
from tests.helpers import TODAY, attach_evidence

ACTION_ID = 16  # 加快“标准地”改革
NAMES = ["实施方案.txt", "出让合同<1>.txt"]
WITHDRAWN = "作废稿.txt"


@pytest.fixture
def with_files(client: TestClient, seeded: SeedReport) -> None:
    """Two files on action 16, and a third withdrawn."""
    for name in NAMES:
        attach_evidence(client, ACTION_ID, name)
    gone = attach_evidence(client, ACTION_ID, WITHDRAWN)
    assert client.delete(f"/api/v1/evidence/{gone['id']}").status_code == 200


def report(client: TestClient, **params: Any) -> bytes:
    response = client.get("/api/v1/reports/status", params=params)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.usefixtures("with_files")
@pytest.mark.parametrize(("lang", "heading"), [("zh", "佐证材料"), ("en", "Evidence")])
def test_csv_counts_and_xlsx_names_the_files(client: TestClient, lang: str, heading: str) -> None:
    rows = list(
        csv.reader(io.StringIO(report(client, format="csv", lang=lang).decode("utf-8-sig")))
    )
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id[str(ACTION_ID)][heading] == "2"
    assert by_id["1"][heading] == "0"

    book = load_workbook(io.BytesIO(report(client, format="xlsx", lang=lang)))
    sheet = book["明细" if lang == "zh" else "Actions"]
    values = list(sheet.iter_rows(values_only=True))
    column = list(values[0]).index(heading)
    cells = {row[0]: row[column] for row in values[1:]}
    assert cells[ACTION_ID] == "\n".join(NAMES)
    assert cells[1] is None
    [cell] = [row[column] for row in sheet.iter_rows(min_row=2) if row[0].value == ACTION_ID]
    assert cell.alignment.wrap_text


@pytest.mark.usefixtures("with_files")
def test_markdown_and_json_count_html_names(client: TestClient) -> None:
    markdown = report(client, format="md").decode()
    header = next(line for line in markdown.splitlines() if line.startswith("| 编号"))
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {ACTION_ID} |"))
    cells = dict(zip(header.split(" | "), row.split(" | "), strict=True))
    assert cells["佐证材料"] == "2"

    body = json.loads(report(client, format="json"))
    [line] = [a for a in body["actions"] if a["id"] == ACTION_ID]
    assert (line["evidence_count"], line["evidence"]) == (2, NAMES)

    html = report(client, format="html").decode()
    assert "<th>佐证材料</th>" in html.replace(' class="num"', "").replace(' class="wrap"', "")
    # the cell holds the two files, not the withdrawn one (the latest note names that)
    assert '<td class="wrap">实施方案.txt\n出让合同&lt;1&gt;.txt</td>' in html
    changes = html.split("<h2>动态</h2>")[1].split("</section>")[0]
    assert "上传佐证材料：实施方案.txt" in changes and "佐证材料 2 → 3" in changes


def test_a_past_report_counts_the_files_of_its_day(
    client: TestClient, seeded: SeedReport, set_clock: Callable[[str], None]
) -> None:
    early = attach_evidence(client, ACTION_ID, "当天上传.txt")
    set_clock(f"{(TODAY + timedelta(days=2)).isoformat()} 09:00")
    attach_evidence(client, ACTION_ID, "两天后上传.txt")
    assert client.delete(f"/api/v1/evidence/{early['id']}").status_code == 200
    day = TODAY.isoformat()
    body = json.loads(report(client, format="json", period_start=day, period_end=day))
    assert body["as_of"] == day
    [line] = [a for a in body["actions"] if a["id"] == ACTION_ID]
    assert (line["evidence_count"], line["evidence"]) == (1, ["当天上传.txt"])
    now = json.loads(report(client, format="json"))
    [line] = [a for a in now["actions"] if a["id"] == ACTION_ID]
    assert (line["evidence_count"], line["evidence"]) == (1, ["两天后上传.txt"])
