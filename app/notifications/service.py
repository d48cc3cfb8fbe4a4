"""Use cases of channels and deliveries."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app import clock
from app.actions.models import Action
from app.config import Settings
from app.db import on_commit, write_session
from app.errors import Conflict, InvalidInput, NotFound
from app.notifications import delivery as deliverer
from app.notifications.delivery import DISABLED_ERROR, DUE_STATES
from app.notifications.formats import receiver_problem
from app.notifications.models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryState,
    Notification,
    NotificationEvent,
)
from app.notifications.outbox import forget_channels
from app.notifications.schemas import ChannelCreate, ChannelUpdate, masked_url
from app.notifications.wakeup import wake
from app.pagination import PageParams, sorted_page
from app.units.service import require_unit

TEST_TITLE = "他山测试消息"


def get_channel(session: Session, channel_id: int) -> Channel:
    """The channel with channel_id, or NotFound."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} does not exist")
    return channel


def list_channels(session: Session, page: PageParams) -> tuple[Sequence[Channel], int]:
    """A page of channels, by id, and their total."""
    return sorted_page(session, select(Channel), page, None, {}, col(Channel.id))


def create_channel(session: Session, settings: Settings, data: ChannelCreate) -> Channel:
    """A new channel, checked as a whole (see _check)."""
    channel = Channel(**data.model_dump())
    _check(session, settings, channel)
    session.add(channel)
    session.flush()
    forget_channels(session)
    return channel


def update_channel(
    session: Session, settings: Settings, channel_id: int, data: ChannelUpdate
) -> Channel:
    """Change a channel; a URL sent back masked, as read, leaves the URL as it is. Disabling
    it ends what it still had to send (dead, with the reason): a group switched off is not
    sent a backlog of stale 催办 when it is switched on again."""
    channel = get_channel(session, channel_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("url") == masked_url(channel.url):
        del changes["url"]
    disabling = channel.enabled and changes.get("enabled") is False
    channel.sqlmodel_update(changes)
    _check(session, settings, channel)
    session.add(channel)
    session.flush()
    if disabling:
        session.execute(
            update(Delivery)
            .where(col(Delivery.channel_id) == channel_id, col(Delivery.state).in_(DUE_STATES))
            .values(state=DeliveryState.dead, last_error=DISABLED_ERROR)
        )
    forget_channels(session)
    return channel


def delete_channel(session: Session, channel_id: int) -> None:
    """Delete a channel and its deliveries."""
    session.delete(get_channel(session, channel_id))
    session.flush()
    forget_channels(session)


def _check(session: Session, settings: Settings, channel: Channel) -> None:
    """A unique name, a unit that exists, a receiver the deployment allows, a secret only
    where one signs something. Nothing is flushed before: a changed channel is checked
    before it is written."""
    with session.no_autoflush:
        same_name = session.exec(select(Channel).where(Channel.name == channel.name)).first()
        unit_id = channel.unit_id
        if unit_id is not None:
            require_unit(session, unit_id, ["body", "unit_id"])
    if same_name is not None and same_name.id != channel.id:
        raise Conflict(
            f"a channel named {channel.name!r} already exists (id {same_name.id})",
            channel_id=same_name.id,
        )
    problem = receiver_problem(channel.url, settings.notify_allowed_hosts)
    if problem is not None:
        raise InvalidInput(problem, ["body", "url"])
    if channel.kind == ChannelKind.wecom and channel.secret:
        raise InvalidInput(
            "a 企业微信 robot takes no secret: its key is in the URL", ["body", "secret"]
        )


def send_test(engine: Engine, settings: Settings, channel_id: int, actor: str) -> Delivery:
    """Send a test message to a channel now (enabled or not) and return its delivery once
    the receiver has answered or the timeout has passed. Its own transactions: the delivery
    is kept, already claimed, before anything is sent."""
    with write_session(engine) as session:
        channel = get_channel(session, channel_id)
        notification = Notification(
            event=NotificationEvent.test,
            day=settings.today(),
            title=TEST_TITLE,
            text=f"通道“{channel.name}”已接通，督查提醒和催办将发到这里。[打开他山]({settings.public_url})",
            created_by=actor,
        )
        session.add(notification)
        session.flush()
        assert channel.id is not None
        delivery = deliverer.claimed_delivery(notification, channel.id)
        session.add(delivery)
        session.flush()
        delivery_id = delivery.id
    assert delivery_id is not None
    deliverer.send_claimed(engine, settings, delivery_id)
    with Session(engine) as session:
        return session.get_one(Delivery, delivery_id)


def get_delivery(session: Session, delivery_id: int) -> Delivery:
    """The delivery with delivery_id, or NotFound."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    return delivery


def list_deliveries(
    session: Session,
    page: PageParams,
    *,
    state: DeliveryState | None = None,
    channel_id: int | None = None,
    action_id: int | None = None,
    event: NotificationEvent | None = None,
) -> tuple[Sequence[Delivery], int]:
    """A page of the deliveries matching every filter given, newest first, and their total;
    InvalidInput when channel_id or action_id names what does not exist (as the actions'
    filters do): an empty page would read as "nothing was sent"."""
    _require_filtered(session, Channel, "channel", "channel_id", channel_id)
    _require_filtered(session, Action, "action", "action_id", action_id)
    query = select(Delivery)
    filters: dict[str, Any] = {
        "state": state,
        "channel_id": channel_id,
        "action_id": action_id,
        "event": event,
    }
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(Delivery, name) == value)
    return sorted_page(session, query, page, None, {}, col(Delivery.id).desc())


def _require_filtered(
    session: Session,
    table: type[Channel] | type[Action],
    noun: str,
    name: str,
    wanted: int | None,
) -> None:
    if wanted is not None and session.get(table, wanted) is None:
        raise InvalidInput(f"{name}: there is no {noun} {wanted}", ["query", name])


def retry_delivery(session: Session, delivery_id: int) -> Delivery:
    """Send a failed or dead delivery again now, with a fresh round of retries; a sent one
    never is (Conflict)."""
    delivery = get_delivery(session, delivery_id)
    if delivery.state == DeliveryState.sent:
        raise Conflict(
            f"delivery {delivery_id} was sent at {delivery.sent_at:%Y-%m-%d %H:%M:%S}Z and is "
            "never sent again",
            delivery_id=delivery_id,
        )
    if not get_channel(session, delivery.channel_id).enabled:
        raise Conflict(
            f"channel {delivery.channel_id} is disabled: enable it to send delivery "
            f"{delivery_id} again",
            delivery_id=delivery_id,
        )
    delivery.state = DeliveryState.pending
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    session.add(delivery)
    session.flush()
    on_commit(session, wake)
    return delivery
