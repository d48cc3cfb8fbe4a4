"""What a change tells the channels, in the change's own transaction: every timeline event
of an action (changed), a request to close (submitted), the review's decision (decided),
and a scheduled report made (report). Cheap when no channel wants the event: the seed and
imports record thousands of events."""

from sqlmodel import Session

from app.actions.models import Action, ActionEvent, EventKind
from app.actions.workflow import Status
from app.config import Settings, get_settings
from app.db import SETTINGS
from app.notifications import messages
from app.notifications.models import NotificationEvent
from app.notifications.outbox import channels_for, notify
from app.reports.models import Report
from app.units.models import Unit


def session_settings(session: Session) -> Settings:
    """The settings of the app whose request session serves, else the environment's."""
    settings = session.info.get(SETTINGS)
    if settings is None:
        settings = session.info[SETTINGS] = get_settings()
    return settings


def event_recorded(session: Session, action: Action, event: ActionEvent) -> None:
    """Notify the channels that want to hear of event on action."""
    for kind in _events_of(event):
        if not channels_for(session, kind, action):
            continue
        settings = session_settings(session)
        today = settings.today()
        owner = session.get_one(Unit, action.owner_id)
        if kind == NotificationEvent.submitted:
            message = messages.submitted(
                action, owner, settings, today, note=event.note, by=event.actor
            )
        elif kind == NotificationEvent.decided:
            approved = event.to_status == Status.completed
            message = messages.decided(
                action, owner, settings, today, approved=approved, note=event.note, by=event.actor
            )
        else:
            message = messages.changed(action, owner, settings, today, event)
        notify(
            session,
            kind,
            title=message.title,
            text=message.text,
            created_by=event.actor,
            day=today,
            action=action,
        )


def _events_of(event: ActionEvent) -> list[NotificationEvent]:
    events = [NotificationEvent.changed]
    if event.kind == EventKind.transition and event.to_status == Status.submitted:
        events.append(NotificationEvent.submitted)
    if event.kind == EventKind.transition and event.from_status == Status.submitted:
        events.append(NotificationEvent.decided)  # approved, or sent back to in_progress
    return events


def reports_made(
    session: Session, settings: Settings, schedule: str, reports: list[Report], actor: str
) -> None:
    """Tell the office's channels that want it that a scheduled report was made."""
    if not reports or not channels_for(session, NotificationEvent.report, None):
        return
    session.flush()  # the reports' ids, for the links
    message = messages.report(reports, schedule, settings)
    notify(
        session,
        NotificationEvent.report,
        title=message.title,
        text=message.text,
        created_by=actor,
        day=settings.today(),
        report_id=reports[0].id,
    )
