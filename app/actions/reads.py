"""Actions in their API shape, read with SQLAlchemy Core: one query for the columns ActionRead
needs (owner and proposer joined in), one for the themes of the page; no ORM objects, and the
JSON is written once by pydantic's serializer.

The hot read paths (list, get) go through here: hydrating ORM objects with their relationships
and validating each ActionRead again cost far more than the queries themselves."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
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
    OwnerRead,
    ProposerRead,
    is_overdue,
)
from app.actions.workflow import (
    KIND_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    ActionKind,
    Priority,
    Status,
)
from app.errors import NotFound
from app.pagination import Page, PageParams
from app.sources.models import Speech
from app.units.models import Unit

PAGE_JSON = TypeAdapter(Page[ActionRead])
ACTION_JSON = TypeAdapter(ActionRead)

_speech_unit = aliased(Unit)
# Copied as they are; kind and priority become their enums.
_COPIED = tuple(name for name in COPIED_FROM_ACTION if name not in ("kind", "priority"))


def select_reads(moment: Moment) -> Select[Any]:
    """The columns of ActionRead at the moment, for actions with their owner and proposer."""
    columns = [cast(ColumnElement[Any], getattr(Action, name)) for name in COPIED_FROM_ACTION]
    return (
        select(
            *columns,
            moment.status().label("status"),
            moment.progress().label("progress"),
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
    """ActionRead of each row of select_reads, overdue judged against today.

    Built without validation: every value comes typed from the database's own columns."""
    themes = themes_of(session, [row.id for row in rows])
    return [_read(row, themes.get(row.id, []), today) for row in rows]


def _read(row: Row[Any], themes: list[str], today: date) -> ActionRead:
    values = row._mapping
    status, kind, priority = Status(row.status), ActionKind(row.kind), Priority(row.priority)
    proposer = None
    if row.proposer_speech_id is not None:
        proposer = ProposerRead.model_construct(
            speaker=row.speaker, unit_id=row.speaker_unit_id, unit_name=row.speaker_unit_name
        )
    return ActionRead.model_construct(
        **{name: values[name] for name in _COPIED},
        kind=kind,
        kind_label=KIND_LABELS[kind],
        themes=themes,
        proposer=proposer,
        owner=OwnerRead.model_construct(id=row.owner_id, name=row.owner_name),
        status=status,
        status_label=STATUS_LABELS[status],
        priority=priority,
        priority_label=PRIORITY_LABELS[priority],
        progress=row.progress,
        overdue=is_overdue(row.due_on, status, today),
    )


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
