"""The round trip of 配合单位 and 责任领导: exported in the XLSX 明细 and the CSV as columns to
fill in (✎), read back as unit names separated by 、 (or , ， ; ；), applied through the same
service path as a PATCH (an updated event with before and after), and refused, naming the
cell, when a name is no unit's or the lead's."""

import csv
import io
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl.utils import get_column_letter

from app.seeding.schemas import SeedReport
from tests.helpers import events_of, get_action, patched_action, units_named

IMPORTS = "/api/v1/imports"
UNIT = 5  # 区经济发展局, the lead of twelve seeded actions
STANDARD_LAND = 16  # 加快“标准地”改革, led by 区经济发展局
INCUBATOR = 19  # 出台企业孵化器奖励机制, led by 区经济发展局
LEAD, TECH, PARK = "区经济发展局", "区科技创新局", "沙河产业园区"
CO_OWNERS, LEADER = "配合单位 ✎", "责任领导 ✎"


def export(client: TestClient, fmt: str) -> bytes:
    """The whole status report of UNIT's actions (not the template) in fmt."""
    response = client.get("/api/v1/reports/status", params={"format": fmt, "owner_id": UNIT})
    assert response.status_code == 200, response.text
    return response.content


def upload(client: TestClient, name: str, content: bytes, **params: str) -> dict[str, Any]:
    response = client.post(IMPORTS, params=params, files={"file": (name, content)})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def result_of(body: dict[str, Any], action_id: int) -> dict[str, Any]:
    [result] = [r for r in body["results"] if r["action_id"] == action_id]
    return result


class Workbook:
    """The 明细 sheet of an exported workbook, its cells found by action and heading."""

    def __init__(self, content: bytes) -> None:
        self.book = openpyxl.load_workbook(io.BytesIO(content))
        self.sheet = self.book["明细"]
        self.columns = {cell.value: cell.column for cell in self.sheet[1] if cell.value}

    def row(self, action_id: int) -> int:
        for row in range(2, self.sheet.max_row + 1):
            if self.sheet.cell(row, 1).value == action_id:
                return row
        raise AssertionError(f"action {action_id} is not in the sheet")

    def cell(self, action_id: int, heading: str) -> Any:
        return self.sheet.cell(self.row(action_id), self.columns[heading])

    def letter(self, heading: str) -> str:
        return get_column_letter(self.columns[heading])

    def content(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()


class CsvSheet:
    """An exported CSV, its cells found by action and heading."""

    def __init__(self, content: bytes) -> None:
        self.rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        self.headings = self.rows[0]

    def set(self, action_id: int, heading: str, value: str) -> None:
        [row] = [row for row in self.rows[1:] if row[0] == str(action_id)]
        row[self.headings.index(heading)] = value

    def content(self) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(self.rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def test_xlsx_round_trip_adds_a_cooperating_unit_and_sets_the_leader(
    client: TestClient, seeded: SeedReport
) -> None:
    tech, park = units_named(client, TECH, PARK)
    patched_action(client, STANDARD_LAND, {"co_owner_ids": [tech["id"]]})
    sheet = Workbook(export(client, "xlsx"))
    assert sheet.cell(STANDARD_LAND, CO_OWNERS).value == TECH
    assert sheet.cell(STANDARD_LAND, LEADER).value is None
    # add a cooperating unit, typed with a full-width comma and stray spaces
    sheet.cell(STANDARD_LAND, CO_OWNERS).value = f"{TECH}， {PARK} "
    sheet.cell(STANDARD_LAND, LEADER).value = "王副主任"
    version = get_action(client, STANDARD_LAND)["version"]

    dry = upload(client, "经发局.xlsx", sheet.content())

    expected = {
        "co_owner_ids": [[tech["id"]], sorted([tech["id"], park["id"]])],
        "leader": [None, "王副主任"],
    }
    assert result_of(dry, STANDARD_LAND) == {
        "row": sheet.row(STANDARD_LAND),
        "action_id": STANDARD_LAND,
        "outcome": "will_update",
        "changes": expected,
        "errors": [],
    }
    assert dry["counts"] == {"will_update": 1, "unchanged": 11}
    assert get_action(client, STANDARD_LAND)["version"] == version  # a dry run changes nothing

    applied = upload(client, "经发局.xlsx", sheet.content(), dry_run="false")

    assert applied["counts"] == {"updated": 1, "unchanged": 11}
    assert result_of(applied, STANDARD_LAND)["changes"] == expected
    body = get_action(client, STANDARD_LAND)
    assert sorted(unit["name"] for unit in body["co_owners"]) == sorted([TECH, PARK])
    assert body["leader"] == "王副主任"
    assert body["owner"]["name"] == LEAD and body["version"] == version + 1
    event = events_of(client, STANDARD_LAND)[-1]
    assert (event["kind"], event["actor"]) == ("updated", "test-admin")
    assert event["changes"] == expected
    assert "经发局.xlsx" in event["note"]

    # the same file again: every row now equals its action, none is stale or changed
    again = upload(client, "经发局.xlsx", sheet.content(), dry_run="false")
    assert again["counts"] == {"unchanged": 12}
    assert get_action(client, STANDARD_LAND)["version"] == version + 1
    assert events_of(client, STANDARD_LAND)[-1] == event


def test_csv_round_trip_changes_cooperating_units_and_leader(
    client: TestClient, seeded: SeedReport
) -> None:
    lead, tech, park = units_named(client, LEAD, TECH, PARK)
    patched_action(client, INCUBATOR, {"co_owner_ids": [tech["id"]], "leader": "李副主任"})
    sheet = CsvSheet(export(client, "csv"))
    sheet.set(INCUBATOR, CO_OWNERS, f"{PARK};{PARK}")  # swap, with a duplicate that collapses
    sheet.set(INCUBATOR, LEADER, "张主任")

    applied = upload(client, "经发局.csv", sheet.content(), dry_run="false")

    expected = {"co_owner_ids": [[tech["id"]], [park["id"]]], "leader": ["李副主任", "张主任"]}
    assert result_of(applied, INCUBATOR)["outcome"] == "updated"
    assert result_of(applied, INCUBATOR)["changes"] == expected
    assert applied["counts"] == {"updated": 1, "unchanged": 11}
    body = get_action(client, INCUBATOR)
    assert body["co_owners"] == [park] and body["leader"] == "张主任"
    assert body["owner"] == lead
    event = events_of(client, INCUBATOR)[-1]
    assert (event["kind"], event["changes"], event["actor"]) == ("updated", expected, "test-admin")

    again = upload(client, "经发局.csv", sheet.content(), dry_run="false")
    assert again["counts"] == {"unchanged": 12}

    # an empty cell: no cooperating units (and no leader)
    emptied = CsvSheet(export(client, "csv"))
    emptied.set(INCUBATOR, CO_OWNERS, "")
    emptied.set(INCUBATOR, LEADER, "")
    cleared = upload(client, "经发局.csv", emptied.content(), dry_run="false")
    assert result_of(cleared, INCUBATOR)["changes"] == {
        "co_owner_ids": [[park["id"]], []],
        "leader": ["张主任", None],
    }
    body = get_action(client, INCUBATOR)
    assert (body["co_owners"], body["leader"]) == ([], None)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_same_units_in_another_order_are_unchanged(
    client: TestClient, seeded: SeedReport, fmt: str
) -> None:
    tech, park = units_named(client, TECH, PARK)
    patched_action(client, STANDARD_LAND, {"co_owner_ids": [tech["id"], park["id"]]})
    reordered = f"{PARK}, {TECH}、{PARK}"
    if fmt == "xlsx":
        book = Workbook(export(client, fmt))
        book.cell(STANDARD_LAND, CO_OWNERS).value = reordered
        content = book.content()
    else:
        sheet = CsvSheet(export(client, fmt))
        sheet.set(STANDARD_LAND, CO_OWNERS, reordered)
        content = sheet.content()

    body = upload(client, f"sheet.{fmt}", content, dry_run="false")

    assert result_of(body, STANDARD_LAND)["outcome"] == "unchanged"
    assert body["counts"] == {"unchanged": 12}


def test_an_unknown_unit_refuses_the_row_naming_the_cell_and_the_name(
    client: TestClient, seeded: SeedReport
) -> None:
    sheet = Workbook(export(client, "xlsx"))
    sheet.cell(STANDARD_LAND, CO_OWNERS).value = f"{TECH}、区财政局"
    sheet.cell(STANDARD_LAND, LEADER).value = "王副主任"
    sheet.cell(INCUBATOR, LEADER).value = "李副主任"
    version = get_action(client, STANDARD_LAND)["version"]

    body = upload(client, "经发局.xlsx", sheet.content(), dry_run="false")

    result = result_of(body, STANDARD_LAND)
    assert result["outcome"] == "error" and result["changes"] == {}
    [error] = result["errors"]
    assert error["column"] == "co_owners"
    row, letter = sheet.row(STANDARD_LAND), sheet.letter(CO_OWNERS)
    assert error["reason"].startswith(f"配合单位 ✎ (column {letter}, row {row}): ")
    assert "“区财政局”" in error["reason"] and TECH not in error["reason"]
    # the row is refused whole (its leader too); the other rows are applied
    action = get_action(client, STANDARD_LAND)
    assert (action["co_owners"], action["leader"], action["version"]) == ([], None, version)
    assert result_of(body, INCUBATOR)["outcome"] == "updated"
    assert get_action(client, INCUBATOR)["leader"] == "李副主任"


def test_the_lead_unit_cannot_cooperate(client: TestClient, seeded: SeedReport) -> None:
    sheet = CsvSheet(export(client, "csv"))
    sheet.set(STANDARD_LAND, CO_OWNERS, f"{TECH}、{LEAD}")
    letter = get_column_letter(sheet.headings.index(CO_OWNERS) + 1)
    row = next(n for n, r in enumerate(sheet.rows, 1) if r[0] == str(STANDARD_LAND))

    body = upload(client, "经发局.csv", sheet.content(), dry_run="false")

    [error] = result_of(body, STANDARD_LAND)["errors"]
    assert error["column"] == "co_owners"
    assert error["reason"].startswith(f"配合单位 ✎ (column {letter}, row {row}): “{LEAD}”")
    assert "lead unit (牵头单位)" in error["reason"]
    assert get_action(client, STANDARD_LAND)["co_owners"] == []


def test_a_leader_the_api_would_refuse_is_refused(client: TestClient, seeded: SeedReport) -> None:
    sheet = Workbook(export(client, "xlsx"))
    sheet.cell(STANDARD_LAND, LEADER).value = "王副主任\n李副主任"

    body = upload(client, "经发局.xlsx", sheet.content())

    [error] = result_of(body, STANDARD_LAND)["errors"]
    assert error["column"] == "leader"
    letter, row = sheet.letter(LEADER), sheet.row(STANDARD_LAND)
    assert error["reason"].startswith(f"责任领导 ✎ (column {letter}, row {row}): ")
    assert "single line" in error["reason"]


def test_a_stale_row_that_changes_cooperating_units_conflicts(
    client: TestClient, seeded: SeedReport
) -> None:
    (tech,) = units_named(client, TECH)
    sheet = Workbook(export(client, "xlsx"))
    sheet.cell(STANDARD_LAND, CO_OWNERS).value = PARK
    patched_action(client, STANDARD_LAND, {"co_owner_ids": [tech["id"]]})

    body = upload(client, "经发局.xlsx", sheet.content(), dry_run="false")

    [error] = result_of(body, STANDARD_LAND)["errors"]
    assert error["column"] == "version" and "download a fresh sheet" in error["reason"]
    assert get_action(client, STANDARD_LAND)["co_owners"] == [tech]
