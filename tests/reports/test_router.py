"""The reports API: on-demand downloads in every format, kept reports, the 五个一 schedules,
roles, and a past period read as of its end (with an injected clock, no sleeping)."""

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, event
from time_machine import TimeMachineFixture

from app.auth.models import Role
from app.config import SEEDS_DIR, Settings
from app.seeding.service import seed_database
from tests.helpers import NOW, PROBLEM_JSON, SHANGHAI, TODAY, make_key, write_action

pytestmark = pytest.mark.calendar  # CI runs these at a moved clock too

# The month around the frozen today (the seed fixture loads the actions today).
MONTH_START = TODAY.replace(day=1)
MONTH_END = (MONTH_START + timedelta(days=31)).replace(day=1) - timedelta(days=1)
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
SHEETS_ZH = ["概览", "排名", "明细", "逾期", "动态"]
CADENCES = [
    ("weekly", "一周一汇总", "0 8 * * mon"),
    ("monthly", "一月一通报", "0 8 1 * *"),
    ("quarterly", "一季一排名", "0 8 1 1,4,7,10 *"),
    ("half-yearly", "半年一评比", "0 8 1 1,7 *"),
    ("annual", "全年一考核", "0 8 1 1 *"),
]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test database, and an export folder of this test's own."""
    return Settings(database_url=database_url, export_dir=tmp_path / "exports", _env_file=None)


def client_with(app: FastAPI, engine: Engine, role: Role, name: str) -> TestClient:
    return TestClient(app, headers={"X-API-Key": make_key(engine, role, name=name)})


@pytest.fixture
def viewer(app: FastAPI, engine: Engine) -> Iterator[TestClient]:
    with client_with(app, engine, Role.viewer, "test-viewer") as test_client:
        yield test_client


@pytest.fixture
def editor(app: FastAPI, engine: Engine) -> Iterator[TestClient]:
    with client_with(app, engine, Role.editor, "test-editor") as test_client:
        yield test_client


def this_week_name() -> str:
    today = TODAY
    monday = today - timedelta(days=today.weekday())
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def disposition(file_name: str) -> str:
    return f"attachment; filename=\"{file_name}\"; filename*=UTF-8''{file_name}"


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "CSV starts with a BOM so Excel reads Chinese"
    return list(csv.reader(io.StringIO(text[1:])))


def assert_problem(response: Any, status: int, loc: list[str] | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body
    return body


def status_report(client: TestClient, **params: Any) -> Any:
    return client.get("/api/v1/reports/status", params=params)


def json_report(client: TestClient, **params: Any) -> dict[str, Any]:
    response = status_report(client, format="json", **params)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = json.loads(response.content)
    return report


# --- on demand ---------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("fmt", list(MEDIA))
def test_each_format_downloads_this_weeks_report_with_its_media_type_and_file_name(
    client: TestClient, fmt: str
) -> None:
    response = status_report(client, format=fmt)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA[fmt]
    file_name = f"tashan-status-{this_week_name()}.{fmt}"
    assert response.headers["content-disposition"] == disposition(file_name)
    content = response.content
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(content))
        assert workbook.sheetnames == SHEETS_ZH
        assert workbook["明细"].max_row == 44  # header + the 43 seeded actions
    elif fmt == "csv":
        rows = csv_rows(content)
        assert rows[0][0] == "编号" and len(rows) == 44
    elif fmt == "json":
        report = json.loads(content)
        today = TODAY
        assert date.fromisoformat(report["period_start"]) == today - timedelta(today.weekday())
        assert date.fromisoformat(report["period_end"]) - date.fromisoformat(
            report["period_start"]
        ) == timedelta(days=6)
        assert report["as_of"] is None and report["lang"] == "zh"
        assert report["headline"]["total"] == 43 and len(report["actions"]) == 43
    else:
        text = content.decode("utf-8")
        assert "事项推进情况报告" in text and "明细" in text
        if fmt == "html":
            assert text.lstrip().lower().startswith("<!doctype html")


@pytest.mark.usefixtures("seeded")
def test_lang_en_gives_english_headings_and_zh_is_the_default(client: TestClient) -> None:
    english = status_report(client, format="csv", lang="en")
    chinese = status_report(client, format="csv")

    assert english.status_code == chinese.status_code == 200
    en_rows, zh_rows = csv_rows(english.content), csv_rows(chinese.content)
    en_heads = ["ID", "Version", "Action", "Lead unit", "Cooperating units ✎", "Status ✎"]
    assert en_rows[0][:6] == en_heads
    assert zh_rows[0][:6] == ["编号", "版本", "事项", "牵头单位", "配合单位 ✎", "状态 ✎"]
    assert {row[5] for row in en_rows[1:]} == {"Proposed"}
    assert {row[5] for row in zh_rows[1:]} == {"待研究"}
    en_json = json_report(client, lang="en")
    assert en_json["title"].startswith("Action status report") and en_json["lang"] == "en"
    workbook = load_workbook(io.BytesIO(status_report(client, lang="en").content))
    assert workbook.sheetnames == ["Overview", "Ranking", "Actions", "Overdue", "Changes"]


@pytest.mark.usefixtures("seeded")
def test_filters_select_the_same_actions_as_the_actions_list(client: TestClient) -> None:
    listed = client.get("/api/v1/actions", params={"owner_id": 5, "limit": 200})
    unit = client.get("/api/v1/units/5")
    assert listed.status_code == unit.status_code == 200

    response = status_report(client, format="csv", owner_id=5)

    assert response.status_code == 200, response.text
    rows = csv_rows(response.content)[1:]
    expected_ids = sorted(action["id"] for action in listed.json()["items"])
    assert listed.json()["total"] == len(expected_ids) > 0
    assert len(rows) == listed.json()["total"]
    assert sorted(int(row[0]) for row in rows) == expected_ids
    assert {row[3] for row in rows} == {unit.json()["name"]}
    report = json_report(client, owner_id=5, status=["proposed", "accepted"])
    assert report["filters"] == {"owner_id": 5, "status": ["proposed", "accepted"]}
    assert report["headline"]["total"] == len(expected_ids)
    assert json_report(client, status="completed")["actions"] == []


@pytest.mark.usefixtures("seeded")
def test_each_line_shows_its_actions_themes_by_name_and_its_latest_note(
    client: TestClient,
) -> None:
    write_action(client, 2, "transitions", {"to": "accepted"})
    write_action(client, 2, "transitions", {"to": "in_progress"})
    write_action(client, 2, "updates", {"note": "方案初稿", "progress": 10})
    write_action(client, 2, "updates", {"note": "方案定稿", "progress": 20})
    write_action(client, 2, "patch", {"assignee": "张明"})  # an event without a note
    listed = client.get("/api/v1/actions", params={"limit": 200}).json()["items"]

    report = json_report(client)

    themes = {action["id"]: action["themes"] for action in listed}
    assert any(len(names) > 1 for names in themes.values())
    assert {line["id"]: line["themes"] for line in report["actions"]} == themes
    assert line(report, 2)["latest_note"] == "方案定稿"
    assert line(report, 3)["latest_note"] is None


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        ("2026-11-23", "2026-11-29", "2026-W48"),
        ("2026-12-28", "2027-01-03", "2026-W53"),
        ("2026-11-01", "2026-11-30", "2026-11"),
        ("2026-10-01", "2026-12-31", "2026-Q4"),
        ("2026-07-01", "2026-12-31", "2026-H2"),
        ("2026-01-01", "2026-12-31", "2026"),
        ("2026-02-01", "2026-02-10", "2026-02-01_2026-02-10"),
    ],
)
def test_the_file_is_named_after_the_period(
    client: TestClient, start: str, end: str, name: str
) -> None:
    response = status_report(client, format="html", period_start=start, period_end=end)

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == disposition(f"tashan-status-{name}.html")
    assert f"{start} – {end}" in response.content.decode("utf-8")


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"format": "pdf"}, ["query", "format"]),
        ({"lang": "fr"}, ["query", "lang"]),
        ({"period_start": "2026-02-01", "period_end": "2026-01-31"}, ["query", "period_end"]),
        ({"period_start": "2016-01-01", "period_end": "2026-12-31"}, ["query", "period_end"]),
        ({"period_start": "2026-13-01"}, ["query", "period_start"]),
        ({"owner_id": "x"}, ["query", "owner_id"]),
    ],
)
def test_bad_format_lang_or_period_is_422_problem_json(
    client: TestClient, params: dict[str, str], loc: list[str]
) -> None:
    assert_problem(status_report(client, **params), 422, loc)


def test_reports_need_a_key(anonymous_client: TestClient) -> None:
    for path in ("/api/v1/reports/status", "/api/v1/reports", "/api/v1/report-schedules"):
        assert_problem(anonymous_client.get(path), 401)
    assert_problem(
        anonymous_client.post(
            "/api/v1/reports", json={"period_start": "2026-01-01", "period_end": "2026-01-31"}
        ),
        401,
    )


# --- kept reports ------------------------------------------------------------------------


def keep(client: TestClient, **body: Any) -> Any:
    """Keep a report; by default of the month around today, in which the seed was loaded."""
    data = {"period_start": MONTH_START.isoformat(), "period_end": MONTH_END.isoformat(), **body}
    return client.post("/api/v1/reports", json=data)


@pytest.mark.usefixtures("seeded")
def test_post_keeps_a_report_in_the_database_and_the_export_folder(
    client: TestClient, settings: Settings
) -> None:
    selected = client.get("/api/v1/actions", params={"owner_id": 5, "limit": 200}).json()

    created = keep(client, format="csv", lang="en", filters={"owner_id": 5})

    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/reports/{body['id']}"
    assert body["format"] == "csv" and body["lang"] == "en" and body["schedule"] is None
    assert body["period_start"] == MONTH_START.isoformat()
    assert body["period_end"] == MONTH_END.isoformat()
    assert body["filters"] == {"owner_id": 5}
    assert body["created_by"] == "test-admin"
    assert body["row_count"] == selected["total"] > 0
    assert body["file_name"].startswith("tashan-report-")
    assert f"{TODAY:%Y-%m}" in body["file_name"] and body["file_name"].endswith(".csv")
    file = client.get(f"/api/v1/reports/{body['id']}/file")
    assert file.status_code == 200
    assert body["bytes"] == len(file.content)
    assert body["sha256"] == hashlib.sha256(file.content).hexdigest()
    assert len(csv_rows(file.content)) == body["row_count"] + 1
    assert csv_rows(file.content)[0][0] == "ID"
    exported = settings.export_dir / body["file_name"]
    assert exported.read_bytes() == file.content


@pytest.mark.usefixtures("seeded")
def test_post_defaults_to_a_chinese_workbook(client: TestClient) -> None:
    created = keep(client)

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["format"], body["lang"], body["row_count"]) == ("xlsx", "zh", 43)
    file = client.get(f"/api/v1/reports/{body['id']}/file")
    assert file.headers["content-type"] == MEDIA["xlsx"]
    assert load_workbook(io.BytesIO(file.content)).sheetnames == SHEETS_ZH


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"period_start": "2026-02-01", "period_end": "2026-01-01"}, ["body"]),
        ({"format": "pdf"}, ["body", "format"]),
        ({"lang": "fr"}, ["body", "lang"]),
        ({"filters": {"owner_id": 0}}, ["body", "filters", "owner_id"]),
        ({"colour": "red"}, ["body", "colour"]),
    ],
)
def test_post_rejects_bad_input_with_422(
    client: TestClient, settings: Settings, body: dict[str, Any], loc: list[str]
) -> None:
    assert_problem(keep(client, **body), 422, loc)
    assert client.get("/api/v1/reports").json()["total"] == 0
    assert not settings.export_dir.exists() or not any(settings.export_dir.iterdir())


def test_post_without_a_period_is_422(client: TestClient) -> None:
    assert_problem(client.post("/api/v1/reports", json={"format": "csv"}), 422)


@pytest.mark.usefixtures("seeded")
def test_list_get_and_file_serve_what_was_kept(client: TestClient) -> None:
    first = keep(client, format="json").json()
    second = keep(client, format="md", filters={"owner_id": 5}).json()

    listed = client.get("/api/v1/reports")
    assert listed.status_code == 200
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
    assert [item["id"] for item in page["items"]] == [second["id"], first["id"]]
    assert page["items"][0] == second
    assert "content" not in page["items"][0]
    one_page = client.get("/api/v1/reports", params={"limit": 1})
    assert [item["id"] for item in one_page.json()["items"]] == [second["id"]]
    assert 'rel="next"' in one_page.headers["link"]

    got = client.get(f"/api/v1/reports/{first['id']}")
    assert got.status_code == 200 and got.json() == first

    file = client.get(f"/api/v1/reports/{first['id']}/file")
    assert file.status_code == 200
    assert file.headers["content-type"] == MEDIA["json"]
    assert file.headers["content-disposition"] == disposition(first["file_name"])
    assert file.headers["etag"] == f'"{first["sha256"]}"'
    assert hashlib.sha256(file.content).hexdigest() == first["sha256"]
    assert len(file.content) == first["bytes"]
    assert json.loads(file.content)["period_end"] == MONTH_END.isoformat()
    again = client.get(f"/api/v1/reports/{first['id']}/file")
    assert again.content == file.content


@pytest.mark.usefixtures("seeded")
def test_kept_file_is_byte_for_byte_what_was_made_even_after_the_data_changes(
    client: TestClient,
) -> None:
    kept = keep(client, format="csv").json()
    before = client.get(f"/api/v1/reports/{kept['id']}/file").content
    version = client.get("/api/v1/actions/1").json()["version"]
    changed = client.post(
        "/api/v1/actions/1/transitions",
        json={"to": "accepted"},
        headers={"If-Match": f'W/"{version}"'},
    )
    assert changed.status_code == 200, changed.text

    after = client.get(f"/api/v1/reports/{kept['id']}/file")

    assert after.content == before
    assert hashlib.sha256(after.content).hexdigest() == kept["sha256"]


@pytest.mark.usefixtures("seeded")
def test_two_reports_kept_in_the_same_second_keep_both_export_files(
    client: TestClient, settings: Settings, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)

    everyone = keep(client, format="csv").json()
    one_unit = keep(client, format="csv", filters={"owner_id": 5}).json()

    assert everyone["row_count"] == 43 and 0 < one_unit["row_count"] < 43
    for kept in (everyone, one_unit):
        file = client.get(f"/api/v1/reports/{kept['id']}/file").content
        assert (settings.export_dir / kept["file_name"]).read_bytes() == file, (
            f"the export folder lost report {kept['id']}'s file {kept['file_name']}"
        )


@pytest.mark.parametrize("path", ["/api/v1/reports/999", "/api/v1/reports/999/file"])
def test_a_missing_report_is_404(client: TestClient, path: str) -> None:
    body = assert_problem(client.get(path), 404)
    assert "999" in body["detail"]


@pytest.mark.parametrize("path", ["/api/v1/reports/0", "/api/v1/reports/x/file"])
def test_a_bad_report_id_is_422(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 422, ["path", "report_id"])


# --- roles -------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
def test_viewer_reads_and_downloads_but_cannot_keep(client: TestClient, viewer: TestClient) -> None:
    kept = keep(client, format="md").json()

    download = status_report(viewer, format="csv")
    assert download.status_code == 200 and len(csv_rows(download.content)) == 44
    assert viewer.get("/api/v1/reports").json()["total"] == 1
    assert viewer.get(f"/api/v1/reports/{kept['id']}").status_code == 200
    file = viewer.get(f"/api/v1/reports/{kept['id']}/file")
    assert file.status_code == 200 and hashlib.sha256(file.content).hexdigest() == kept["sha256"]

    assert_problem(keep(viewer, format="md"), 403)
    assert client.get("/api/v1/reports").json()["total"] == 1


@pytest.mark.usefixtures("seeded")
def test_editor_keeps_reports_under_its_name(editor: TestClient) -> None:
    created = keep(editor, format="json")

    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "test-editor"


# --- schedules ---------------------------------------------------------------------------


def test_the_five_schedules_exist_by_default_in_cadence_order(viewer: TestClient) -> None:
    response = viewer.get("/api/v1/report-schedules")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["offset"]) == (5, 0)
    assert [(s["name"], s["label"], s["cron"]) for s in page["items"]] == CADENCES
    for schedule in page["items"]:
        assert schedule["formats"] == ["xlsx", "html"]
        assert (schedule["lang"], schedule["enabled"], schedule["filters"]) == ("zh", True, {})


def test_listing_the_schedules_writes_nothing(app: FastAPI, viewer: TestClient) -> None:
    viewer.get("/api/v1/me")  # a key's first use is recorded: a write of its own
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()[:2]).upper())

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        response = viewer.get("/api/v1/report-schedules")
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)

    assert response.status_code == 200 and response.json()["total"] == 5
    assert any(statement.startswith("SELECT") for statement in statements)
    writes = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")
    assert [statement for statement in statements if statement.startswith(writes)] == []


def test_admin_changes_a_schedule(client: TestClient) -> None:
    unit = client.post("/api/v1/units", json={"name": "区经济发展局"}).json()["id"]
    update = {
        "cron": "30 9 * * fri",
        "formats": ["csv", "json", "csv"],
        "lang": "en",
        "enabled": False,
        "filters": {"owner_id": unit, "status": ["blocked"]},
    }

    response = client.put("/api/v1/report-schedules/monthly", json=update)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["label"]) == ("monthly", "一月一通报")
    assert body["cron"] == "30 9 * * fri"
    assert body["formats"] == ["csv", "json"]
    assert (body["lang"], body["enabled"]) == ("en", False)
    assert body["filters"] == {"owner_id": unit, "status": ["blocked"]}
    listed = {s["name"]: s for s in client.get("/api/v1/report-schedules").json()["items"]}
    assert listed["monthly"] == body
    assert listed["weekly"]["cron"] == "0 8 * * mon" and listed["weekly"]["enabled"] is True


@pytest.mark.parametrize(
    ("update", "loc"),
    [
        ({"cron": "0 8 * * someday", "formats": ["xlsx"]}, ["body", "cron"]),
        ({"cron": "61 8 * * mon", "formats": ["xlsx"]}, ["body", "cron"]),
        ({"cron": "0 8 * * mon", "formats": []}, ["body", "formats"]),
        ({"cron": "0 8 * * mon", "formats": ["pdf"]}, ["body", "formats", 0]),
        ({"cron": "0 8 * * mon", "formats": ["xlsx"], "lang": "fr"}, ["body", "lang"]),
        ({"cron": "0 8 * * mon", "formats": ["xlsx"], "colour": "red"}, ["body", "colour"]),
    ],
)
def test_invalid_schedule_update_is_422_and_changes_nothing(
    client: TestClient, update: dict[str, Any], loc: list[Any]
) -> None:
    assert_problem(client.put("/api/v1/report-schedules/weekly", json=update), 422, loc)
    weekly = client.get("/api/v1/report-schedules").json()["items"][0]
    assert (weekly["cron"], weekly["formats"]) == ("0 8 * * mon", ["xlsx", "html"])


def test_unknown_schedule_is_404(client: TestClient) -> None:
    response = client.put(
        "/api/v1/report-schedules/daily", json={"cron": "0 8 * * *", "formats": ["xlsx"]}
    )
    body = assert_problem(response, 404)
    assert "daily" in body["detail"]
    assert [s["name"] for s in client.get("/api/v1/report-schedules").json()["items"]] == [
        name for name, _, _ in CADENCES
    ]


def test_only_an_admin_changes_schedules(editor: TestClient, viewer: TestClient) -> None:
    update = {"cron": "0 9 * * tue", "formats": ["csv"]}

    assert_problem(editor.put("/api/v1/report-schedules/weekly", json=update), 403)
    assert_problem(viewer.put("/api/v1/report-schedules/weekly", json=update), 403)
    weekly = editor.get("/api/v1/report-schedules").json()["items"][0]
    assert (weekly["cron"], weekly["formats"]) == ("0 8 * * mon", ["xlsx", "html"])


# --- a past period, as of its end --------------------------------------------------------


@pytest.fixture
def history(client: TestClient, engine: Engine, set_clock: Callable[[str], None]) -> None:
    """Seeded 5 Jan 2026; action 4 due 15 Feb; action 1 accepted 10 Jan, in progress at 40%
    on 3 Feb, completed 1 Mar 00:30 (still 28 Feb in UTC); action 3 accepted 10 Feb."""
    set_clock("2026-01-05T09:00")
    seed_database(engine, SEEDS_DIR)
    set_clock("2026-01-06T09:00")
    write_action(client, 4, "patch", {"due_on": "2026-02-15"})
    set_clock("2026-01-10T10:00")
    write_action(client, 1, "transitions", {"to": "accepted"})
    set_clock("2026-02-03T15:00")
    write_action(client, 1, "transitions", {"to": "in_progress"})
    write_action(client, 1, "updates", {"note": "方案已起草", "progress": 40})
    set_clock("2026-02-10T11:00")
    write_action(client, 3, "transitions", {"to": "accepted"})
    set_clock("2026-03-01T00:30")
    write_action(client, 1, "transitions", {"to": "completed"})
    set_clock("now")


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {row["status"]: row["count"] for row in report["headline"]["by_status"]}


def line(report: dict[str, Any], action_id: int) -> dict[str, Any]:
    (found,) = [a for a in report["actions"] if a["id"] == action_id]
    return found


def in_window(report: dict[str, Any]) -> bool:
    start = date.fromisoformat(report["period_start"])
    end = date.fromisoformat(report["period_end"])
    return all(
        start <= datetime.fromisoformat(c["at"]).astimezone(SHANGHAI).date() <= end
        for c in report["changes"]
    )


@pytest.mark.usefixtures("history")
def test_a_past_period_shows_the_state_at_its_end(client: TestClient) -> None:
    february = json_report(client, period_start="2026-02-01", period_end="2026-02-28")
    march = json_report(client, period_start="2026-03-01", period_end="2026-03-31")

    assert february["as_of"] == "2026-02-28" and march["as_of"] == "2026-03-31"
    assert (line(february, 1)["status"], line(february, 1)["progress"]) == ("in_progress", 40)
    assert line(february, 1)["latest_note"] == "方案已起草"
    assert (line(march, 1)["status"], line(march, 1)["progress"]) == ("completed", 100)
    assert line(february, 3)["status"] == "accepted"
    assert february["headline"]["completed"] == 0 and march["headline"]["completed"] == 1
    assert counts(february) == {
        "proposed": 41,
        "accepted": 1,
        "in_progress": 1,
        "submitted": 0,
        "blocked": 0,
        "completed": 0,
        "declined": 0,
    }
    assert counts(march)["completed"] == 1 and counts(march)["in_progress"] == 0
    assert march["headline"]["completion_rate"] == round(1 / 43, 4)
    assert february["headline"]["completion_rate"] == 0.0
    assert february["headline"] != march["headline"]
    # action 4 fell due on 15 Feb: overdue at the end of February, not at the end of January
    january = json_report(client, period_start="2026-01-01", period_end="2026-01-31")
    assert [a["id"] for a in february["overdue"]] == [4]
    assert february["headline"]["overdue"] == 1
    assert january["overdue"] == [] and january["headline"]["overdue"] == 0
    assert line(january, 1)["status"] == "accepted" and line(january, 3)["status"] == "proposed"


@pytest.mark.usefixtures("history")
def test_a_period_before_anything_existed_is_empty(client: TestClient) -> None:
    december = json_report(client, period_start="2025-12-01", period_end="2025-12-31")

    assert december["actions"] == [] and december["changes"] == []
    assert december["headline"]["total"] == 0
    assert december["headline"]["created_in_period"] == 0
    assert all(unit["total"] == 0 for unit in december["ranking"])


@pytest.mark.usefixtures("history")
def test_the_changes_are_the_events_inside_the_period_only(client: TestClient) -> None:
    january = json_report(client, period_start="2026-01-01", period_end="2026-01-31")
    february = json_report(client, period_start="2026-02-01", period_end="2026-02-28")
    march = json_report(client, period_start="2026-03-01", period_end="2026-03-31")

    for report in (january, february, march):
        assert in_window(report), report["changes"]
    assert [(c["action_id"], c["at"][:10]) for c in february["changes"]] == [
        (1, "2026-02-03"),
        (1, "2026-02-03"),
        (3, "2026-02-10"),
    ]
    assert february["changes"][0]["summary"] == "已采纳 → 推进中"
    assert february["changes"][1]["note"] == "方案已起草"
    # completed at 00:30 on 1 March in Shanghai, which is still 28 February in UTC
    assert [(c["action_id"], c["summary"]) for c in march["changes"]] == [(1, "推进中 → 已完成")]
    assert len(january["changes"]) == 43 + 2  # created, action 4's due date, action 1 accepted
    assert (january["headline"]["created_in_period"], january["headline"]["changed_in_period"]) == (
        43,
        2,
    )
    assert (
        february["headline"]["created_in_period"],
        february["headline"]["changed_in_period"],
    ) == (
        0,
        2,
    )
    assert march["headline"]["changed_in_period"] == 1


@pytest.mark.usefixtures("history")
def test_kept_report_of_a_past_period_and_its_csv_show_the_as_of_state(client: TestClient) -> None:
    kept = keep(client, format="csv", period_start="2026-02-01", period_end="2026-02-28")

    assert kept.status_code == 201, kept.text
    assert kept.json()["file_name"].startswith("tashan-report-")
    assert "2026-02" in kept.json()["file_name"] and kept.json()["file_name"].endswith(".csv")
    rows = csv_rows(client.get(f"/api/v1/reports/{kept.json()['id']}/file").content)
    by_id = {int(row[0]): row for row in rows[1:]}
    assert len(by_id) == 43
    assert (by_id[1][5], by_id[1][8]) == ("推进中", "40%")
    assert by_id[4][13] == "是"
    download = status_report(
        client, format="csv", period_start="2026-02-01", period_end="2026-02-28"
    )
    assert download.headers["content-disposition"] == disposition("tashan-status-2026-02.csv")


@pytest.mark.usefixtures("seeded")
def test_an_english_report_reads_in_english_and_names_what_it_filters_on(
    client: TestClient,
) -> None:
    unit = client.get("/api/v1/units/5").json()["name"]
    [first, *_] = client.get("/api/v1/actions", params={"owner_id": 5}).json()["items"]
    write_action(client, first["id"], "transitions", {"to": "accepted"})
    write_action(client, first["id"], "updates", {"note": "方案初稿", "progress": 10})

    html = status_report(client, format="html", lang="en", owner_id=5, status="accepted")
    report = json_report(client, lang="en", owner_id=5, status="accepted")

    assert html.status_code == 200, html.text
    assert f"Status: Accepted; Lead unit: {unit}" in html.text
    assert "owner_id" not in html.text
    assert report["filter_summary"] == f"Status: Accepted; Lead unit: {unit}"
    assert [c["kind"] for c in report["changes"]] == [
        "created",
        "status change",
        "progress update",
    ]
    [line] = report["actions"]
    assert line["priority"] == "high"  # JSON keeps the value; the pages print its label
    assert "<td>High</td>" in html.text and "<td>high</td>" not in html.text
    chinese = json_report(client, owner_id=5, status="accepted")
    assert chinese["filter_summary"] == f"状态: 已采纳; 牵头单位: {unit}"
    assert [c["kind"] for c in chinese["changes"]] == ["新建", "状态变更", "进展"]


@pytest.mark.parametrize(
    ("filters", "loc", "words"),
    [
        ({"owner": 5}, ["body", "filters"], ["'owner'", "did you mean 'owner_id'?"]),
        ({"stauts": ["blocked"]}, ["body", "filters"], ["'stauts'", "'status'"]),
        ({"owner_id": 9999}, ["body", "filters", "owner_id"], ["no unit 9999"]),
        ({"source_id": 9999}, ["body", "filters", "source_id"], ["no source 9999"]),
        ({"theme": "没有这个主题"}, ["body", "filters", "theme"], ["没有这个主题"]),
    ],
)
def test_a_schedule_filter_that_selects_nothing_real_is_422_and_stores_nothing(
    client: TestClient, filters: dict[str, Any], loc: list[str], words: list[str]
) -> None:
    update = {"cron": "0 8 1 * *", "formats": ["xlsx"], "filters": filters}

    body = assert_problem(client.put("/api/v1/report-schedules/monthly", json=update), 422, loc)

    assert all(word in body["detail"] for word in words), body["detail"]
    monthly = client.get("/api/v1/report-schedules").json()["items"][1]
    assert (monthly["name"], monthly["filters"]) == ("monthly", {})


@pytest.mark.parametrize(
    ("filters", "loc"),
    [({"owner": 5}, ["body", "filters"]), ({"unit_id": 9999}, ["body", "filters", "unit_id"])],
)
def test_a_kept_report_filter_that_selects_nothing_real_is_422(
    client: TestClient, filters: dict[str, Any], loc: list[str]
) -> None:
    data = {"format": "csv", "period_start": "2026-10-01", "period_end": "2026-10-31"}

    assert_problem(client.post("/api/v1/reports", json={**data, "filters": filters}), 422, loc)

    assert client.get("/api/v1/reports").json()["total"] == 0
