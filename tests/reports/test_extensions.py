"""The 明细 of a report, in every format and both languages, shows each action's first due
date (原定完成时限) beside its current one and how many extensions were approved (延期次数);
the period's changes name the extension events."""

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.seeding.schemas import SeedReport
from tests.helpers import TODAY, created_action, transitioned

FIRST, MOVED = TODAY + timedelta(days=20), TODAY + timedelta(days=80)
HEADINGS = {
    "zh": ("截止日期", "原定完成时限", "延期次数"),
    "en": ("Due", "Original due", "Extensions"),
}


@pytest.fixture
def extended(client: TestClient, seeded: SeedReport) -> dict[str, Any]:
    """A new action whose due date was extended once (the client's key is an admin's)."""
    action = created_action(client, due_on=FIRST.isoformat())
    transitioned(client, action["id"], "accepted")
    url = f"/api/v1/actions/{action['id']}/extensions"
    asked = client.post(url, json={"new_due_on": MOVED.isoformat(), "reason": "等待审批"})
    assert asked.status_code == 201, asked.text
    decided = client.post(f"{url}/{asked.json()['id']}/decision", json={"approve": True})
    assert decided.status_code == 200, decided.text
    return action


def report(client: TestClient, **params: Any) -> bytes:
    response = client.get("/api/v1/reports/status", params=params)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_and_csv_show_the_first_due_date_and_the_count(
    client: TestClient, extended: dict[str, Any], lang: str
) -> None:
    due, original, count = HEADINGS[lang]
    book = load_workbook(io.BytesIO(report(client, format="xlsx", lang=lang)))
    rows = book["明细" if lang == "zh" else "Actions"].iter_rows(values_only=True)
    headings = [str(cell).replace(" ✎", "") for cell in next(rows)]
    assert headings.index(original) == headings.index(due) + 1
    assert headings.index(count) == headings.index(due) + 2
    by_id = {row[0]: dict(zip(headings, row, strict=True)) for row in rows}
    line = by_id[extended["id"]]
    assert (line[due].date(), line[original].date(), line[count]) == (
        FIRST + (MOVED - FIRST),
        FIRST,
        1,
    )
    assert all(
        row[count] == 0 and row[original] is None for i, row in by_id.items() if i != extended["id"]
    )

    text = report(client, format="csv", lang=lang).decode("utf-8").lstrip("\ufeff")
    [csv_line] = [
        row for row in csv.DictReader(io.StringIO(text)) if row[headings[0]] == str(extended["id"])
    ]
    keys = {key.replace(" ✎", ""): value for key, value in csv_line.items()}
    assert (keys[due], keys[original], keys[count]) == (MOVED.isoformat(), FIRST.isoformat(), "1")


def test_md_html_and_json_show_them_too(client: TestClient, extended: dict[str, Any]) -> None:
    for fmt in ("md", "html"):
        for lang in ("zh", "en"):
            text = report(client, format=fmt, lang=lang).decode("utf-8")
            for heading in HEADINGS[lang]:
                assert heading in text, (fmt, lang, heading)
            assert FIRST.isoformat() in text and MOVED.isoformat() in text, (fmt, lang)
    lines = json.loads(report(client, format="json"))["actions"]
    [line] = [line for line in lines if line["id"] == extended["id"]]
    assert (line["due_on"], line["original_due_on"], line["extension_count"]) == (
        MOVED.isoformat(),
        FIRST.isoformat(),
        1,
    )


@pytest.mark.parametrize(
    ("lang", "kinds"),
    [("zh", ("申请延期", "延期审批")), ("en", ("extension requested", "extension decided"))],
)
def test_the_changes_name_the_extension_events(
    client: TestClient, extended: dict[str, Any], lang: str, kinds: tuple[str, str]
) -> None:
    changes = json.loads(report(client, format="json", lang=lang))["changes"]
    mine = [change for change in changes if change["action_id"] == extended["id"]]
    assert [change["kind"] for change in mine][-2:] == list(kinds)
    due, _, count = HEADINGS[lang]
    assert due in mine[-1]["summary"] and count in mine[-1]["summary"]
    book = load_workbook(io.BytesIO(report(client, format="xlsx", lang=lang)))
    sheet = book["动态" if lang == "zh" else "Changes"]
    assert {kinds[0], kinds[1]} <= {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
