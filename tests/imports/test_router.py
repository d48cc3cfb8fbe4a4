"""The Excel round trip through the API: export → fill in with openpyxl → dry run → apply →
the actions and their timelines show exactly what the dry run promised."""

import asyncio
import csv
import io
import threading
from typing import Any

import anyio
import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth.models import Role
from app.imports import router as import_router
from app.imports.reader import UploadedSheet, read_upload
from app.seeding.schemas import SeedReport
from tests.helpers import assert_explained_problem, make_key

IMPORTS = "/api/v1/imports"
UNIT = 5  # 区经济发展局, twelve seeded actions


def export_sheet(client: TestClient) -> openpyxl.Workbook:
    response = client.get(
        "/api/v1/reports/status", params={"format": "xlsx", "template": "true", "owner_id": UNIT}
    )
    assert response.status_code == 200, response.text
    return openpyxl.load_workbook(io.BytesIO(response.content))


def columns(sheet: Any) -> dict[str, int]:
    """Column numbers by heading, without the ✎ mark of editable columns."""
    return {
        str(cell.value).replace("✎", "").strip(): cell.column for cell in sheet[1] if cell.value
    }


def row_of(sheet: Any, action_id: int) -> int:
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == action_id:
            return row
    raise AssertionError(f"action {action_id} is not in the sheet")


def upload(client: TestClient, workbook: openpyxl.Workbook, **params: str) -> Any:
    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {"file": ("经发局进展.xlsx", buffer.getvalue())}
    return client.post(IMPORTS, params=params, files=files)


def action(client: TestClient, action_id: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/actions/{action_id}").json()
    return body


def test_round_trip_dry_run_then_apply(client: TestClient, seeded: SeedReport) -> None:
    workbook = export_sheet(client)
    sheet = workbook.active
    col = columns(sheet)
    sheet.cell(row_of(sheet, 16), col["状态"]).value = "已采纳"
    sheet.cell(row_of(sheet, 16), col["本次进展"]).value = "管委会会议研究同意"
    sheet.cell(row_of(sheet, 17), col["责任人"]).value = "李华"
    sheet.cell(row_of(sheet, 17), col["截止日期"]).value = "2027-06-30"
    sheet.cell(row_of(sheet, 19), col["本次进展"]).value = "已走访三家孵化器"

    dry = upload(client, workbook)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert (body["dry_run"], body["applied"]) == (True, False)
    by_action = {r["action_id"]: r for r in body["results"]}
    assert by_action[16]["outcome"] == "will_update"
    assert by_action[16]["changes"]["status"] == ["proposed", "accepted"]
    assert by_action[17]["changes"] == {"assignee": [None, "李华"], "due_on": [None, "2027-06-30"]}
    assert by_action[19]["changes"] == {"new_note": [None, "已走访三家孵化器"]}
    assert body["counts"] == {"will_update": 3, "unchanged": 9}
    assert action(client, 16)["status"] == "proposed"  # a dry run changes nothing

    applied = upload(client, workbook, dry_run="false")
    assert applied.status_code == 200
    assert applied.json()["applied"] is True
    assert applied.json()["counts"] == {"updated": 3, "unchanged": 9}
    # applying reports exactly the changes the dry run promised
    promised = {r["action_id"]: r["changes"] for r in body["results"]}
    assert {r["action_id"]: r["changes"] for r in applied.json()["results"]} == promised
    assert action(client, 16)["status"] == "accepted"
    assert (action(client, 17)["assignee"], action(client, 17)["due_on"]) == ("李华", "2027-06-30")
    transition = client.get("/api/v1/actions/16/events").json()["items"][-1]
    assert transition["kind"] == "transition" and transition["actor"] == "test-admin"
    assert "管委会会议研究同意" in transition["note"] and "经发局进展.xlsx" in transition["note"]
    note = client.get("/api/v1/actions/19/events").json()["items"][-1]
    assert (note["kind"], note["progress"]) == ("progress", 0)
    assert note["note"].startswith("已走访三家孵化器")

    # The same sheet uploaded again: what it asks is what the actions already are, notes
    # included, so every row is unchanged (their 版本 is stale) and nothing is written twice.
    timeline = client.get("/api/v1/actions/16/events").json()["items"]
    again = upload(client, workbook, dry_run="false")
    assert again.json()["counts"] == {"unchanged": 12}
    assert client.get("/api/v1/actions/16/events").json()["items"] == timeline


def test_a_sheet_applied_twice_is_stale_where_the_action_moved_on(
    client: TestClient, seeded: SeedReport
) -> None:
    workbook = export_sheet(client)
    sheet = workbook.active
    col = columns(sheet)
    for action_id in (16, 19):
        sheet.cell(row_of(sheet, action_id), col["本次进展"]).value = "已走访三家孵化器"
    assert upload(client, workbook, dry_run="false").json()["counts"]["updated"] == 2
    client.patch("/api/v1/actions/19", json={"assignee": "赵六"}, headers={"If-Match": 'W/"2"'})

    again = upload(client, workbook, dry_run="false").json()
    outcomes = {r["action_id"]: r["outcome"] for r in again["results"]}
    assert (outcomes[16], outcomes[19]) == ("unchanged", "error")
    [error] = next(r for r in again["results"] if r["action_id"] == 19)["errors"]
    assert error["column"] == "version"
    assert error["reason"].startswith(
        f"版本 (column B, row {row_of(sheet, 19)}): the action changed"
    )


def test_a_note_repeated_on_a_fresh_sheet_is_news(client: TestClient, seeded: SeedReport) -> None:
    client.post(
        "/api/v1/actions/19/updates", json={"note": "本周无新进展"}, headers={"If-Match": 'W/"1"'}
    )
    workbook = export_sheet(client)
    sheet = workbook.active
    sheet.cell(row_of(sheet, 19), columns(sheet)["本次进展"]).value = "本周无新进展"

    result = upload(client, workbook).json()
    row = next(r for r in result["results"] if r["action_id"] == 19)
    assert (row["outcome"], row["changes"]) == ("will_update", {"new_note": [None, "本周无新进展"]})


def test_stale_rows_conflict_and_are_not_applied(client: TestClient, seeded: SeedReport) -> None:
    workbook = export_sheet(client)
    sheet = workbook.active
    col = columns(sheet)
    sheet.cell(row_of(sheet, 16), col["责任人"]).value = "王强"
    client.patch("/api/v1/actions/16", json={"assignee": "赵六"}, headers={"If-Match": 'W/"1"'})

    response = upload(client, workbook, dry_run="false")
    result = next(r for r in response.json()["results"] if r["action_id"] == 16)
    assert result["outcome"] == "error"
    assert result["errors"][0]["column"] == "version"
    assert "download a fresh sheet" in result["errors"][0]["reason"]
    assert action(client, 16)["assignee"] == "赵六"


def test_all_or_nothing_applies_nothing_when_a_row_is_refused(
    client: TestClient, seeded: SeedReport
) -> None:
    workbook = export_sheet(client)
    sheet = workbook.active
    col = columns(sheet)
    sheet.cell(row_of(sheet, 17), col["责任人"]).value = "李华"
    sheet.cell(row_of(sheet, 16), col["状态"]).value = "已完成"  # proposed → completed: illegal
    sheet.cell(row_of(sheet, 20), col["进度"]).value = 101

    response = upload(client, workbook, dry_run="false", all_or_nothing="true")
    body = response.json()
    assert body["applied"] is False
    errors = {r["action_id"]: r["errors"][0] for r in body["results"] if r["errors"]}
    assert (
        errors[16]["column"] == "status" and "allowed: accepted, declined" in errors[16]["reason"]
    )
    assert errors[20]["column"] == "progress"
    assert action(client, 17)["assignee"] is None

    partial = upload(client, workbook, dry_run="false")
    assert partial.json()["applied"] is True
    assert action(client, 17)["assignee"] == "李华"
    assert action(client, 16)["status"] == "proposed"


def test_gbk_csv_upload_is_read(client: TestClient, seeded: SeedReport) -> None:
    content = "编号,版本,状态,责任人\n16,1,已采纳,张三\n".encode("gbk")
    response = client.post(IMPORTS, files={"file": ("进展.csv", content)})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["changes"] == {"status": ["proposed", "accepted"], "assignee": [None, "张三"]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.4\n...", "not a spreadsheet"),
        (b"PK\x03\x04broken zip", "xlsx"),
        ("事项,状态\n加快,已采纳\n".encode(), "编号"),
    ],
)
def test_bad_files_are_422_and_change_nothing(
    client: TestClient, seeded: SeedReport, content: bytes, expected: str
) -> None:
    response = client.post(IMPORTS, params={"dry_run": "false"}, files={"file": ("x", content)})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert expected in response.json()["detail"]
    assert client.get("/api/v1/actions/1/events").json()["total"] == 1


def test_viewers_cannot_import(client: TestClient, engine: Engine, seeded: SeedReport) -> None:
    viewer = make_key(engine, Role.viewer)
    content = "编号,版本,状态\n16,1,已采纳\n".encode()
    response = client.post(
        IMPORTS, files={"file": ("a.csv", content)}, headers={"X-API-Key": viewer}
    )
    assert response.status_code == 403
    assert action(client, 16)["status"] == "proposed"


def test_ten_thousand_row_csv_gets_an_answer(client: TestClient, seeded: SeedReport) -> None:
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["编号", "版本", "责任人"])
    for number in range(10_000):
        writer.writerow([100_000 + number, 1, "张三"])
    response = client.post(IMPORTS, files={"file": ("big.csv", rows.getvalue().encode())})
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {"error": 10_000}
    assert body["results"][0]["errors"][0] == {
        "column": "id",
        "reason": "编号 (column A, row 2): no action 100000",
    }


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_untouched_export_imports_as_unchanged(
    client: TestClient, seeded: SeedReport, fmt: str
) -> None:
    for to in ("accepted", "in_progress", "completed"):
        version = action(client, 16)["version"]
        client.post(
            "/api/v1/actions/16/transitions",
            json={"to": to},
            headers={"If-Match": f'W/"{version}"'},
        )
    client.post(
        "/api/v1/actions/17/updates",
        json={"note": "过半", "progress": 45},
        headers={"If-Match": 'W/"1"'},
    )
    exported = client.get("/api/v1/reports/status", params={"format": fmt, "owner_id": UNIT})
    response = client.post(IMPORTS, files={"file": (f"sheet.{fmt}", exported.content)})
    assert response.status_code == 200, response.text
    assert response.json()["counts"] == {"unchanged": 12}


def test_other_requests_are_answered_while_an_upload_is_parsed(
    app: FastAPI, admin_key: str, seeded: SeedReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parse is held until another request has been answered: were the parse run on the
    event loop, that request could not be served until the hold timed out."""
    parsing, answered = threading.Event(), threading.Event()
    held: list[bool] = []

    def held_parse(content: bytes, file_name: str | None) -> UploadedSheet:
        parsing.set()
        held.append(answered.wait(timeout=10))  # False: nothing was served meanwhile
        return read_upload(content, file_name)

    monkeypatch.setattr(import_router, "read_upload", held_parse)
    sheet = "编号,版本,状态\n1,1,待研究\n".encode()

    async def upload_and_read() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"X-API-Key": admin_key}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as client:
            files = {"file": ("进展.csv", sheet)}
            upload = asyncio.create_task(client.post(IMPORTS, files=files))
            await anyio.to_thread.run_sync(parsing.wait, 10)
            me = await client.get("/api/v1/me")
            answered.set()
            return me, await upload

    me, imported = asyncio.run(upload_and_read())

    assert me.status_code == 200 and me.json()["name"] == "test-admin"
    assert held == [True]
    assert imported.status_code == 200, imported.text
    assert imported.json()["counts"] == {"unchanged": 1}


def test_a_due_date_already_set_moves_only_for_a_supervisors_sheet(
    client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    client.patch("/api/v1/actions/16", json={"due_on": "2026-12-31"}, headers={"If-Match": 'W/"1"'})
    workbook = export_sheet(client)
    sheet = workbook.active
    col = columns(sheet)
    sheet.cell(row_of(sheet, 16), col["截止日期"]).value = "2027-03-31"  # moves a due date
    sheet.cell(row_of(sheet, 17), col["截止日期"]).value = "2027-06-30"  # a first due date
    editor = {"X-API-Key": make_key(engine, Role.editor, name="sheet-editor")}
    supervisor = {"X-API-Key": make_key(engine, Role.supervisor, name="sheet-supervisor")}

    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {"file": ("经发局进展.xlsx", buffer.getvalue())}
    refused = client.post(IMPORTS, params={"dry_run": "false"}, files=files, headers=editor)
    assert refused.status_code == 200, refused.text
    by_action = {r["action_id"]: r for r in refused.json()["results"]}
    assert by_action[16]["outcome"] == "error"
    [error] = by_action[16]["errors"]
    assert error["column"] == "due_on"
    assert error["reason"].startswith(
        "截止日期 ✎ (column K, row 2): the due date is 2026-12-31: once set"
    )
    assert "POST /api/v1/actions/16/extensions" in error["reason"]
    assert by_action[17]["outcome"] == "updated"
    assert action(client, 16)["due_on"] == "2026-12-31"
    first = action(client, 17)
    assert (first["due_on"], first["original_due_on"]) == ("2027-06-30", "2027-06-30")

    sheet.cell(row_of(sheet, 17), col["版本"]).value = first["version"]  # as applied
    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {"file": ("经发局进展.xlsx", buffer.getvalue())}
    moved = client.post(IMPORTS, params={"dry_run": "false"}, files=files, headers=supervisor)
    by_action = {r["action_id"]: r for r in moved.json()["results"]}
    assert by_action[16]["outcome"] == "updated", by_action[16]
    assert by_action[17]["outcome"] == "unchanged", by_action[17]
    after = action(client, 16)
    assert (after["due_on"], after["original_due_on"], after["extension_count"]) == (
        "2027-03-31",
        "2026-12-31",
        0,
    )


def test_a_broken_multipart_body_is_422_not_400(client: TestClient) -> None:
    boundary = "71611e15768825a99dd5531829de6650"
    body = f"--{boundary}\r\n6uR\xf3g5\r\n--{boundary}--\r\n".encode("latin-1")

    response = client.post(
        "/api/v1/imports",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    problem = assert_explained_problem(response, 422, ["body"])
    assert problem["detail"].startswith("the request body cannot be read: ")
