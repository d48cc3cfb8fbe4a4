"""Reminders (提醒) before the due date and 催办 after it, automatic and manual.

Automatic ones are made by make_due, run by the scheduler inside `tashan serve` and by
`tashan notify run-due` (cron), as often as anyone likes:
- due_soon: once per action and due date, from remind_days_before days before it. Its day
  (the outbox's once-per-(action, event, day) key) is due_on − remind_days_before, whatever
  day it is made on: a run missed that day catches up later, and a due date that moves earns
  a reminder of its own.
- overdue: on the first day past due and every overdue_remind_every_days after, level 1 in
  the first week overdue, 2 in the second, 3 from the third on. Its day is the day of that
  cycle it belongs to, so a missed run catches up once.
Each one made leaves a reminded event on the timeline. A reminder does not change the action:
its version stays, so nobody's If-Match goes stale because the office sent a 催办."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, false
from sqlalchemy.orm import lazyload
from sqlmodel import Session, col, exists, select

from app import clock
from app.actions import service as action_service
from app.actions.derived import ACTIVE, DaysBetween
from app.actions.models import Action, ActionEvent, EventKind
from app.actions.workflow import CLOSED, STATUS_LABELS
from app.auth.schemas import Actor
from app.config import Settings
from app.db import SETTINGS, write_session
from app.errors import Conflict
from app.notifications import hooks, messages
from app.notifications.models import Notification, NotificationEvent
from app.notifications.outbox import notify
from app.notifications.schemas import ReminderCreate, ReminderRead
from app.units.models import Unit

SCHEDULER_ACTOR = Actor(name="scheduler")
DAYS_PER_LEVEL = 7
TOP_LEVEL = 3
BATCH = 50  # actions reminded in one transaction: about a second of SQLite's write lock


@dataclass(frozen=True)
class Made:
    """An automatic reminder made by this run."""

    action_id: int
    event: NotificationEvent
    level: int | None
    channels: int


def overdue_level(days_overdue: int) -> int:
    """1 in the first week overdue, 2 in the second, 3 from the third on."""
    return min(TOP_LEVEL, 1 + (days_overdue - 1) // DAYS_PER_LEVEL)


def overdue_day(due_on: date, today: date, every_days: int) -> date:
    """The day of the 催办 cycle today falls in: the first day past due, then every
    every_days after."""
    days_overdue = (today - due_on).days
    return due_on + timedelta(days=1 + (days_overdue - 1) // every_days * every_days)


def make_due(engine: Engine, settings: Settings, now: datetime | None = None) -> list[Made]:
    """Make every due_soon and overdue notification due on the office's day of now and not
    made yet, each with its reminded event, BATCH actions to a transaction (on SQLite the
    write lock is never held long, however many fall due at once). Concurrent runs make each
    once (the outbox's unique key); a run with nothing to do reads two index ranges."""
    today = (now or clock.now()).astimezone(settings.tz).date()
    kinds = (
        (_due_soon_where(settings, today), _make_due_soon),
        (_overdue_where(settings, today), _make_overdue),
    )
    made: list[Made | None] = []
    for where, make in kinds:
        with Session(engine) as session:
            ids = list(session.exec(select(col(Action.id)).where(*where)).all())
        for at in range(0, len(ids), BATCH):
            with write_session(engine) as session:
                session.info[SETTINGS] = settings
                batch = col(Action.id).in_(ids[at : at + BATCH])
                # Read again under the write: another run may have made some meanwhile.
                made += [
                    make(session, settings, a, today) for a in _candidates(session, [*where, batch])
                ]
    return [one for one in made if one is not None]


def _active() -> list[Any]:
    return [col(Action.status).in_(list(ACTIVE)), col(Action.archived) == false()]


def _made(event: NotificationEvent, *where: Any) -> Any:
    """SQL: the action already has an automatic notification of event meeting where."""
    return (
        exists()
        .where(
            col(Notification.action_id) == col(Action.id),
            col(Notification.event) == event,
            col(Notification.automatic),
            *where,
        )
        .correlate(Action)
    )


def _due_soon_where(settings: Settings, today: date) -> list[Any]:
    days = settings.remind_days_before
    return [
        *_active(),
        col(Action.due_on) >= today,
        col(Action.due_on) <= today + timedelta(days=days),
        ~_made(
            NotificationEvent.due_soon,
            DaysBetween(col(Action.due_on), col(Notification.day)) == days,
        ),
    ]


def _overdue_where(settings: Settings, today: date) -> list[Any]:
    # Made in the current cycle: a notification after the due date in the last every_days.
    cycle_start = today - timedelta(days=settings.overdue_remind_every_days)
    return [
        *_active(),
        col(Action.due_on) < today,
        ~_made(
            NotificationEvent.overdue,
            col(Notification.day) > cycle_start,
            col(Notification.day) > col(Action.due_on),
        ),
    ]


def _candidates(session: Session, where: list[Any]) -> list[Action]:
    # The message needs the action's own fields only; its lists load if a channel asks.
    return list(
        session.exec(
            select(Action)
            .where(*where)
            .options(
                lazyload(Action.themes),  # type: ignore[arg-type]
                lazyload(Action.co_owners),  # type: ignore[arg-type]
                lazyload(Action.speech),  # type: ignore[arg-type]
            )
            .order_by(col(Action.id))
        ).all()
    )


def _make_due_soon(
    session: Session, settings: Settings, action: Action, today: date
) -> Made | None:
    assert action.due_on is not None
    message = messages.due_soon(action, action.owner, settings, today)
    day = action.due_on - timedelta(days=settings.remind_days_before)
    return _make(session, action, NotificationEvent.due_soon, message, day, None)


def _make_overdue(session: Session, settings: Settings, action: Action, today: date) -> Made | None:
    assert action.due_on is not None
    day = overdue_day(action.due_on, today, settings.overdue_remind_every_days)
    level = overdue_level((day - action.due_on).days)
    message = messages.overdue(action, action.owner, settings, today, level)
    return _make(session, action, NotificationEvent.overdue, message, day, level)


def _make(
    session: Session,
    action: Action,
    event: NotificationEvent,
    message: messages.Message,
    day: date,
    level: int | None,
) -> Made | None:
    made = notify(
        session,
        event,
        title=message.title,
        text=message.text,
        created_by=SCHEDULER_ACTOR.name,
        day=day,
        action=action,
        level=level,
    )
    if made is None:
        return None  # another process made it first
    record_reminded(session, action, SCHEDULER_ACTOR, event, level, made[1])
    assert action.id is not None
    return Made(action.id, event, level, made[1])


def record_reminded(
    session: Session,
    action: Action,
    actor: Actor,
    event: NotificationEvent,
    level: int | None,
    channels: int,
    note: str | None = None,
) -> ActionEvent:
    """The reminded event on the action's timeline. Written by itself, not through
    action_service.record: a reminder changes nothing of the action, so its version (the
    ETag clients send back in If-Match) stays."""
    assert action.id is not None
    row = ActionEvent(
        action_id=action.id,
        at=clock.now(),
        actor=actor.name,
        actor_unit=actor.unit_name,
        kind=EventKind.reminded,
        changes={"event": event.value, "level": level, "channels": channels},
        note=note,
    )
    session.add(row)
    session.flush()
    hooks.event_recorded(session, action, row)
    return row


def send_reminder(
    session: Session, settings: Settings, action_id: int, data: ReminderCreate, actor: Actor
) -> ReminderRead:
    """A supervisor's 催办 on an action, sent now to its channels, with a reminded event.
    An archived, completed or declined action is not pressed (409)."""
    action = action_service.get_action(session, action_id)
    if action.archived:
        raise Conflict(f"action {action_id} is archived; there is no one to press", archived=True)
    if action.status in CLOSED:
        raise Conflict(
            f"action {action_id} is {action.status} ({STATUS_LABELS[action.status]}); a 催办 "
            "is for an action still open — reopen it first if work remains",
            current_status=action.status,
        )
    today = settings.today()
    level = data.level or _level_now(action, today)
    owner = session.get_one(Unit, action.owner_id)
    message = messages.reminder(
        action, owner, settings, today, note=data.note, level=level, by=actor.name
    )
    made = notify(
        session,
        NotificationEvent.reminder,
        title=message.title,
        text=message.text,
        created_by=actor.name,
        day=today,
        action=action,
        level=level,
    )
    channels = made[1] if made is not None else 0
    event = record_reminded(
        session, action, actor, NotificationEvent.reminder, level, channels, data.note
    )
    assert action.id is not None and event.id is not None
    return ReminderRead(
        id=made[0].id if made is not None else None,
        action_id=action.id,
        event=NotificationEvent.reminder,
        level=level,
        note=data.note,
        title=message.title,
        text=message.text,
        created_by=actor.name,
        created_at=event.at,
        deliveries=channels,
        event_id=event.id,
    )


def _level_now(action: Action, today: date) -> int:
    """The level of the automatic 催办 today: by weeks overdue; 1 when not overdue."""
    if action.due_on is None or action.due_on >= today:
        return 1
    return overdue_level((today - action.due_on).days)
