"""Actions in their API shape, read with SQLAlchemy Core: one query for the columns ActionRead
needs (owner and proposer joined in), one for the themes of the page; no ORM objects, and the
JSON is written once by pydantic's serializer.

The hot read paths (list, get) go through here: hydrating ORM objects with their relationships
and validating each ActionRead again cost far more than the queries themselves."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Row, Select, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.actions import listing
from app.actions.listing import Moment
from app.actions.models import Action, ActionTheme, Theme
from app.actions.schemas import (
    COPIED_FROM_ACTION,
    ActionFilters,
    ActionRead,
    is_overdue,
)
from app.actions.workflow import (
    KIND_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    Status,
)
from app.errors import NotFound
from app.pagination import Page, PageParams
from app.sources.models import Speech
from app.units.models import Unit

READS = TypeAdapter(list[ActionRead])
PAGE_JSON = TypeAdapter(Page[ActionRead])
ACTION_JSON = TypeAdapter(ActionRead)

_speech_unit = aliased(Unit)


def select_reads(moment: Moment) -> Select[Any]:
    """The columns of ActionRead at the moment, for actions with their owner and proposer."""
    if moment.as_of is None:
        return _select_reads_now()
    return _select_reads(moment.status(), moment.progress())


@cache
def _select_reads_now() -> Select[Any]:
    # Built once: building a statement costs more than running it on an indexed page.
    return _select_reads(
        cast(ColumnElement[Any], Action.status), cast(ColumnElement[Any], Action.progress)
    )


def _select_reads(status: ColumnElement[Any], progress: ColumnElement[Any]) -> Select[Any]:
    columns = [cast(ColumnElement[Any], getattr(Action, name)) for name in COPIED_FROM_ACTION]
    return (
        select(
            *columns,
            status.label("status"),
            progress.label("progress"),
            col(Action.owner_id),
            col(Unit.name).label("owner_name"),
            col(Speech.id).label("proposer_speech_id"),
            col(Speech.speaker).label("speaker"),
            col(Speech.unit_id).label("speaker_unit_id"),
            col(_speech_unit.name).label("speaker_unit_name"),
        )
        .join(Unit, col(Unit.id) == col(Action.owner_id))
        .outerjoin(Speech, col(Speech.id) == col(Action.speech_id))
        .outerjoin(_speech_unit, col(_speech_unit.id) == col(Speech.unit_id))
    )


def themes_of(session: Session, action_ids: Sequence[int]) -> dict[int, list[str]]:
    """The theme names of each action, by name."""
    themes: dict[int, list[str]] = defaultdict(list)
    if not action_ids:
        return themes
    rows = session.execute(
        select(col(ActionTheme.action_id), col(Theme.name))
        .join(Theme, col(Theme.id) == col(ActionTheme.theme_id))
        .where(col(ActionTheme.action_id).in_(action_ids))
        .order_by(col(Theme.name))
    )
    for action_id, name in rows:
        themes[action_id].append(name)
    return themes


def to_reads(session: Session, rows: Sequence[Row[Any]], today: date) -> list[ActionRead]:
    """ActionRead of each row of select_reads, overdue judged against today."""
    themes = themes_of(session, [row.id for row in rows])
    # Validating plain dicts in one call is faster than constructing each model in Python.
    return READS.validate_python([_read(row, themes.get(row.id, []), today) for row in rows])


def _read(row: Row[Any], themes: list[str], today: date) -> dict[str, Any]:
    values = row._mapping
    proposer = None
    if row.proposer_speech_id is not None:
        proposer = {
            "speaker": row.speaker,
            "unit_id": row.speaker_unit_id,
            "unit_name": row.speaker_unit_name,
        }
    return {
        **{name: values[name] for name in COPIED_FROM_ACTION},
        # The label maps are keyed by StrEnums, which hash and compare as their text.
        "kind_label": KIND_LABELS[row.kind],
        "themes": themes,
        "proposer": proposer,
        "owner": {"id": row.owner_id, "name": row.owner_name},
        "status": row.status,
        "status_label": STATUS_LABELS[row.status],
        "priority_label": PRIORITY_LABELS[row.priority],
        "progress": row.progress,
        "overdue": is_overdue(row.due_on, Status(row.status), today),
    }


def page_json(items: list[ActionRead], total: int, page: PageParams) -> bytes:
    """The JSON of a Page of actions, as the response model would write it."""
    return PAGE_JSON.dump_json(
        Page[ActionRead].model_construct(
            items=items, total=total, limit=page.limit, offset=page.offset
        )
    )


def read_page(
    session: Session, filters: ActionFilters, page: PageParams, sort: str | None, moment: Moment
) -> tuple[list[ActionRead], int]:
    """A page of the actions filters select, at the moment, and how many there are in all."""
    query = listing.selecting(select_reads(moment), filters, sort, moment, page)
    items = to_reads(session, session.execute(query).all(), moment.today)
    return items, listing.count_actions(session, filters, moment)


def read_action(session: Session, action_id: int, moment: Moment) -> ActionRead:
    """The action with action_id (archived ones too) at the moment, or NotFound."""
    row = session.execute(select_reads(moment).where(col(Action.id) == action_id)).first()
    if row is None:
        raise NotFound(f"action {action_id} does not exist")
    return to_reads(session, [row], moment.today)[0]
