"""POST /api/v1/actions/{id}/reminders: a supervisor's 催办, sent to the action's channels
with a reminded event; refused to lower roles, for missing, archived or finished actions,
and for a blank note or a level out of 1–3."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth.models import Role
from app.notifications.models import ChannelKind, Delivery, Notification
from app.seeding.schemas import SeedReport
from tests.helpers import (
    ACTIONS,
    TODAY,
    assert_problem,
    created_action,
    events_of,
    get_action,
    make_key,
    transitioned,
    unit_id,
    write_action,
)
from tests.notifications.helpers import add_channel
from tests.notifications.test_reminders import HOOK, active_action

NOTE = "请于本周五前报送办理进展"


def press(client: TestClient, action_id: int, key: str, body: dict[str, Any]) -> Any:
    return client.post(f"{ACTIONS}/{action_id}/reminders", json=body, headers={"X-API-Key": key})


@pytest.fixture
def supervisor_key(engine: Engine) -> str:
    return make_key(engine, Role.supervisor, name="ducha-li")


def test_a_supervisor_presses_an_action_and_its_channels_get_it(
    client: TestClient, engine: Engine, seeded: SeedReport, supervisor_key: str
) -> None:
    action_id = active_action(client, TODAY - timedelta(days=10))  # second week overdue
    add_channel(engine, ChannelKind.wecom, HOOK + "?key=1", events=("reminder",))
    add_channel(engine, ChannelKind.webhook, HOOK, events=("due_soon",))
    version = get_action(client, action_id)["version"]

    response = press(client, action_id, supervisor_key, {"note": NOTE})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action_id"] == action_id
    assert body["event"] == "reminder"
    assert body["level"] == 2  # the automatic 催办's level: second week overdue
    assert body["deliveries"] == 1
    assert body["created_by"] == "ducha-li"
    assert body["title"] == f"督查催办（二级）：测试事项：推行标准地改革（#{action_id}）"
    assert f"ducha-li：{NOTE}" in body["text"] and "红灯" in body["text"]
    with Session(engine) as session:
        notification = session.get_one(Notification, body["id"])
        assert (notification.event, notification.automatic) == ("reminder", False)
        assert len(session.exec(select(Delivery)).all()) == 1
    event = events_of(client, action_id)[-1]
    assert event["id"] == body["event_id"]
    assert (event["kind"], event["actor"], event["note"]) == ("reminded", "ducha-li", NOTE)
    assert event["changes"] == {"event": "reminder", "level": 2, "channels": 1}
    assert get_action(client, action_id)["version"] == version


def test_a_chosen_level_and_no_channel_still_leave_the_催办_on_the_timeline(
    client: TestClient, seeded: SeedReport, supervisor_key: str
) -> None:
    action_id = active_action(client, TODAY + timedelta(days=30))

    response = press(client, action_id, supervisor_key, {"note": NOTE, "level": 3})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["id"], body["deliveries"], body["level"]) == (None, 0, 3)
    assert events_of(client, action_id)[-1]["changes"] == {
        "event": "reminder",
        "level": 3,
        "channels": 0,
    }


def test_only_supervisors_and_admins_press(
    client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    action_id = active_action(client, TODAY)
    for role in (Role.viewer, Role.editor):
        problem = assert_problem(
            press(client, action_id, make_key(engine, role), {"note": NOTE}), 403
        )
        assert "supervisor" in problem["detail"]
    unit_key = make_key(engine, Role.editor, unit_id=unit_id(client, "区经济发展局"))
    assert_problem(press(client, action_id, unit_key, {"note": NOTE}), 403)
    assert [e["kind"] for e in events_of(client, action_id)][-1] != "reminded"
    admin = make_key(engine, Role.admin)
    assert press(client, action_id, admin, {"note": NOTE}).status_code == 201


def test_a_missing_archived_or_finished_action_is_not_pressed(
    client: TestClient, seeded: SeedReport, supervisor_key: str
) -> None:
    assert_problem(press(client, 999_999, supervisor_key, {"note": NOTE}), 404)
    archived = active_action(client, TODAY)
    write_action(client, archived, "archive")
    assert (
        "archived"
        in assert_problem(press(client, archived, supervisor_key, {"note": NOTE}), 409)["detail"]
    )
    completed = active_action(client, TODAY)
    transitioned(client, completed, "in_progress")
    transitioned(client, completed, "completed")
    problem = assert_problem(press(client, completed, supervisor_key, {"note": NOTE}), 409)
    assert "completed" in problem["detail"] and "reopen" in problem["detail"]
    declined = created_action(client)["id"]
    transitioned(client, declined, "declined", "不符合实际")
    assert_problem(press(client, declined, supervisor_key, {"note": NOTE}), 409)
    for action_id in (archived, completed, declined):
        assert "reminded" not in [e["kind"] for e in events_of(client, action_id)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"note": ""},
        {"note": "  \n "},
        {"note": NOTE, "level": 0},
        {"note": NOTE, "level": 4},
        {"note": NOTE, "level": "high"},
        {"note": NOTE, "extra": 1},
    ],
)
def test_a_bad_body_is_422_and_makes_nothing(
    client: TestClient, seeded: SeedReport, supervisor_key: str, body: dict[str, Any]
) -> None:
    action_id = active_action(client, TODAY)
    problem = assert_problem(press(client, action_id, supervisor_key, body), 422)
    assert problem["errors"]
    assert "reminded" not in [e["kind"] for e in events_of(client, action_id)]


def test_a_催办_is_in_the_report_s_changes_but_is_not_news_of_the_work(
    client: TestClient, seeded: SeedReport, supervisor_key: str
) -> None:
    action_id = active_action(client, TODAY - timedelta(days=20))
    write_action(client, action_id, "updates", {"note": "已完成用地预审"})
    assert press(client, action_id, supervisor_key, {"note": NOTE}).status_code == 201

    response = client.get("/api/v1/reports/status", params={"format": "json"})

    assert response.status_code == 200, response.text
    report = response.json()
    [pressed] = [c for c in report["changes"] if c["kind"] == "催办"]
    assert (pressed["action_id"], pressed["summary"], pressed["note"]) == (
        action_id,
        "催办 L3",
        NOTE,
    )
    [line] = [a for a in report["actions"] if a["id"] == action_id]
    assert line["latest_note"] == "已完成用地预审"


def test_a_催办_does_not_make_a_stale_action_fresh(
    client: TestClient,
    seeded: SeedReport,
    supervisor_key: str,
    set_clock: Callable[[str], None],
) -> None:
    set_clock("2026-10-01 09:00")  # the action's last news is from eight weeks ago
    action_id = active_action(client, TODAY - timedelta(days=3))
    set_clock("now")
    stale_ids = {"stale_days": 30, "owner_id": get_action(client, action_id)["owner"]["id"]}
    before = client.get("/api/v1/stats", params=stale_ids).json()["stale"]

    assert press(client, action_id, supervisor_key, {"note": NOTE}).status_code == 201

    assert client.get("/api/v1/stats", params=stale_ids).json()["stale"] == before >= 1
