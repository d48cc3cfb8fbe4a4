"""What changes tell the channels, in the change's own transaction: every timeline event
(changed), a request to close (submitted), the review's decision (decided), a scheduled
report (report); nothing when the change is rolled back, nothing written when no channel
wants it."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.actions import service as action_service
from app.actions.models import Action
from app.auth.schemas import Actor
from app.config import Settings
from app.notifications.models import ChannelKind, Delivery, Notification
from app.reports import service as report_service
from app.seeding.schemas import SeedReport
from tests.helpers import (
    TODAY,
    attach_evidence,
    transitioned,
    write_action,
)
from tests.notifications.helpers import add_channel
from tests.notifications.test_reminders import HOOK, active_action
from tests.reports.test_service import install_with_history, only, shanghai

REVIEW_LOOP = ("changed", "submitted", "decided")


def outbox(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.id))).all())


def test_the_review_loop_tells_submitted_and_decided_and_every_event_changed(
    client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    add_channel(engine, ChannelKind.webhook, HOOK, events=REVIEW_LOOP)
    action_id = active_action(client, TODAY + timedelta(days=30))
    transitioned(client, action_id, "in_progress")
    attach_evidence(client, action_id)
    write_action(client, action_id, "updates", {"note": "方案已印发", "progress": 60})
    start = len(outbox(engine))
    transitioned(client, action_id, "submitted", "已全部完成，申请办结")
    transitioned(client, action_id, "in_progress", "佐证不足，请补充")
    transitioned(client, action_id, "submitted", "已补充")
    transitioned(client, action_id, "completed", "同意办结")

    made = [(n.event, n.title.split("：")[0]) for n in outbox(engine)[start:]]
    assert made == [
        ("changed", "任务动态"),
        ("submitted", "申请办结"),
        ("changed", "任务动态"),
        ("decided", "退回重办"),
        ("changed", "任务动态"),
        ("submitted", "申请办结"),
        ("changed", "任务动态"),
        ("decided", "审核通过"),
    ]
    texts = [n.text for n in outbox(engine)]
    assert any("说明：已全部完成，申请办结" in t for t in texts)
    assert any("意见：佐证不足，请补充" in t for t in texts)
    progress = [t for t in texts if "方案已印发" in t]
    assert progress and "进度 0 → 60" in progress[0], progress
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Delivery)).one() == len(texts)


def test_a_rolled_back_change_leaves_no_notification(engine: Engine, seeded: SeedReport) -> None:
    add_channel(engine, ChannelKind.webhook, HOOK, events=("changed",))
    with Session(engine) as session:
        action = session.exec(select(Action).order_by(col(Action.id))).first()
        assert action is not None
        action_service.apply_progress_update(session, action, "写了又撤回", 30, Actor("editor"))
        session.flush()
        assert len(session.exec(select(Notification)).all()) == 1  # in the transaction
        session.rollback()
    assert outbox(engine) == []
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 0


def test_no_channel_wanting_changes_writes_nothing_for_them(
    client: TestClient, engine: Engine, seeded: SeedReport
) -> None:
    add_channel(engine, ChannelKind.webhook, HOOK, events=("report",))
    action_id = active_action(client, TODAY + timedelta(days=30))
    write_action(client, action_id, "updates", {"note": "推进中", "progress": 10})
    assert outbox(engine) == []


def test_a_scheduled_report_tells_the_office_with_links_to_its_files(
    engine: Engine, settings: Settings
) -> None:
    add_channel(engine, ChannelKind.dingtalk, HOOK + "?access_token=1", events=("report",))
    install_with_history(engine)
    only(engine, "weekly")
    public = settings.model_copy(update={"public_url": "https://ducha.example.gov.cn"})

    reports = report_service.run_due(engine, public, now=shanghai("2026-01-12T09:00"))

    notifications = outbox(engine)
    assert len(reports) == 4 and len(notifications) == 2  # two weeks, two formats each
    first = notifications[0]
    assert first.event == "report" and first.action_id is None
    assert first.title == "报表已生成：一周一汇总（2025-12-29 至 2026-01-04）"
    for report in reports[:2]:
        link = f"[{report.file_name}](https://ducha.example.gov.cn/api/v1/reports/{report.id}/file)"
        assert link in first.text
