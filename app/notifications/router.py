"""The HTTP layer of notifications: a supervisor's 催办 on an action. The work is done by
reminders.py."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import SupervisorDep
from app.config import SettingsDep
from app.db import WriteSessionDep
from app.errors import problem_responses
from app.fields import Id
from app.notifications import reminders
from app.notifications.schemas import ReminderCreate, ReminderRead

reminders_router = APIRouter(
    prefix="/actions/{action_id}/reminders", tags=["reminders"], responses=problem_responses(401)
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
