"""Extension requests (延期申请): the only way an editor moves a due date once it is set."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, text
from sqlmodel import Field, SQLModel

from app import clock
from app.db import UTCDateTime


class ExtensionState(StrEnum):
    """Where a request stands; only a pending one can be decided."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class Extension(SQLModel, table=True):
    """A unit's request to move an action's due date, and the supervisor's decision."""

    __tablename__ = "action_extensions"
    __table_args__ = (
        # At most one pending request per action, held by the database under any concurrency.
        Index(
            "ux_action_extensions_pending",
            "action_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="actions.id", index=True, ondelete="CASCADE")
    from_due_on: date
    new_due_on: date
    reason: str = Field(sa_type=Text)
    late: bool  # asked after the due date had passed
    state: ExtensionState = Field(default=ExtensionState.pending, sa_type=String(10), index=True)
    requested_by: str = Field(sa_type=String(100))
    requested_unit: str | None = Field(default=None, sa_type=String(200))
    requested_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, sa_type=String(100))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, sa_type=Text)
