"""The 明细 of a report, in every format, shows each action's lead unit (牵头单位), its
cooperating units (配合单位, joined with 、) and its leader (责任领导); filtering by a unit
selects what it leads or cooperates on, as the actions list does."""

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from app.auth.models import Role
from app.seeding.schemas import SeedReport
from tests.helpers import created_action, listed_ids, make_key, units_named, write_action

LEAD, PARK, TECH = "区经济发展局", "沙河产业园区", "区科技创新局"
COOPERATING = "区科技创新局、沙河产业园区"  # by name, as the database sorts them
HEADINGS = {
    "zh": ("牵头单位", "配合单位", "责任领导"),
    "en": ("Lead unit", "Cooperating units", "Leader"),
}
# The XLSX 明细 and the CSV are round-trip sheets: a unit fills in 配合单位 and 责任领导 (✎).
SHEET_HEADINGS = {
    "zh": ("牵头单位", "配合单位 ✎", "责任领导 ✎"),
    "en": ("Lead unit", "Cooperating units ✎", "Leader ✎"),
}


@pytest.fixture
def action(client: TestClient, seeded: SeedReport) -> dict[str, Any]:
    park, tech = units_named(client, PARK, TECH)
    return created_action(client, co_owner_ids=[park["id"], tech["id"]], leader="王副区长")


def report(client: TestClient, **params: Any) -> bytes:
    response = client.get("/api/v1/reports/status", params=params)
    assert response.status_code == 200, response.text
    return response.content


def csv_lines(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8").lstrip("\ufeff"))))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_and_csv_show_lead_cooperating_units_and_leader(
    client: TestClient, action: dict[str, Any], lang: str
) -> None:
    lead, cooperating, leader = SHEET_HEADINGS[lang]
    book = load_workbook(io.BytesIO(report(client, format="xlsx", lang=lang)))
    sheet = book["明细" if lang == "zh" else "Actions"]
    rows = sheet.iter_rows(values_only=True)
    headings = list(next(rows))
    assert headings.index(cooperating) == headings.index(lead) + 1
    assert leader in headings
    by_id = {row[0]: dict(zip(headings, row, strict=True)) for row in rows}
    line = by_id[action["id"]]
    assert (line[lead], line[cooperating], line[leader]) == (LEAD, COOPERATING, "王副区长")
    others = [row for action_id, row in by_id.items() if action_id != action["id"]]
    assert others and all(row[cooperating] in (None, "") for row in others)

    [line_of_csv] = [
        row
        for row in csv_lines(report(client, format="csv", lang=lang))
        if row[headings[0]] == str(action["id"])
    ]
    assert (line_of_csv[lead], line_of_csv[cooperating], line_of_csv[leader]) == (
        LEAD,
        COOPERATING,
        "王副区长",
    )


def test_md_html_and_json_show_them_too(client: TestClient, action: dict[str, Any]) -> None:
    for fmt in ("md", "html"):
        text = report(client, format=fmt).decode("utf-8")
        for heading in HEADINGS["zh"]:
            assert heading in text, (fmt, heading)
        assert COOPERATING in text and "王副区长" in text, fmt
    lines = json.loads(report(client, format="json"))["actions"]
    [line] = [line for line in lines if line["id"] == action["id"]]
    assert (line["owner"], line["co_owners"], line["leader"]) == (
        LEAD,
        COOPERATING.split("、"),
        "王副区长",
    )


def test_a_report_by_unit_covers_what_it_leads_or_cooperates_on(
    client: TestClient, action: dict[str, Any]
) -> None:
    [park] = units_named(client, PARK)
    lines = json.loads(report(client, format="json", unit_id=park["id"]))["actions"]
    ids = [line["id"] for line in lines]
    assert action["id"] in ids
    assert ids == listed_ids(client, unit_id=park["id"], sort="id")
    cooperating = json.loads(report(client, format="json", co_owner_id=park["id"]))["actions"]
    assert [line["id"] for line in cooperating] == [action["id"]]


def test_the_changes_name_the_unit_whose_key_acted(
    client: TestClient, engine: Engine, action: dict[str, Any]
) -> None:
    """A cooperating unit's key reports progress: its unit is named beside the key's name in
    动态, as on the timeline, and given in the JSON's changes."""
    [tech] = units_named(client, TECH)
    key = make_key(engine, Role.editor, name="科创局-李四", unit_id=tech["id"])
    with TestClient(client.app, headers={"X-API-Key": key}) as tech_client:
        write_action(tech_client, action["id"], "updates", {"note": "已对接两家企业"})
    changes = json.loads(report(client, format="json"))["changes"]
    mine = [change for change in changes if change["action_id"] == action["id"]]
    assert [(c["actor"], c["actor_unit"]) for c in mine][-1] == ("科创局-李四", TECH)
    assert mine[0]["actor_unit"] is None  # created with the office's key
    sheet = load_workbook(io.BytesIO(report(client, format="xlsx")))["动态"]
    actors = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert f"科创局-李四（{TECH}）" in actors
    assert f"科创局-李四（{TECH}）" in report(client, format="md").decode()
