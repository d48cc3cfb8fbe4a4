"""The tables of actions: the action itself, its themes and its append-only event timeline.

A new stored field of an action is a column of Action here, with an Alembic migration
(migrations/versions); how the API shows it is decided in schemas.ActionRead and
reads.action_read, and whether clients may write it in schemas.ActionCreate / ActionUpdate.
Every change to an action is written with an ActionEvent saying who, when, before and
after (service.record)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, Relationship, SQLModel

from app import clock
from app.actions.workflow import ActionKind, Priority, Status
from app.db import UTCDateTime
from app.sources.models import Speech
from app.units.models import Unit

_version_column = Column("version", Integer, nullable=False)


class ActionTheme(SQLModel, table=True):
    """Links an action to a theme."""

    __tablename__ = "action_themes"

    action_id: int = Field(foreign_key="actions.id", primary_key=True, ondelete="CASCADE")
    theme_id: int = Field(foreign_key="themes.id", primary_key=True, index=True)


class ActionCoOwner(SQLModel, table=True):
    """Links an action to a cooperating unit (配合单位); never its lead unit (owner_id)."""

    __tablename__ = "action_co_owners"

    action_id: int = Field(foreign_key="actions.id", primary_key=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="units.id", primary_key=True, index=True)


class Theme(SQLModel, table=True):
    """A theme tag such as 招商引资."""

    __tablename__ = "themes"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(50), unique=True)


class Action(SQLModel, table=True):
    """One trackable proposal (事项), anchored to a verbatim quote of its source."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("source_id", "seed_key"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("quote_start >= 0 AND quote_end > quote_start", name="quote_span"),
        # Counts a list filtered by status from the index alone.
        Index("ix_actions_status_archived", "status", "archived"),
        # /stats: the per-unit tallies, stale count included, from the index alone; the stale
        # count alone (between writes, the rest kept) from ix_actions_stale.
        Index(
            "ix_actions_unit_tallies",
            "archived",
            "owner_id",
            "status",
            "progress",
            "due_on",
            "start_on",
            "updated_at",
        ),
        Index("ix_actions_stale", "archived", "updated_at", "status"),
    )
    # The ORM adds "AND version = :loaded" to every UPDATE and raises StaleDataError on a miss.
    __mapper_args__ = {"version_id_col": _version_column}

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    speech_id: int | None = Field(default=None, foreign_key="speeches.id", index=True)
    seed_key: str | None = Field(default=None, sa_type=String(100))
    title: str = Field(sa_type=String(200))
    detail: str | None = Field(default=None, sa_type=Text)
    kind: ActionKind = Field(sa_type=String(20))
    quote: str = Field(sa_type=Text)
    quote_start: int
    quote_end: int
    owner_id: int = Field(foreign_key="units.id", index=True)
    assignee: str | None = Field(default=None, sa_type=String(200))
    leader: str | None = Field(default=None, sa_type=Text)
    status: Status = Field(default=Status.proposed, sa_type=String(20), index=True)
    priority: Priority = Field(default=Priority.medium, sa_type=String(10))
    progress: int = 0
    due_on: date | None = Field(default=None, index=True)
    # The first due date ever set; due_on moves later only through approved extensions.
    original_due_on: date | None = None
    extension_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    start_on: date | None = None
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime, index=True)
    version: int = Field(default=1, sa_column=_version_column)
    archived: bool = Field(default=False, index=True)

    owner: Unit = Relationship(sa_relationship_kwargs={"lazy": "joined", "innerjoin": True})
    co_owners: list[Unit] = Relationship(
        link_model=ActionCoOwner,
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "Unit.name, Unit.id"},
    )
    speech: Speech | None = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
    themes: list[Theme] = Relationship(
        link_model=ActionTheme,
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "Theme.name"},
    )


class EventKind(StrEnum):
    """What an event records."""

    created = "created"
    updated = "updated"
    transition = "transition"
    progress = "progress"
    archived = "archived"
    evidence = "evidence"  # an evidence file uploaded or withdrawn
    extension_requested = "extension_requested"
    extension_decided = "extension_decided"
    reminded = "reminded"  # a reminder or 催办 was made: event, level and channels in changes


def signed(actor: str, actor_unit: str | None) -> str:
    """An actor as people read it: 李四（区科技创新局） for a unit's key, else the name."""
    return actor + (f"（{actor_unit}）" if actor_unit else "")


class ActionEvent(SQLModel, table=True):
    """One append-only entry (动态) of an action's timeline: who, when, before and after."""

    __tablename__ = "action_events"
    # The last event before a moment (stale, as-of reads) from the index alone; an action's
    # latest note (reports) from its few notes rather than from every event of its timeline.
    __table_args__ = (
        Index("ix_action_events_action_id_at", "action_id", "at"),
        Index(
            "ix_action_events_notes",
            "action_id",
            "id",
            sqlite_where=text("note IS NOT NULL"),
            postgresql_where=text("note IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="actions.id", index=True)
    at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    actor: str = Field(sa_type=String(100))
    actor_unit: str | None = Field(default=None, sa_type=String(200))  # the unit key's unit
    kind: EventKind = Field(sa_type=String(20))
    from_status: Status | None = Field(default=None, sa_type=String(20))
    to_status: Status | None = Field(default=None, sa_type=String(20))
    changes: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    note: str | None = Field(default=None, sa_type=Text)
    progress: int | None = None
    evidence_url: str | None = Field(default=None, sa_type=String(2000))

    @property
    def signed(self) -> str:
        """Who made the event: the actor, with its unit when a unit's key acted."""
        return signed(self.actor, self.actor_unit)
