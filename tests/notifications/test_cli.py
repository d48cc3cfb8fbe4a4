"""`tashan notify run-due` as cron runs it: it makes what is due and sends it, saying so,
and a second run finds nothing left."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.notifications.models import ChannelKind
from app.seeding.schemas import SeedReport
from tests.helpers import TODAY, run_tashan
from tests.notifications.helpers import Receiver, add_channel
from tests.notifications.test_reminders import active_action


def test_run_due_makes_and_sends_each_reminder_once(
    client: TestClient, engine: Engine, database_url: str, seeded: SeedReport
) -> None:
    soon = active_action(client, TODAY + timedelta(days=3), "测试事项：三天后到期")
    late = active_action(client, TODAY - timedelta(days=8), "测试事项：逾期八天")
    with Receiver.running() as receiver:
        add_channel(
            engine, ChannelKind.webhook, receiver.url + "/hook", events=("due_soon", "overdue")
        )

        first = run_tashan(database_url, "notify", "run-due")
        second = run_tashan(database_url, "notify", "run-due")

        assert first.returncode == 0, first.stderr
        assert first.stdout.splitlines() == [
            f"made due_soon for action {soon} (1 channels)",
            f"made overdue level 2 for action {late} (1 channels)",
            "made 2 reminders",
            "deliveries: 2 sent, 0 failed (to retry), 0 dead",
        ]
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines() == [
            "no reminder due",
            "deliveries: 0 sent, 0 failed (to retry), 0 dead",
        ]
        bodies = [request.json() for request in receiver.requests]
    assert sorted((b["event"], b["action"]["id"], b["level"]) for b in bodies) == [
        ("due_soon", soon, None),
        ("overdue", late, 2),
    ]
