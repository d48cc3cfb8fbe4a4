"""Automatic reminders and 催办 (make_due): due_soon once per action and due date, overdue
on the first day past due and every overdue_remind_every_days after with its level rising
each week, each once per (action, kind, day) however many runs, each with a reminded event
that leaves the action's version alone; and the texts they carry."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.config import Settings
from app.notifications import reminders
from app.notifications.models import ChannelKind, Notification
from app.notifications.reminders import Made, make_due
from app.seeding.schemas import SeedReport
from tests.helpers import (
    TODAY,
    created_action,
    events_of,
    get_action,
    patched_action,
    transitioned,
    write_action,
)
from tests.notifications.helpers import add_channel

HOOK = "http://127.0.0.1:9/hook"  # nothing listens: these tests look at the outbox only
AUTOMATIC = ("due_soon", "overdue")


def active_action(client: TestClient, due_on: date, title: str = "测试事项：推行标准地改革") -> int:
    """An accepted action (started today) due on due_on; its id."""
    action = created_action(client, due_on=due_on.isoformat(), title=title)
    transitioned(client, action["id"], "accepted")
    return int(action["id"])


def made_for(engine: Engine, settings: Settings, action_id: int) -> list[tuple[str, int | None]]:
    """One run of make_due: (event, level) of what it made for the action."""
    made: list[Made] = make_due(engine, settings)
    return [(one.event.value, one.level) for one in made if one.action_id == action_id]


def notifications_of(engine: Engine, action_id: int) -> list[Notification]:
    with Session(engine) as session:
        query = select(Notification).where(Notification.action_id == action_id)
        return list(session.exec(query.order_by(col(Notification.id))).all())


def on_day(set_clock: Callable[[str], None], day: date) -> None:
    set_clock(f"{day.isoformat()} 09:00")


def test_due_soon_is_made_once_per_due_date_and_again_when_the_date_moves(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    seeded: SeedReport,
    set_clock: Callable[[str], None],
) -> None:
    add_channel(engine, ChannelKind.webhook, HOOK, events=AUTOMATIC)
    action_id = active_action(client, TODAY + timedelta(days=3))
    later = active_action(client, TODAY + timedelta(days=4), "测试事项：四天后到期")

    made = make_due(engine, settings)
    assert [(one.action_id, one.event.value) for one in made] == [(action_id, "due_soon")]
    assert make_due(engine, settings) == []
    on_day(set_clock, TODAY + timedelta(days=1))  # two days left, same due date: nothing new
    assert [one.action_id for one in make_due(engine, settings)] == [later]

    patched_action(client, action_id, {"due_on": (TODAY + timedelta(days=4)).isoformat()})
    assert made_for(engine, settings, action_id) == [("due_soon", None)]
    assert made_for(engine, settings, action_id) == []

    rows = notifications_of(engine, action_id)
    assert [(n.event, n.automatic, n.day) for n in rows] == [
        ("due_soon", True, TODAY),  # for the due date TODAY + 3
        ("due_soon", True, TODAY + timedelta(days=1)),  # for the new one, TODAY + 4
    ]


def test_overdue_催办_comes_daily_with_its_level_rising_each_week(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    seeded: SeedReport,
    set_clock: Callable[[str], None],
) -> None:
    due = TODAY - timedelta(days=1)
    action_id = active_action(client, due)
    levels = {}
    for days_overdue in (1, 2, 7, 8, 14, 15, 40):
        on_day(set_clock, due + timedelta(days=days_overdue))
        made = made_for(engine, settings, action_id)
        assert made_for(engine, settings, action_id) == []  # a second run makes nothing
        assert [event for event, _ in made] == ["overdue"], days_overdue
        levels[days_overdue] = made[0][1]
    assert levels == {1: 1, 2: 1, 7: 1, 8: 2, 14: 2, 15: 3, 40: 3}
    days = [n.day for n in notifications_of(engine, action_id)]
    assert days == [due + timedelta(days=d) for d in (1, 2, 7, 8, 14, 15, 40)]


def test_overdue_every_few_days_catches_up_once_after_a_missed_run(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    seeded: SeedReport,
    set_clock: Callable[[str], None],
) -> None:
    every_three = settings.model_copy(update={"overdue_remind_every_days": 3})
    due = TODAY - timedelta(days=1)
    action_id = active_action(client, due)
    made = {}
    for days_overdue in (1, 2, 3, 5, 6, 7):  # no run on day 4
        on_day(set_clock, due + timedelta(days=days_overdue))
        made[days_overdue] = made_for(engine, every_three, action_id)
    assert made == {
        1: [("overdue", 1)],
        2: [],
        3: [],
        5: [("overdue", 1)],
        6: [],
        7: [("overdue", 1)],
    }
    days = [n.day for n in notifications_of(engine, action_id)]
    assert days == [due + timedelta(days=d) for d in (1, 4, 7)]  # the cycles' own days


def test_a_reminder_leaves_a_reminded_event_and_the_version_alone(
    client: TestClient, engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    add_channel(engine, ChannelKind.webhook, HOOK, events=AUTOMATIC)
    add_channel(engine, ChannelKind.wecom, HOOK + "?key=2", events=("overdue",))
    action_id = active_action(client, TODAY - timedelta(days=1))
    version = get_action(client, action_id)["version"]

    assert made_for(engine, settings, action_id) == [("overdue", 1)]

    assert get_action(client, action_id)["version"] == version
    event = events_of(client, action_id)[-1]
    assert event["kind"] == "reminded"
    assert event["actor"] == "scheduler"
    assert event["changes"] == {"event": "overdue", "level": 1, "channels": 2}
    write_action(client, action_id, "updates", {"note": "已约谈企业"})  # If-Match still good


def test_closed_archived_and_proposed_actions_get_no_reminder(
    client: TestClient, engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    overdue = TODAY - timedelta(days=2)
    proposed = created_action(client, due_on=overdue.isoformat())["id"]
    archived = active_action(client, overdue)
    write_action(client, archived, "archive")
    completed = active_action(client, overdue)
    transitioned(client, completed, "in_progress")
    transitioned(client, completed, "completed")
    blocked = active_action(client, overdue)
    transitioned(client, blocked, "blocked", "等待用地指标")

    made = {one.action_id for one in make_due(engine, settings)}

    assert blocked in made
    assert not made & {proposed, archived, completed}


def test_messages_name_the_task_unit_due_date_light_progress_and_link(
    client: TestClient, engine: Engine, settings: Settings, seeded: SeedReport
) -> None:
    public = settings.model_copy(update={"public_url": "https://ducha.example.gov.cn/"})
    soon = active_action(client, TODAY + timedelta(days=3), "测试事项：三天后到期")
    late = active_action(client, TODAY - timedelta(days=9), "测试事项：逾期九天")

    make_due(engine, public)

    [due_soon] = notifications_of(engine, soon)
    assert due_soon.title == f"到期提醒：测试事项：三天后到期（#{soon}）"
    for fact in (
        "还有 3 天到期",
        "牵头单位：区经济发展局",
        f"截止日期：{(TODAY + timedelta(days=3)).isoformat()}",
        "绿灯",
        "序时进度 0%，实际进度 0%",
        f"(https://ducha.example.gov.cn/api/v1/actions/{soon})",
    ):
        assert fact in due_soon.text, (fact, due_soon.text)
    [overdue] = notifications_of(engine, late)
    assert overdue.title == f"二级催办：测试事项：逾期九天（#{late}）"
    assert overdue.level == 2
    for fact in ("已逾期 9 天（第 2 级催办）", "红灯", "序时进度 100%，实际进度 0%"):
        assert fact in overdue.text, (fact, overdue.text)


def test_many_actions_are_reminded_a_batch_to_a_transaction_each_once(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    seeded: SeedReport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reminders, "BATCH", 2)
    late = [active_action(client, TODAY - timedelta(days=days)) for days in (1, 2, 3, 4, 5)]
    soon = [active_action(client, TODAY + timedelta(days=days)) for days in (0, 1, 2)]

    made = make_due(engine, settings)

    assert sorted((one.action_id, one.event.value) for one in made) == sorted(
        [(a, "overdue") for a in late] + [(a, "due_soon") for a in soon]
    )
    assert make_due(engine, settings) == []
