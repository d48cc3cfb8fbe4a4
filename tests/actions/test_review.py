"""Completion review through the HTTP API: an editor submits an action for review (待审核),
a supervisor or admin approves it or sends it back with a note, and only they complete
directly or reopen; the supervisor role itself (keys, /me); and submitted as an active
status in lists, /stats, reports and the Excel round trip."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.actions.workflow import Status
from app.auth.models import Role
from app.config import Settings
from app.main import create_app
from app.seeding.schemas import SeedReport
from tests.helpers import (
    PAST,
    assert_problem,
    attach_evidence,
    events_of,
    make_key,
    run_tashan,
    write_action,
)

ACTION_ID = 1
ACTION = f"/api/v1/actions/{ACTION_ID}"
EDITOR, SUPERVISOR = "zhang-editor", "li-duchashi"


@pytest.fixture
def keys(engine: Engine) -> dict[Role, dict[str, str]]:
    """Headers of an editor's and a supervisor's key."""
    return {
        Role.editor: {"X-API-Key": make_key(engine, Role.editor, name=EDITOR)},
        Role.supervisor: {"X-API-Key": make_key(engine, Role.supervisor, name=SUPERVISOR)},
    }


@pytest.fixture
def bare_in_progress(client: TestClient, seeded: SeedReport) -> None:
    """Action 1 in progress at 60%, with no evidence file."""
    write_action(client, ACTION_ID, "transitions", {"to": "accepted"})
    write_action(client, ACTION_ID, "transitions", {"to": "in_progress"})
    write_action(client, ACTION_ID, "updates", {"note": "过半", "progress": 60})


@pytest.fixture
def in_progress(client: TestClient, bare_in_progress: None) -> None:
    """Action 1 in progress at 60%, with an evidence file (submitting needs one)."""
    attach_evidence(client, ACTION_ID)


def move(client: TestClient, headers: dict[str, str], to: str, note: str | None = None) -> Any:
    version = client.get(ACTION).json()["version"]
    return client.post(
        f"{ACTION}/transitions",
        json={"to": to, "note": note},
        headers={**headers, "If-Match": f'W/"{version}"'},
    )


def submitted(client: TestClient, keys: dict[Role, dict[str, str]]) -> dict[str, Any]:
    response = move(client, keys[Role.editor], "submitted", "已完成验收，申请办结")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def status_of(client: TestClient) -> str:
    return str(client.get(ACTION).json()["status"])


@pytest.mark.usefixtures("in_progress")
def test_an_editor_asking_for_completed_is_told_to_submit(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    version = client.get(ACTION).json()["version"]
    body = assert_problem(move(client, keys[Role.editor], "completed", "做完了"), 403)
    assert "submit it for review (to: submitted" in body["detail"]
    assert "supervisor" in body["detail"]
    after = client.get(ACTION).json()
    assert (after["status"], after["progress"], after["version"]) == ("in_progress", 60, version)


@pytest.mark.usefixtures("in_progress")
def test_submitting_needs_a_note(client: TestClient, keys: dict[Role, dict[str, str]]) -> None:
    for note in (None, "  "):
        body = assert_problem(move(client, keys[Role.editor], "submitted", note), 422)
        assert body["errors"][0]["loc"] == ["body", "note"]
    assert status_of(client) == "in_progress"
    body = submitted(client, keys)
    assert (body["status"], body["status_label"], body["progress"]) == ("submitted", "待审核", 60)
    last = events_of(client, ACTION_ID)[-1]
    assert (last["actor"], last["from_status"], last["to_status"], last["note"]) == (
        EDITOR,
        "in_progress",
        "submitted",
        "已完成验收，申请办结",
    )


@pytest.mark.usefixtures("in_progress")
def test_a_supervisor_approves_progress_goes_to_100_and_the_event_names_the_reviewer(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    submitted(client, keys)
    assert_problem(move(client, keys[Role.editor], "completed", "自己批"), 403)
    response = move(client, keys[Role.supervisor], "completed", "审核通过")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["progress"], body["completed_at"] is not None) == (
        "completed",
        100,
        True,
    )
    last = events_of(client, ACTION_ID)[-1]
    assert (last["kind"], last["actor"], last["from_status"], last["to_status"]) == (
        "transition",
        SUPERVISOR,
        "submitted",
        "completed",
    )
    assert last["changes"] == {"status": ["submitted", "completed"], "progress": [60, 100]}
    assert last["note"] == "审核通过"


@pytest.mark.usefixtures("in_progress")
def test_sending_back_needs_a_note_and_the_timeline_says_why(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    submitted(client, keys)
    assert_problem(move(client, keys[Role.editor], "in_progress", "我撤回"), 403)
    for note in (None, ""):
        body = assert_problem(move(client, keys[Role.supervisor], "in_progress", note), 422)
        assert body["errors"][0]["loc"] == ["body", "note"]
    assert status_of(client) == "submitted"
    response = move(client, keys[Role.supervisor], "in_progress", "佐证材料不全，退回补充")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["progress"]) == ("in_progress", 60)
    last = events_of(client, ACTION_ID)[-1]
    assert (last["actor"], last["from_status"], last["to_status"], last["note"]) == (
        SUPERVISOR,
        "submitted",
        "in_progress",
        "佐证材料不全，退回补充",
    )
    # sent back, it can be submitted again
    assert submitted(client, keys)["status"] == "submitted"


@pytest.mark.usefixtures("in_progress")
def test_only_supervisors_and_admins_complete_directly_or_reopen(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    response = move(client, keys[Role.supervisor], "completed", None)  # no note needed
    assert response.status_code == 200, response.text
    body = assert_problem(move(client, keys[Role.editor], "in_progress", "还要改"), 403)
    assert "reopen" in body["detail"]
    body = assert_problem(move(client, keys[Role.supervisor], "in_progress", None), 422)
    assert body["errors"][0]["loc"] == ["body", "note"]
    assert status_of(client) == "completed"
    reopened = move(client, keys[Role.supervisor], "in_progress", "复核发现问题")
    assert (reopened.status_code, reopened.json()["progress"]) == (200, 60)
    assert move(client, {}, "completed").status_code == 200  # the client's admin key


@pytest.mark.usefixtures("in_progress")
def test_a_move_the_table_does_not_allow_is_still_409_for_any_role(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    submitted(client, keys)
    for headers in keys.values():
        body = assert_problem(move(client, headers, "blocked", "等待"), 409)
        assert body["allowed"] == ["completed", "in_progress"]


@pytest.mark.usefixtures("in_progress")
def test_submitted_is_active_overdue_listed_and_counted(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    write_action(client, ACTION_ID, "patch", {"due_on": PAST})
    submitted(client, keys)
    assert client.get(ACTION).json()["overdue"] is True
    overdue = client.get("/api/v1/actions", params={"overdue": "true", "status": "submitted"})
    assert [a["id"] for a in overdue.json()["items"]] == [ACTION_ID]
    stats = client.get("/api/v1/stats").json()
    by_status = {row["status"]: row for row in stats["by_status"]}
    assert (by_status["submitted"]["label"], by_status["submitted"]["count"]) == ("待审核", 1)
    owner = client.get(ACTION).json()["owner"]["id"]
    unit = next(u for u in stats["units"] if u["unit_id"] == owner)
    assert unit["submitted"] == 1 and unit["overdue"] >= 1


@pytest.mark.usefixtures("in_progress")
@pytest.mark.parametrize(("lang", "label"), [("zh", "待审核"), ("en", "Submitted")])
def test_reports_label_submitted(
    client: TestClient, keys: dict[Role, dict[str, str]], lang: str, label: str
) -> None:
    submitted(client, keys)
    params = {"lang": lang, "status": "submitted"}
    for fmt in ("csv", "md", "html", "json", "xlsx"):
        response = client.get("/api/v1/reports/status", params={**params, "format": fmt})
        assert response.status_code == 200, (fmt, response.text)
        if fmt == "xlsx":
            book = openpyxl.load_workbook(io.BytesIO(response.content))
            cells = {c.value for sheet in book for row in sheet.iter_rows() for c in row}
            assert label in cells, fmt
        else:
            assert label in response.content.decode("utf-8-sig"), fmt


def import_csv(client: TestClient, headers: dict[str, str], status: str, note: str) -> Any:
    version = client.get(ACTION).json()["version"]
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["编号", "版本", "状态", "本次进展"])
    writer.writerow([ACTION_ID, version, status, note])
    files = {"file": ("进展.csv", rows.getvalue().encode("utf-8"))}
    return client.post("/api/v1/imports", params={"dry_run": "false"}, files=files, headers=headers)


@pytest.mark.usefixtures("in_progress")
def test_an_import_obeys_the_review_rules_for_the_importing_key(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    refused = import_csv(client, keys[Role.editor], "已完成", "做完了").json()
    error = refused["results"][0]["errors"][0]
    assert error["column"] == "status" and "submit it for review" in error["reason"]
    assert status_of(client) == "in_progress"

    applied = import_csv(client, keys[Role.editor], "待审核", "申请办结").json()
    assert applied["counts"] == {"updated": 1}, applied
    assert status_of(client) == "submitted"

    approved = import_csv(client, keys[Role.supervisor], "Completed", "审核通过").json()
    assert approved["counts"] == {"updated": 1}, approved
    assert client.get(ACTION).json()["progress"] == 100
    assert events_of(client, ACTION_ID)[-1]["actor"] == SUPERVISOR


@pytest.fixture
def no_evidence_client(database_url: str, admin_key: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=database_url,
        evidence_dir=tmp_path / "evidence",
        review_needs_evidence=False,
        _env_file=None,
    )
    app: FastAPI = create_app(settings)
    with TestClient(app, headers={"X-API-Key": admin_key}) as test_client:
        yield test_client


@pytest.mark.usefixtures("bare_in_progress")
def test_submitting_without_evidence_is_422_until_a_file_is_attached(
    client: TestClient, keys: dict[Role, dict[str, str]]
) -> None:
    body = assert_problem(move(client, keys[Role.editor], "submitted", "申请办结"), 422)
    assert body["errors"][0]["loc"] == ["body", "to"]
    assert f"POST /api/v1/actions/{ACTION_ID}/evidence" in body["detail"]
    assert status_of(client) == "in_progress"
    refused = import_csv(client, keys[Role.editor], "待审核", "申请办结").json()
    assert refused["results"][0]["errors"][0]["column"] == "status"
    assert "evidence" in refused["results"][0]["errors"][0]["reason"]
    assert status_of(client) == "in_progress"

    attach_evidence(client, ACTION_ID)
    assert submitted(client, keys)["status"] == "submitted"


@pytest.mark.usefixtures("bare_in_progress")
def test_with_review_needs_evidence_off_submitting_needs_no_file(
    no_evidence_client: TestClient,
) -> None:
    response = move(no_evidence_client, {}, "submitted", "申请办结")
    assert response.status_code == 200, response.text
    assert status_of(no_evidence_client) == "submitted"


def test_a_supervisor_key_is_made_through_the_api_and_me_names_its_role(
    client: TestClient, app: FastAPI
) -> None:
    created = client.post("/api/v1/keys", json={"name": "du-cha", "role": "supervisor"})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "supervisor"
    with TestClient(app, headers={"X-API-Key": created.json()["key"]}) as supervisor:
        assert supervisor.get("/api/v1/me").json()["role"] == "supervisor"
        assert_problem(supervisor.get("/api/v1/keys"), 403)  # below admin


def test_a_supervisor_key_is_made_on_the_command_line(
    client: TestClient, app: FastAPI, database_url: str
) -> None:
    made = run_tashan(
        database_url, "keys", "create", "--name", "du-cha", "--role", "supervisor", "--quiet"
    )
    assert made.returncode == 0, made.stderr
    with TestClient(app, headers={"X-API-Key": made.stdout.strip()}) as supervisor:
        assert supervisor.get("/api/v1/me").json()["role"] == "supervisor"
    listed = run_tashan(database_url, "keys", "list")
    assert "supervisor" in listed.stdout


def test_status_sort_puts_submitted_between_in_progress_and_blocked() -> None:
    assert list(Status).index(Status.submitted) == list(Status).index(Status.in_progress) + 1
