"""API shapes of channels, deliveries and a supervisor's 催办."""

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.fields import Id, Line, Name, Omittable, Prose, reject_null
from app.notifications.formats import receiver_problem
from app.notifications.models import (
    CHANNEL_EVENTS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryState,
    NotificationEvent,
)

# What a channel wants when it does not say: the reminders and 催办 themselves.
DEFAULT_EVENTS = [NotificationEvent.due_soon, NotificationEvent.overdue, NotificationEvent.reminder]
MASK = "****"
URL_PATTERN = r"^[hH][tT][tT][pP][sS]?://[^/?#\x00-\x20]+(?:[/?#][^\x00-\x20]*)?$"


def _http_url(value: str) -> str:
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces (percent-encode them as %20)")
    # urlsplit raises ValueError for a malformed host (http://[::1), .port for a bad port.
    problem = receiver_problem(value, allowed_hosts=[])
    if problem is not None:
        raise ValueError(problem)
    urlsplit(value).port  # noqa: B018
    return value


def _channel_events(value: list[NotificationEvent]) -> list[NotificationEvent]:
    if NotificationEvent.test in value:
        raise ValueError(f"must be among {', '.join(CHANNEL_EVENTS)}")
    return list(dict.fromkeys(value))


ReceiverUrl = Annotated[
    Line,
    AfterValidator(_http_url),
    Field(json_schema_extra={"pattern": URL_PATTERN, "format": "uri"}),
]
Events = Annotated[
    list[NotificationEvent],
    Field(
        min_length=1,
        json_schema_extra={"items": {"type": "string", "enum": list(CHANNEL_EVENTS)}},
    ),
    AfterValidator(_channel_events),
]
Secret = Annotated[Line, Field(max_length=500)]


class ChannelCreate(BaseModel):
    """A new channel: the whole office's (no unit_id) or one unit's."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "督查室企业微信群",
                    "kind": "wecom",
                    "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
                    "events": ["due_soon", "overdue", "reminder"],
                }
            ]
        },
    )

    name: Name
    kind: ChannelKind
    url: ReceiverUrl
    secret: Secret | None = Field(
        default=None,
        description="webhook: signs X-Tashan-Signature; dingtalk: the SEC… of 加签; "
        "wecom: none. Never shown again.",
    )
    unit_id: Id | None = None
    events: Events = Field(default_factory=lambda: list(DEFAULT_EVENTS))
    enabled: bool = True


class ChannelUpdate(BaseModel):
    """Changes to a channel; absent fields stay as they are. secret null removes it, unit_id
    null makes the channel the whole office's; a url sent back as read (masked) is kept."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False}]})

    name: Omittable[Name] = None
    kind: Omittable[ChannelKind] = None
    url: Omittable[ReceiverUrl] = None
    secret: Secret | None = None
    unit_id: Id | None = None
    events: Omittable[Events] = None
    enabled: Omittable[bool] = None

    _not_null = field_validator("name", "kind", "url", "events", "enabled")(reject_null)


def masked_url(url: str) -> str:
    """url with every query value and any password replaced by ****: a robot's URL carries
    its key (?key=, ?access_token=)."""
    parts = urlsplit(url)
    query = "&".join(
        f"{name}={MASK}" if sep else name
        for name, sep, _ in (item.partition("=") for item in parts.query.split("&") if item)
    )
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    return urlunsplit(parts._replace(netloc=netloc, query=query))


class ChannelRead(BaseModel):
    """A channel as the API shows it: its URL masked, its secret only as has_secret."""

    id: int
    name: str
    kind: ChannelKind
    url: str
    unit_id: int | None
    events: list[NotificationEvent]
    enabled: bool
    has_secret: bool
    created_at: datetime

    @classmethod
    def of(cls, channel: Channel) -> "ChannelRead":
        assert channel.id is not None
        return cls(
            id=channel.id,
            name=channel.name,
            kind=channel.kind,
            url=masked_url(channel.url),
            unit_id=channel.unit_id,
            events=[NotificationEvent(event) for event in channel.events],
            enabled=channel.enabled,
            has_secret=bool(channel.secret),
            created_at=channel.created_at,
        )


class DeliveryRead(BaseModel):
    """One notification's way to one channel. next_attempt_at: when it is (re)tried; null
    once sent or dead."""

    id: int
    channel_id: int
    event: NotificationEvent
    action_id: int | None
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> "DeliveryRead":
        values: dict[str, Any] = {name: getattr(delivery, name) for name in cls.model_fields}
        if delivery.state in (DeliveryState.sent, DeliveryState.dead):
            values["next_attempt_at"] = None
        return cls.model_validate(values)


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
