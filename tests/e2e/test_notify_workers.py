"""Issue 16's acceptance: two `tashan serve` workers, each running the scheduler (make_due
every second) and a deliverer, plus concurrent `tashan notify run-due` processes, with
actions due soon and overdue and a channel pointing at a real receiver on loopback: each
(action, kind, day) message arrives exactly once."""

import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.actions.workflow import Status
from app.config import SEEDS_DIR
from app.notifications.models import ChannelKind, Delivery, DeliveryState, Notification
from app.reports.models import ReportSchedule
from app.seeding.service import seed_database
from tests.e2e.test_workers import serve_workers
from tests.helpers import TASHAN, TODAY, cli_env, run_tashan
from tests.notifications.helpers import Receiver, add_channel

# Days from today to the due date of the actions put under way, and what each earns today.
DUE_IN = {3: "due_soon", 1: "due_soon", 0: "due_soon", -1: "overdue", -9: "overdue", -30: "overdue"}
PER_DUE_DATE = 3  # actions with each due date
RUN_DUE_PROCESSES = 3


def actions_under_way(engine: Engine, batch: int) -> dict[int, str]:
    """Seeded actions of the batch (0, 1, …) put in progress with the due dates of DUE_IN;
    what each should get."""
    expected = {}
    per_batch = len(DUE_IN) * PER_DUE_DATE
    with Session(engine) as session:
        ids = session.exec(select(Action.id).order_by(col(Action.id))).all()
        chosen = iter(ids[batch * per_batch : (batch + 1) * per_batch])
        for days, event in DUE_IN.items():
            for _ in range(PER_DUE_DATE):
                action_id = next(chosen)
                session.exec(
                    update(Action)
                    .where(col(Action.id) == action_id)
                    .values(
                        status=Status.in_progress,
                        start_on=TODAY - timedelta(days=60),
                        due_on=TODAY + timedelta(days=days),
                    )
                )
                assert action_id is not None
                expected[action_id] = event
        # No reports to make: the workers' ticks are about reminders here.
        session.exec(update(ReportSchedule).values(enabled=False))
        session.commit()
    return expected


def run_due(database_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TASHAN, "notify", "run-due"],
        env=cli_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_and_cron_deliver_each_reminder_exactly_once(
    database_url: str, engine: Engine, admin_key: str, tmp_path: Path
) -> None:
    seed_database(engine, SEEDS_DIR)
    expected = actions_under_way(engine, 0)
    with Receiver.running() as receiver:
        add_channel(
            engine, ChannelKind.webhook, receiver.url + "/hook", events=tuple(DUE_IN.values())
        )
        # Cron starts while the workers start; then more actions fall due while the workers
        # tick every second and cron starts again.
        runs = [run_due(database_url) for _ in range(RUN_DUE_PROCESSES)]
        with serve_workers(database_url, tmp_path / "server.log", tmp_path / "exports"):
            expected |= actions_under_way(engine, 1)
            runs += [run_due(database_url) for _ in range(RUN_DUE_PROCESSES)]
            outputs = []
            for process in runs:
                out, err = process.communicate(timeout=300)
                assert process.returncode == 0, (out, err)
                outputs.append(out)
            receiver.wait_for(len(expected), timeout=120)
        last = run_tashan(database_url, "notify", "run-due")  # after the server stopped
        received = [request.json() for request in receiver.requests]

    assert last.stdout.splitlines() == [
        "no reminder due",
        "deliveries: 0 sent, 0 failed (to retry), 0 dead",
    ]
    per_message = Counter((body["action"]["id"], body["event"]) for body in received)
    assert per_message == Counter(expected.items())  # each exactly once, none missing
    assert {(body["event"], body["level"]) for body in received if body["event"] == "overdue"} == {
        ("overdue", 1),
        ("overdue", 2),
        ("overdue", 3),
    }
    with Session(engine) as session:
        notifications = session.exec(select(Notification)).all()
        deliveries = session.exec(select(Delivery)).all()
    assert Counter((n.action_id, n.event) for n in notifications) == Counter(expected.items())
    assert len(notifications) == len(expected)
    assert {(d.state, d.attempts) for d in deliveries} == {(DeliveryState.sent, 1)}
    by_cron = sum(
        line.startswith(("made due_soon", "made overdue"))
        for out in outputs
        for line in out.splitlines()
    )
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log
    print(f"{len(expected)} reminders, each delivered once; {by_cron} made by cron runs")
