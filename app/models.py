"""Every table model, imported once so the metadata is complete (Alembic, tests)."""

from app.actions.models import Action, ActionCoOwner, ActionEvent, ActionTheme, Theme
from app.auth.models import ApiKey
from app.db import metadata
from app.evidence.models import Evidence
from app.extensions.models import Extension
from app.generation import DataGeneration
from app.notifications.models import Channel, Delivery, Notification
from app.reports.models import Report, ReportRun, ReportSchedule
from app.sources.models import Source, Speech
from app.units.models import Unit

__all__ = [
    "Action",
    "ActionCoOwner",
    "ActionEvent",
    "ActionTheme",
    "ApiKey",
    "Channel",
    "DataGeneration",
    "Delivery",
    "Evidence",
    "Extension",
    "Notification",
    "Report",
    "ReportRun",
    "ReportSchedule",
    "Source",
    "Speech",
    "Theme",
    "Unit",
    "metadata",
]
