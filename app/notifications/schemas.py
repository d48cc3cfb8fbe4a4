"""What the API takes and gives for notifications."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.fields import Prose
from app.notifications.models import NotificationEvent


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must say what the unit is to do, not be blank")
    return value


class ReminderCreate(BaseModel):
    """A supervisor's 催办: what the unit is to do, and how pressing it is (level 1–3;
    default: the level of the automatic 催办 by weeks overdue, else 1)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"note": "请于本周五前报送办理进展", "level": 2}]},
    )

    note: Annotated[Prose, StringConstraints(min_length=1), AfterValidator(_not_blank)]
    level: Annotated[int, Field(ge=1, le=3)] | None = None


class ReminderRead(BaseModel):
    """A 催办 that was made: its message, and how many channels it goes to (deliveries).
    id is null when no channel wants reminders about the action: the 催办 is then on the
    timeline only."""

    id: int | None = Field(description="the notification's id; null: no channel wanted it")
    action_id: int
    event: NotificationEvent
    level: int
    note: str
    title: str
    text: str = Field(description="the message, markdown")
    created_by: str
    created_at: datetime
    deliveries: int = Field(description="channels the message goes to")
    event_id: int = Field(description="the reminded event on the action's timeline")
