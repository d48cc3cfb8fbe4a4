"""HTTP layer of channels and deliveries (admin), and a supervisor's 催办 on an action."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.auth.dependencies import AdminDep, SupervisorDep
from app.config import SettingsDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.fields import Id
from app.notifications import reminders, service
from app.notifications.models import DeliveryState, NotificationEvent
from app.notifications.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    DeliveryRead,
    ReminderCreate,
    ReminderRead,
)
from app.pagination import Page, PageDep, make_page, set_link_header

router = APIRouter(
    prefix="/channels", tags=["notifications"], responses=problem_responses(401, 403)
)
deliveries_router = APIRouter(
    prefix="/deliveries", tags=["notifications"], responses=problem_responses(401, 403)
)
ChannelId = Annotated[Id, Path()]


@router.get("", summary="List channels", responses=problem_responses(422))
def list_channels(
    _: AdminDep, request: Request, response: Response, session: SessionDep, page: PageDep
) -> Page[ChannelRead]:
    """Where reminders and 催办 go: 企业微信 and 钉钉 group robots, webhooks; by id."""
    rows, total = service.list_channels(session, page)
    set_link_header(request, response, page, total)
    return make_page([ChannelRead.of(row) for row in rows], total, page)


@router.post("", status_code=201, summary="Create a channel", responses=problem_responses(409, 422))
def create_channel(
    _: AdminDep,
    data: ChannelCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> ChannelRead:
    """A channel of the whole office (no unit_id) or of one unit (messages about the actions
    it leads or cooperates on), for the events it lists. Only http and https receivers, on a
    host of TASHAN_NOTIFY_ALLOWED_HOSTS when that is set."""
    channel = ChannelRead.of(service.create_channel(session, settings, data))
    response.headers["Location"] = request.app.url_path_for("get_channel", channel_id=channel.id)
    return channel


@router.get("/{channel_id}", summary="Get a channel", responses=problem_responses(404, 422))
def get_channel(_: AdminDep, channel_id: ChannelId, session: SessionDep) -> ChannelRead:
    """One channel; its URL's query values masked, its secret never shown."""
    return ChannelRead.of(service.get_channel(session, channel_id))


@router.patch(
    "/{channel_id}", summary="Update a channel", responses=problem_responses(404, 409, 422)
)
def update_channel(
    _: AdminDep,
    channel_id: ChannelId,
    data: ChannelUpdate,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> ChannelRead:
    """Change a channel; secret null removes it, unit_id null makes it the office's."""
    return ChannelRead.of(service.update_channel(session, settings, channel_id, data))


@router.delete(
    "/{channel_id}",
    status_code=204,
    summary="Delete a channel",
    responses=problem_responses(404, 422),
)
def delete_channel(_: AdminDep, channel_id: ChannelId, session: WriteSessionDep) -> Response:
    """Delete a channel and its delivery log; nothing more is sent to it."""
    service.delete_channel(session, channel_id)
    return Response(status_code=204)


@router.post(
    "/{channel_id}/test",
    summary="Send a test message",
    responses=problem_responses(404, 422),
)
def test_channel(
    admin: AdminDep, channel_id: ChannelId, request: Request, settings: SettingsDep
) -> DeliveryRead:
    """Send a test message to the channel now and return its delivery: sent, or why not
    (last_status, last_error). Waits for the receiver at most 5 seconds."""
    engine = request.app.state.engine
    return DeliveryRead.of(service.send_test(engine, settings, channel_id, admin.name))


@deliveries_router.get("", summary="List deliveries", responses=problem_responses(422))
def list_deliveries(
    _: AdminDep,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    state: DeliveryState | None = None,
    channel_id: Id | None = None,
    action_id: Id | None = None,
    event: NotificationEvent | None = None,
) -> Page[DeliveryRead]:
    """Each notification's way to each channel, newest first: pending, sent, failed (to be
    retried at next_attempt_at) or dead."""
    rows, total = service.list_deliveries(
        session, page, state=state, channel_id=channel_id, action_id=action_id, event=event
    )
    set_link_header(request, response, page, total)
    return make_page([DeliveryRead.of(row) for row in rows], total, page)


@deliveries_router.post(
    "/{delivery_id}/retry",
    summary="Retry a delivery",
    responses=problem_responses(404, 409, 422),
)
def retry_delivery(
    _: AdminDep, delivery_id: Annotated[Id, Path()], session: WriteSessionDep
) -> DeliveryRead:
    """Send a failed or dead delivery again now, with a fresh round of retries; 409 for one
    already sent (never sent twice)."""
    return DeliveryRead.of(service.retry_delivery(session, delivery_id))


reminders_router = APIRouter(
    prefix="/actions/{action_id}/reminders",
    tags=["notifications"],
    responses=problem_responses(401),
)

ActionId = Annotated[Id, Path(description="action id", examples=[1])]


@reminders_router.post(
    "",
    status_code=201,
    summary="Send a 催办 now",
    responses=problem_responses(403, 404, 409, 422),
)
def send_reminder(
    supervisor: SupervisorDep,
    action_id: ActionId,
    data: ReminderCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> ReminderRead:
    """督查: press the units of an open action with a note, sent now to the channels that
    want reminders about it (the office's and those of its lead and cooperating units), and
    a reminded event on its timeline. level 1–3 defaults to the automatic 催办's by weeks
    overdue (1 when not overdue). The action's version does not change. An archived,
    completed or declined action: 409."""
    return reminders.send_reminder(session, settings, action_id, data, supervisor.actor)
