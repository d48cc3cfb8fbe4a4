"""The use cases of extension requests (延期申请): asking for a later due date, deciding a
request, and reading them. Once an action has a due date an editor moves it only this way
(actions.service.due_date_problem refuses it through PATCH and imports).

Each change leaves an event on the action's timeline through actions.service.record, in the
caller's transaction: extension_requested (the dates and the reason in its note) and
extension_decided (an approval's changes to due_on and extension_count, and the note)."""

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import clock
from app.actions import service as action_service
from app.actions.models import Action, EventKind
from app.actions.workflow import CLOSED, STATUS_LABELS, Status
from app.auth.schemas import Actor
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions.models import Extension, ExtensionState
from app.extensions.schemas import ExtensionCreate, ExtensionDecision, ExtensionFilters
from app.pagination import PageParams, sorted_page

SORTABLE: dict[str, Any] = {
    "id": col(Extension.id),
    "action_id": col(Extension.action_id),
    "requested_at": col(Extension.requested_at),
    "decided_at": col(Extension.decided_at),
    "from_due_on": col(Extension.from_due_on),
    "new_due_on": col(Extension.new_due_on),
}


def get_extension(session: Session, action_id: int, extension_id: int) -> Extension:
    """The request extension_id of the action action_id, or NotFound."""
    action_service.get_action(session, action_id)
    extension = session.get(Extension, extension_id)
    if extension is None or extension.action_id != action_id:
        raise NotFound(f"action {action_id} has no extension request {extension_id}")
    return extension


def _pending_request(session: Session, action_id: int) -> Extension | None:
    return session.exec(
        select(Extension).where(
            Extension.action_id == action_id, Extension.state == ExtensionState.pending
        )
    ).first()


def _already_pending(action_id: int, pending_id: int | None) -> Conflict:
    which = f"request {pending_id}" if pending_id is not None else "a request"
    return Conflict(
        f"action {action_id} already has a pending extension request ({which}); wait for a "
        "supervisor to decide it before asking again",
        pending_extension_id=pending_id,
    )


def _ensure_extendable(action: Action) -> None:
    """409 unless the action is being worked on (accepted, in progress, blocked, submitted)
    and not archived: a proposal has no commitment to extend, a closed action no work left."""
    if action.archived:
        raise Conflict(
            f"action {action.id} is archived; an archived action takes no extension request",
            current_status=action.status,
        )
    if action.status == Status.proposed or action.status in CLOSED:
        raise Conflict(
            f"action {action.id} is {action.status} ({STATUS_LABELS[action.status]}); only an "
            "action being worked on (accepted, in_progress, blocked, submitted) takes an "
            "extension request",
            current_status=action.status,
        )


def request_extension(
    session: Session, action_id: int, data: ExtensionCreate, actor: Actor, *, today: date
) -> Extension:
    """Ask for the action's due date to move to data.new_due_on, with an extension_requested
    event; today is the deployment's date (a request after the due date is late)."""
    action = action_service.get_action(session, action_id)
    _ensure_extendable(action)
    due_on = action.due_on
    if due_on is None:
        raise InvalidInput(
            f"action {action_id} has no due date to extend; set its first due date with "
            f"PATCH /api/v1/actions/{action_id}",
            ["body", "new_due_on"],
        )
    if data.new_due_on <= due_on:
        raise InvalidInput(
            f"new_due_on {data.new_due_on.isoformat()} is not after the current due date "
            f"{due_on.isoformat()}; an extension asks for a later day",
            ["body", "new_due_on"],
        )
    if (pending := _pending_request(session, action_id)) is not None:
        raise _already_pending(action_id, pending.id)
    now = clock.now()
    extension = Extension(
        action_id=action_id,
        from_due_on=due_on,
        new_due_on=data.new_due_on,
        reason=data.reason,
        late=today > due_on,
        requested_by=actor.name,
        requested_unit=actor.unit_name,
        requested_at=now,
    )
    session.add(extension)
    try:
        # Inserted before the action is touched: a concurrent request for the same action
        # waits on the one-pending index and then fails here, rather than on the version.
        session.flush()
    except IntegrityError as error:
        raise _already_pending(action_id, None) from error
    note = f"申请延期：{due_on.isoformat()} → {data.new_due_on.isoformat()}。理由：{data.reason}"
    action_service.record(session, action, actor, now, EventKind.extension_requested, note=note)
    return extension


def decide_extension(
    session: Session, action_id: int, extension_id: int, data: ExtensionDecision, actor: Actor
) -> Extension:
    """Approve or reject a pending request, with an extension_decided event. Approving moves
    the action's due_on to the date asked for and counts the extension; original_due_on
    keeps the first due date. Of two decisions at once exactly one is kept, the other 409."""
    extension = get_extension(session, action_id, extension_id)
    if not data.approve and data.note is None:
        raise InvalidInput(
            "rejecting an extension request needs a note saying why", ["body", "note"]
        )
    _ensure_pending(extension)
    action = action_service.get_action(session, action_id)
    if data.approve and action.due_on != extension.from_due_on:
        due = action.due_on.isoformat() if action.due_on else "none"
        raise Conflict(
            f"the due date of action {action_id} changed since the request was made (from "
            f"{extension.from_due_on.isoformat()} to {due}); reject this request and ask again",
            current_due_on=due,
        )
    state = ExtensionState.approved if data.approve else ExtensionState.rejected
    now = clock.now()
    # A conditional UPDATE: of two concurrent decisions the second finds no pending row
    # (PostgreSQL re-reads it once the first commits; SQLite's writers take turns).
    decided = session.execute(
        update(Extension)
        .where(col(Extension.id) == extension_id, col(Extension.state) == ExtensionState.pending)
        .values(state=state, decided_by=actor.name, decided_at=now, decision_note=data.note)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], decided).rowcount != 1:
        session.refresh(extension)
        _ensure_pending(extension)
        raise Conflict(f"extension request {extension_id} was decided meanwhile; fetch it again")
    session.refresh(extension)
    dates = f"{extension.from_due_on.isoformat()} → {extension.new_due_on.isoformat()}"
    if not data.approve:
        note = f"不同意延期（{dates}）：{data.note}"
        action_service.record(session, action, actor, now, EventKind.extension_decided, note=note)
        return extension
    changes = {
        "due_on": [action_service.field_value_of(action.due_on), extension.new_due_on.isoformat()],
        "extension_count": [action.extension_count, action.extension_count + 1],
    }
    if action.original_due_on is None:  # the first due date, kept from before the count began
        action.original_due_on = extension.from_due_on
    action.due_on = extension.new_due_on
    action.extension_count += 1
    note = f"同意延期：{dates}" + (f"。{data.note}" if data.note else "")
    action_service.record(
        session, action, actor, now, EventKind.extension_decided, changes=changes, note=note
    )
    return extension


def _ensure_pending(extension: Extension) -> None:
    if extension.state != ExtensionState.pending:
        by = f" by {extension.decided_by}" if extension.decided_by else ""
        raise Conflict(
            f"extension request {extension.id} is already {extension.state}{by}; only a "
            "pending request can be decided",
            current_state=extension.state,
        )


def list_extensions(
    session: Session, filters: ExtensionFilters, page: PageParams, sort: str | None = None
) -> tuple[Sequence[Extension], int]:
    """A page of the requests filters select (by id unless sort says otherwise) and their total."""
    query = select(Extension)
    if filters.state is not None:
        query = query.where(Extension.state == filters.state)
    if filters.action_id is not None:
        query = query.where(Extension.action_id == filters.action_id)
    return sorted_page(session, query, page, sort, SORTABLE, col(Extension.id))


def list_action_extensions(
    session: Session, action_id: int, page: PageParams
) -> tuple[Sequence[Extension], int]:
    """A page of one action's requests, oldest first; NotFound for an unknown action."""
    action_service.get_action(session, action_id)
    return list_extensions(session, ExtensionFilters(action_id=action_id), page)
