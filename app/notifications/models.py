"""Channels, the outbox of notifications, and one delivery per notification and channel."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String, Text, text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class ChannelKind(StrEnum):
    """How a channel's messages are shaped and sent."""

    webhook = "webhook"  # JSON, signed with the channel's secret
    wecom = "wecom"  # 企业微信群机器人, markdown message
    dingtalk = "dingtalk"  # 钉钉群机器人, markdown message, signed URL when a secret is set


class NotificationEvent(StrEnum):
    """What a notification is about; a channel lists the events it wants."""

    due_soon = "due_soon"  # automatic, remind_days_before days before the due date
    overdue = "overdue"  # automatic 催办, from the first day past due, level 1–3
    reminder = "reminder"  # a supervisor's manual 催办
    submitted = "submitted"  # a unit asks to close; the office should review
    decided = "decided"  # the office approved or sent back
    changed = "changed"  # any timeline event (generic integrations)
    report = "report"  # a scheduled report was made
    test = "test"  # POST /api/v1/channels/{id}/test; no channel subscribes to it


# The events a channel may list.
CHANNEL_EVENTS = tuple(event for event in NotificationEvent if event != NotificationEvent.test)


AUTOMATIC_EVENTS = frozenset({NotificationEvent.due_soon, NotificationEvent.overdue})


class DeliveryState(StrEnum):
    """Where a delivery stands."""

    pending = "pending"  # not tried yet
    sent = "sent"  # a 2xx came back: never sent again
    failed = "failed"  # tried and failed; will retry at next_attempt_at
    dead = "dead"  # refused (4xx) or out of retries


class Channel(SQLModel, table=True):
    """A receiver of notifications: the whole office's (unit_id null) or one unit's."""

    __tablename__ = "channels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(100), unique=True)
    kind: ChannelKind = Field(sa_type=String(10))
    url: str = Field(sa_type=Text)
    secret: str | None = Field(default=None, sa_type=Text)  # write-only through the API
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    events: list[str] = Field(sa_type=JSON)
    enabled: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """One message in the outbox, written in the transaction of what caused it.

    An automatic one (due_soon, overdue) exists at most once per (action, event, day): the
    partial unique index holds that under any number of processes and cron runs."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ux_notifications_automatic",
            "action_id",
            "event",
            "day",
            unique=True,
            sqlite_where=text("automatic"),
            postgresql_where=text("automatic"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event: NotificationEvent = Field(sa_type=String(20))
    automatic: bool = False
    day: date  # the office's day it was made for
    action_id: int | None = Field(
        default=None, foreign_key="actions.id", index=True, ondelete="CASCADE"
    )
    report_id: int | None = Field(default=None, foreign_key="reports.id", ondelete="CASCADE")
    level: int | None = None  # 催办 level 1–3
    title: str = Field(sa_type=String(200))
    text: str = Field(sa_type=Text)  # markdown, in Chinese, with a link to the action
    created_by: str = Field(sa_type=String(100))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """A notification on its way to one channel: claimed, sent, retried, or dead."""

    __tablename__ = "deliveries"
    # The deliverer's claim: due deliveries in order of when they are due.
    __table_args__ = (Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id", index=True, ondelete="CASCADE")
    channel_id: int = Field(foreign_key="channels.id", index=True, ondelete="CASCADE")
    # Copied from the notification so the delivery log filters without a join.
    event: NotificationEvent = Field(sa_type=String(20))
    action_id: int | None = Field(default=None, index=True)
    state: DeliveryState = Field(default=DeliveryState.pending, sa_type=String(10))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_status: int | None = None  # the receiver's HTTP status on the last attempt
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
