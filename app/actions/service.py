"""The use cases that change actions: anchoring a quote in its source, creating, editing,
moving along the workflow, reporting progress, archiving; and the timeline page. No HTTP
here: problems are raised as AppErrors. Each change is recorded with its event in the
caller's transaction (record) and keeps the search index in step (search.index).

Reading actions is elsewhere: reads.py (the API's shape), listing.py (the queries over
many)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import clock
from app.actions import search
from app.actions.models import Action, ActionEvent, EventKind, Theme
from app.actions.schemas import (
    ActionCreate,
    ActionUpdate,
    ProgressUpdateCreate,
    TransitionCreate,
)
from app.actions.workflow import TRANSITIONS, Status, note_required, open_way, role_needed
from app.auth.models import Role
from app.auth.schemas import Actor
from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.etags import ExpectedVersion, check_version
from app.evidence.models import Evidence
from app.notifications import hooks
from app.pagination import PageParams
from app.sources.models import Source, Speech
from app.units import service as unit_service
from app.units.models import Unit

MAX_LISTED_OFFSETS = 10
SEARCHED_FIELDS = {"title", "detail", "quote"}


def get_action(session: Session, action_id: int) -> Action:
    """The action with action_id (archived ones too), or NotFound."""
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(f"action {action_id} does not exist")
    return action


def quote_occurrences(text: str, quote: str) -> list[int]:
    """Every code-point offset at which quote occurs in text, overlapping ones included."""
    offsets, at = [], text.find(quote)
    while at != -1:
        offsets.append(at)
        at = text.find(quote, at + 1)
    return offsets


def locate_quote(text: str, quote: str, quote_start: int | None) -> tuple[int, int]:
    """The [start, end) of quote in text; 422 if it is absent, or recurs with no quote_start."""
    offsets = quote_occurrences(text, quote)
    shown = ", ".join(map(str, offsets[:MAX_LISTED_OFFSETS]))
    if not offsets:
        raise InvalidInput(
            "the quote does not occur in the source text; copy it exactly, with the same "
            "punctuation (“” ，。) and full-width characters",
            ["body", "quote"],
        )
    if quote_start is None:
        if len(offsets) > 1:
            raise InvalidInput(
                f"the quote occurs {len(offsets)} times (at {shown}); send quote_start to pick one",
                ["body", "quote_start"],
            )
        quote_start = offsets[0]
    elif quote_start not in offsets:
        raise InvalidInput(
            f"the quote does not occur at offset {quote_start}; it occurs at {shown}",
            ["body", "quote_start"],
        )
    return quote_start, quote_start + len(quote)


def _speech_for_quote(
    session: Session, source_id: int, span: tuple[int, int], speech_id: int | None
) -> Speech | None:
    """The speech the quote lies in: the one named (checked) or the one containing it."""
    if speech_id is None:
        return session.exec(
            select(Speech).where(
                Speech.source_id == source_id, Speech.start <= span[0], Speech.end >= span[1]
            )
        ).first()
    speech = session.get(Speech, speech_id)
    if speech is None or speech.source_id != source_id:
        raise InvalidInput(
            f"speech {speech_id} is not a speech of source {source_id}", ["body", "speech_id"]
        )
    if not (speech.start <= span[0] and span[1] <= speech.end):
        raise InvalidInput(
            f"the quote [{span[0]}, {span[1]}) lies outside speech {speech_id} "
            f"[{speech.start}, {speech.end})",
            ["body", "speech_id"],
        )
    return speech


def resolve_themes(session: Session, names: Sequence[str]) -> list[Theme]:
    """The themes called names, created when new, in the given order without repeats."""
    wanted = list(dict.fromkeys(names))
    existing = {
        theme.name: theme
        for theme in session.exec(select(Theme).where(col(Theme.name).in_(wanted))).all()
    }
    for name in wanted:
        if name not in existing:
            existing[name] = Theme(name=name)
            session.add(existing[name])
    return [existing[name] for name in wanted]


def resolve_co_owners(
    session: Session, unit_ids: Sequence[int], owner_id: int, lead_field: str = "co_owner_ids"
) -> list[Unit]:
    """The cooperating units with unit_ids (distinct, checked by the schemas), each existing
    and none the lead unit owner_id: 422 naming lead_field or the unknown unit otherwise."""
    if owner_id in unit_ids:
        raise InvalidInput(
            f"unit {owner_id} is the lead unit (owner_id) and cannot also cooperate "
            "(co_owner_ids); a cooperating unit is never the lead",
            ["body", lead_field],
        )
    found = {
        unit.id: unit
        for unit in session.exec(select(Unit).where(col(Unit.id).in_(list(unit_ids)))).all()
    }
    for at, unit_id in enumerate(unit_ids):
        if unit_id not in found:
            raise InvalidInput(f"unit {unit_id} does not exist", ["body", "co_owner_ids", at])
    return [found[unit_id] for unit_id in unit_ids]


def _ensure_seed_key_free(session: Session, source_id: int, seed_key: str) -> None:
    taken = session.exec(
        select(Action.id).where(Action.source_id == source_id, Action.seed_key == seed_key)
    ).first()
    if taken is not None:
        raise Conflict(
            f"action {taken} of source {source_id} already has seed_key {seed_key!r}",
            action_id=taken,
        )


def create_action(session: Session, data: ActionCreate, actor: Actor) -> Action:
    """Anchor the quote in its source and add a proposed action with its created event."""
    source = session.get(Source, data.source_id)
    if source is None:
        raise InvalidInput(f"source {data.source_id} does not exist", ["body", "source_id"])
    unit_service.require_unit(session, data.owner_id, ["body", "owner_id"])
    co_owners = resolve_co_owners(session, data.co_owner_ids, data.owner_id)
    assert source.id is not None
    if data.seed_key is not None:
        _ensure_seed_key_free(session, source.id, data.seed_key)
    span = locate_quote(source.text, data.quote, data.quote_start)
    speech = _speech_for_quote(session, source.id, span, data.speech_id)
    now = clock.now()
    action = Action(
        **data.model_dump(exclude={"themes", "co_owner_ids", "quote_start", "speech_id"}),
        original_due_on=data.due_on,
        quote_start=span[0],
        quote_end=span[1],
        speech_id=speech.id if speech else None,
        themes=resolve_themes(session, data.themes),
        co_owners=co_owners,
        created_at=now,
    )
    record(session, action, actor, now, EventKind.created, to_status=action.status, progress=0)
    assert action.id is not None
    search.index(session.connection(), action.id, search_grams(action))
    return _stored(session, action)


def record(
    session: Session, action: Action, actor: Actor, now: datetime, kind: EventKind, **event: Any
) -> None:
    """Write the action's change and the event that tells it, in the caller's transaction,
    with the notifications the event makes (hooks.event_recorded).

    The UPDATE carries "AND version = :loaded", so a concurrent writer that got there first
    makes this raise StaleDataError (412) and nothing of this change is kept."""
    action.updated_at = now
    session.add(action)
    session.flush()
    assert action.id is not None
    event_row = ActionEvent(
        action_id=action.id,
        at=now,
        actor=actor.name,
        actor_unit=actor.unit_name,
        kind=kind,
        **event,
    )
    session.add(event_row)
    hooks.event_recorded(session, action, event_row)


def _stored(session: Session, action: Action) -> Action:
    """action with its changes flushed, and expired so that what is read of it next comes
    from the database: its owner after an owner_id change, its themes in the database's
    order of names. Nothing is read if nobody looks (the seed does not)."""
    session.flush()
    session.expire(action)
    return action


def search_grams(action: Action) -> str:
    """What the search index holds for the action."""
    return search.grams(action.title, action.detail, action.quote)


def field_value(action: Action, field: str) -> Any:
    """A field of action as it appears in an event's changes (JSON-ready)."""
    if field == "themes":
        return sorted(theme.name for theme in action.themes)
    if field == "co_owner_ids":
        return sorted(unit.id for unit in action.co_owners if unit.id is not None)
    return field_value_of(getattr(action, field))


def field_value_of(value: Any) -> Any:
    """A stored value as it appears in an event's changes (JSON-ready)."""
    return value.isoformat() if isinstance(value, date) else value


def describe_changes(action: Action, requested: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the requested fields whose value would differ."""
    changes = {}
    for field, new in requested.items():
        after = sorted(set(new)) if field in ("themes", "co_owner_ids") else new
        after = after.isoformat() if isinstance(after, date) else after
        before = field_value(action, field)
        if before != after:
            changes[field] = [before, after]
    return changes


def apply_changes(
    session: Session,
    action: Action,
    requested: dict[str, Any],
    actor: Actor,
    note: str | None = None,
) -> dict[str, list[Any]]:
    """Set the requested fields that differ and record one updated event; returns the changes."""
    changes = describe_changes(action, requested)
    if not changes:
        return changes
    if "owner_id" in changes:
        unit_service.require_unit(session, requested["owner_id"], ["body", "owner_id"])
    # Look themes and units up before touching the action, so no autoflush writes a
    # half-applied version.
    themes = resolve_themes(session, requested["themes"]) if "themes" in changes else []
    co_owners = _co_owners_after(session, action, requested, changes)
    indexed_before = search_grams(action)
    for field in changes:
        if field == "co_owner_ids":
            action.co_owners = co_owners
        else:
            setattr(action, field, themes if field == "themes" else requested[field])
    if "due_on" in changes:
        keep_first_due_on(action)
    # An event carries the progress it leaves behind, so the timeline alone can rebuild it.
    progress = action.progress if "progress" in changes else None
    record(
        session,
        action,
        actor,
        clock.now(),
        EventKind.updated,
        changes=changes,
        note=note,
        progress=progress,
    )
    if changes.keys() & SEARCHED_FIELDS:
        assert action.id is not None
        search.index(session.connection(), action.id, search_grams(action), indexed_before)
    return changes


def keep_first_due_on(action: Action) -> None:
    """Remember the action's due date as its first one (original_due_on) if it has none yet:
    the first due date ever set is never changed afterwards. It goes with the due_on change
    that sets it (or with the created action), so no event names it apart."""
    if action.original_due_on is None and action.due_on is not None:
        action.original_due_on = action.due_on


def extensions_path(action_id: int | None) -> str:
    """Where an action's extension requests are made."""
    return f"/api/v1/actions/{action_id}/extensions"


def due_date_problem(action: Action, requested: dict[str, Any], role: Role) -> AppError | None:
    """Why role may not set due_on as requested (403 naming the extension route), or None.
    Once an action has a due date only a supervisor or admin moves or clears it; everyone
    else asks for an extension. Setting a first due date is open to every editor."""
    if "due_on" not in requested or action.due_on is None:
        return None
    if requested["due_on"] == action.due_on or role.includes(Role.supervisor):
        return None
    return Forbidden(
        f"action {action.id} is due on {action.due_on.isoformat()}; once an action has a due "
        f"date only a supervisor or admin may change or clear it, and you have the {role} "
        f"role: ask for an extension instead with POST {extensions_path(action.id)} "
        '{"new_due_on", "reason"}, which a supervisor decides',
        extension_route=extensions_path(action.id),
    )


def _co_owners_after(
    session: Session, action: Action, requested: dict[str, Any], changes: dict[str, Any]
) -> list[Unit]:
    """The cooperating units the action will have (checked), when the change touches them or
    the lead: a new lead may not be one of them (422 naming the field the request set)."""
    if not changes.keys() & {"owner_id", "co_owner_ids"}:
        return []
    owner_id = requested["owner_id"] if "owner_id" in changes else action.owner_id
    if "co_owner_ids" in changes:
        return resolve_co_owners(session, requested["co_owner_ids"], owner_id)
    kept = field_value(action, "co_owner_ids")
    return resolve_co_owners(session, kept, owner_id, lead_field="owner_id")


def progress_problem(action: Action, progress: int | None) -> AppError | None:
    """Why progress cannot be set on action (a completed action stays at 100%), or None."""
    if progress is not None and progress != 100 and action.status == Status.completed:
        return Conflict(
            "a completed action stays at 100%; reopen it (transition to in_progress) first",
            current_status=action.status,
        )
    return None


def progress_warning(action: Action, progress: int | None) -> str | None:
    """Why progress set on action is likely a mistake, or None: a proposed action has not
    been accepted yet. Warned, not refused (the contract accepts it)."""
    if progress and action.status == Status.proposed:
        return (
            "progress on a proposed action: accept it first (POST "
            f"/api/v1/actions/{action.id}/transitions, to accepted) so its light counts it"
        )
    return None


def _ensure_progress_allowed(action: Action, progress: int | None) -> None:
    problem = progress_problem(action, progress)
    if problem is not None:
        raise problem


def update_action(
    session: Session,
    action_id: int,
    data: ActionUpdate,
    expected_version: ExpectedVersion,
    actor: Actor,
    *,
    role: Role,
) -> Action:
    """Edit an action's fields (not status, quote or offsets) if expected_version is current;
    role decides whether a due date already set may change (due_date_problem)."""
    action = get_action(session, action_id)
    check_version(action.version, expected_version)
    _ensure_progress_allowed(action, data.progress)
    requested = data.model_dump(exclude_unset=True)
    if (problem := due_date_problem(action, requested, role)) is not None:
        raise problem
    if apply_changes(session, action, requested, actor):
        return _stored(session, action)
    return action


def archive_action(
    session: Session, action_id: int, expected_version: ExpectedVersion, actor: Actor
) -> Action:
    """Hide an action from lists; nothing is ever hard-deleted."""
    action = get_action(session, action_id)
    check_version(action.version, expected_version)
    if action.archived:
        return action
    action.archived = True
    record(session, action, actor, clock.now(), EventKind.archived)
    return _stored(session, action)


def list_events(
    session: Session, action_id: int, page: PageParams
) -> tuple[Sequence[ActionEvent], int]:
    """A page of an action's timeline, oldest first."""
    get_action(session, action_id)
    where = ActionEvent.action_id == action_id
    total = session.exec(select(func.count()).select_from(ActionEvent).where(where)).one()
    rows = session.exec(
        select(ActionEvent)
        .where(where)
        .order_by(col(ActionEvent.id))
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    return rows, total


@dataclass(frozen=True)
class Mover:
    """Who moves an action along the workflow: who the event names, the role that decides
    which moves are open, and whether submitting needs evidence (the deployment's
    TASHAN_REVIEW_NEEDS_EVIDENCE)."""

    actor: Actor
    role: Role
    needs_evidence: bool = False


def change_status(
    session: Session,
    action_id: int,
    data: TransitionCreate,
    expected_version: ExpectedVersion,
    mover: Mover,
    *,
    today: date,
) -> Action:
    """Move an action along the workflow table, recording a transition event; today is the
    deployment's date (an action accepted without a start_on starts on it)."""
    action = get_action(session, action_id)
    check_version(action.version, expected_version)
    apply_transition(session, action, data.to, data.note, mover, today=today)
    return _stored(session, action)


def needs_evidence_count(target: Status, mover: Mover) -> bool:
    """Whether the move to target is refused without evidence, so the files must be counted."""
    return target == Status.submitted and mover.needs_evidence


def live_evidence_count(session: Session, action_id: int | None) -> int:
    """How many evidence files the action has that are not withdrawn."""
    return session.exec(
        select(func.count())
        .select_from(Evidence)
        .where(Evidence.action_id == action_id, col(Evidence.withdrawn_at).is_(None))
    ).one()


def evidence_path(action_id: int | None) -> str:
    """Where an action's evidence files are uploaded."""
    return f"/api/v1/actions/{action_id}/evidence"


def transition_problem(
    current: Status,
    target: Status,
    note: str | None,
    mover: Mover,
    *,
    action_id: int | None = None,
    evidence_count: int = 0,
) -> AppError | None:
    """Why the move is refused (409 not in the table, 403 the role may not make it, 422 a
    note or evidence missing), or None. evidence_count: the action's evidence files not
    withdrawn, which matter only where needs_evidence_count says so."""
    allowed = TRANSITIONS[current]
    if target not in allowed:
        return Conflict(
            f"cannot move from {current} to {target}; allowed: " + (", ".join(allowed) or "none"),
            current_status=current,
            allowed=list(allowed),
        )
    needed = role_needed(current, target)
    if not mover.role.includes(needed):
        return Forbidden(
            f"moving from {current} to {target} needs the {needed} role; you have the "
            f"{mover.role} role: {open_way(current, target)}",
            current_status=current,
        )
    if not (note or "").strip() and note_required(current, target):
        return InvalidInput(
            f"moving from {current} to {target} needs a note saying why", ["body", "note"]
        )
    if needs_evidence_count(target, mover) and evidence_count < 1:
        return InvalidInput(
            "submitting for review needs at least one evidence file (佐证材料) on the action; "
            f"upload one first: POST {evidence_path(action_id)} "
            "(multipart/form-data, field file)",
            ["body", "to"],
        )
    return None


def apply_transition(
    session: Session,
    action: Action,
    target: Status,
    note: str | None,
    mover: Mover,
    *,
    today: date,
) -> None:
    """Move action to target with its transition event, in the caller's transaction. The
    event's actor is the reviewer of an approval (submitted → completed). An action accepted
    without a start_on starts today (the deployment's date)."""
    evidence = live_evidence_count(session, action.id) if needs_evidence_count(target, mover) else 0
    problem = transition_problem(
        action.status, target, note, mover, action_id=action.id, evidence_count=evidence
    )
    if problem is not None:
        raise problem
    now = clock.now()
    before = {"status": action.status, "progress": action.progress, "start_on": action.start_on}
    if target == Status.accepted and action.start_on is None:
        action.start_on = today
    if target == Status.completed:
        action.progress, action.completed_at = 100, now
    elif action.status == Status.completed:
        action.completed_at = None
        action.progress = _progress_before_completion(session, action)
    action.status = target
    record(
        session,
        action,
        mover.actor,
        now,
        EventKind.transition,
        from_status=before["status"],
        to_status=target,
        changes={
            k: [field_value_of(v), field_value(action, k)]
            for k, v in before.items()
            if getattr(action, k) != v
        },
        note=(note or "").strip() or None,
        progress=action.progress,
    )


def _progress_before_completion(session: Session, action: Action) -> int:
    """The progress an action had before its last completion set it to 100."""
    completion = session.exec(
        select(ActionEvent)
        .where(ActionEvent.action_id == action.id, ActionEvent.to_status == Status.completed)
        .order_by(col(ActionEvent.id).desc())
    ).first()
    before = (completion.changes or {}).get("progress") if completion else None
    return int(before[0]) if before else action.progress


def add_progress_update(
    session: Session,
    action_id: int,
    data: ProgressUpdateCreate,
    expected_version: ExpectedVersion,
    actor: Actor,
) -> Action:
    """Record a progress note (and new progress, evidence) on an action's timeline."""
    action = get_action(session, action_id)
    check_version(action.version, expected_version)
    evidence = str(data.evidence_url) if data.evidence_url else None
    apply_progress_update(session, action, data.note, data.progress, actor, evidence)
    return _stored(session, action)


def apply_progress_update(
    session: Session,
    action: Action,
    note: str,
    progress: int | None,
    actor: Actor,
    evidence_url: str | None = None,
) -> None:
    """Record a progress note and maybe new progress, in the caller's transaction."""
    _ensure_progress_allowed(action, progress)
    changes = {}
    if progress is not None and progress != action.progress:
        changes["progress"] = [action.progress, progress]
        action.progress = progress
    # A note alone is news about the action too, so its version moves with every update.
    record(
        session,
        action,
        actor,
        clock.now(),
        EventKind.progress,
        changes=changes or None,
        note=note,
        progress=action.progress,
        evidence_url=evidence_url,
    )
