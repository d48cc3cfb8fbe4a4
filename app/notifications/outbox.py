"""Writing notifications to the outbox, in the caller's transaction: a change commits with
its notifications or not at all. Deliveries are made here too, one per matching channel; the
deliverer (app/notifications/delivery.py) sends them after commit."""

from datetime import date

from sqlalchemy import insert
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app import clock
from app.actions.models import Action, ActionCoOwner
from app.db import on_commit
from app.notifications.models import (
    AUTOMATIC_EVENTS,
    Channel,
    Delivery,
    Notification,
    NotificationEvent,
)
from app.notifications.wakeup import wake

_CHANNELS_KEY = "tashan.enabled_channels"


def enabled_channels(session: Session) -> list[Channel]:
    """The enabled channels, read once per transaction (they are few and change rarely; a
    seed or import of thousands of actions must not read them per action)."""
    cached = session.info.get(_CHANNELS_KEY)
    if cached is None:
        cached = list(session.exec(select(Channel).where(col(Channel.enabled))).all())
        session.info[_CHANNELS_KEY] = cached
    return cached


def forget_channels(session: Session) -> None:
    """After a channel is created, changed or deleted in this transaction."""
    session.info.pop(_CHANNELS_KEY, None)


def _action_unit_ids(session: Session, action: Action) -> set[int]:
    co_owner_ids = session.exec(
        select(ActionCoOwner.unit_id).where(col(ActionCoOwner.action_id) == action.id)
    ).all()
    return {action.owner_id, *co_owner_ids}


def channels_for(
    session: Session, event: NotificationEvent, action: Action | None
) -> list[Channel]:
    """The enabled channels that want the event: office-wide ones, and those of a unit that
    leads or cooperates on the action."""
    wanting = [c for c in enabled_channels(session) if event in c.events]
    office_wide = [c for c in wanting if c.unit_id is None]
    if action is None or len(office_wide) == len(wanting):
        return office_wide  # a message about no action (a report) goes to the office only
    unit_ids = _action_unit_ids(session, action)
    return office_wide + [c for c in wanting if c.unit_id in unit_ids]


def notify(
    session: Session,
    event: NotificationEvent,
    *,
    title: str,
    text: str,
    created_by: str,
    day: date,
    action: Action | None = None,
    level: int | None = None,
    report_id: int | None = None,
) -> tuple[Notification, int] | None:
    """Put a notification and its deliveries in the outbox; returns it with the number of
    channels it goes to.

    An automatic event is made at most once per (action, event, day): None when it already
    was, by this or any other process. Any other event with no channel to go to is not
    written at all (every timeline event would otherwise leave a row)."""
    automatic = event in AUTOMATIC_EVENTS
    channels = channels_for(session, event, action)
    if not automatic and not channels:
        return None
    values = {
        "event": event,
        "automatic": automatic,
        "day": day,
        "action_id": action.id if action is not None else None,
        "report_id": report_id,
        "level": level,
        "title": title,
        "text": text,
        "created_by": created_by,
        "created_at": clock.now(),
    }
    notification_id = _insert(session, values, once=automatic)
    if notification_id is None:
        return None
    notification = session.get_one(Notification, notification_id)
    for channel in channels:
        assert channel.id is not None
        session.add(
            Delivery(
                notification_id=notification_id,
                channel_id=channel.id,
                event=event,
                action_id=notification.action_id,
                next_attempt_at=notification.created_at,
            )
        )
    session.flush()
    if channels:
        on_commit(session, wake)  # the deliverer sends them once they are kept
    return notification, len(channels)


def _insert(session: Session, values: dict[str, object], *, once: bool) -> int | None:
    """INSERT … RETURNING id; with once, ON CONFLICT DO NOTHING on the automatic key, so a
    concurrent twin waits for the first and then writes nothing (None)."""
    if not once:
        return session.execute(
            insert(Notification).values(values).returning(col(Notification.id))
        ).scalar_one()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(Notification)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=["action_id", "event", "day"], index_where=sql_text("automatic")
        )
        .returning(col(Notification.id))
    )
    return session.execute(statement).scalar_one_or_none()
