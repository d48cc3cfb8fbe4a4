"""The outbox: a notification and its deliveries are written in the caller's transaction,
an automatic one at most once per (action, event, day), and one delivery per channel that
wants the event and covers the action's units."""

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.actions.models import Action
from app.notifications.models import (
    Channel,
    ChannelKind,
    Delivery,
    Notification,
    NotificationEvent,
)
from app.notifications.outbox import notify
from app.seeding.service import SeedReport
from tests.helpers import TODAY


def add_channel(session: Session, name: str, events: list[str], unit_id: int | None) -> None:
    session.add(
        Channel(
            name=name,
            kind=ChannelKind.webhook,
            url="http://127.0.0.1:9/hook",
            unit_id=unit_id,
            events=events,
        )
    )
    session.commit()


def first_action(session: Session) -> Action:
    return session.exec(select(Action).order_by(col(Action.id))).first()  # type: ignore[return-value]


def overdue(session: Session, action: Action) -> tuple[Notification, int] | None:
    return notify(
        session,
        NotificationEvent.overdue,
        title="催办",
        text="请尽快办理",
        created_by="scheduler",
        day=TODAY,
        action=action,
        level=1,
    )


def test_an_automatic_notification_is_made_once_a_day(engine: Engine, seeded: SeedReport) -> None:
    with Session(engine) as session:
        action = first_action(session)
        add_channel(session, "office", ["overdue"], None)
        add_channel(session, "owner", ["overdue"], action.owner_id)
        add_channel(session, "other unit", ["overdue"], action.owner_id + 1)
        add_channel(session, "reviews only", ["submitted"], None)
        made = overdue(session, action)
        assert made is not None and made[1] == 2
        assert overdue(session, action) is None
        session.commit()
    with Session(engine) as session:
        assert overdue(session, first_action(session)) is None
        assert session.exec(select(func.count()).select_from(Notification)).one() == 1
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 2


def test_a_rolled_back_change_leaves_nothing_in_the_outbox(
    engine: Engine, seeded: SeedReport
) -> None:
    with Session(engine) as session:
        add_channel(session, "office", ["overdue", "changed"], None)
        assert overdue(session, first_action(session)) is not None
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Notification)).one() == 0
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 0


def test_an_event_no_channel_wants_is_not_written(engine: Engine, seeded: SeedReport) -> None:
    with Session(engine) as session:
        made = notify(
            session,
            NotificationEvent.changed,
            title="动态",
            text="进度 50%",
            created_by="tester",
            day=TODAY,
            action=first_action(session),
        )
        assert made is None
        assert session.exec(select(func.count()).select_from(Notification)).one() == 0
