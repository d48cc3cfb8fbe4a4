"""Unit keys (API.md, Conventions): where a key that belongs to a unit may write. This module
is the one place that decides; app.auth.dependencies applies it to routes (unit_may and the
Annotated aliases there), app.imports to each row of a sheet.

A key may belong to a unit (api_keys.unit_id; editor keys only: supervisors and admins never
have one). Such a key reads everything but writes only where its unit is responsible:

- Rule.lead: every editor write on an action its unit leads (actions.owner_id): PATCH,
  transitions, extension requests; creating one included, with owner_id = its unit. Moving
  the lead to another unit is not among them: reassigning the lead is for office-wide keys.
- Rule.lead_or_cooperating: progress updates (and evidence) on actions its unit leads or
  cooperates on (action_co_owners).
- Rule.office: nothing else (sources, units, reports, …): those need an office-wide key.

Withdrawing an evidence file (withdraw_refusal) follows who uploaded it: a unit key withdraws
only what a key of its unit uploaded, an office-wide editor only what office-wide keys
uploaded, a supervisor or admin any file.

A key without a unit acts for the whole office: every rule lets it through. Each refusal is a
403 whose detail names the rule in plain words, the key, its unit and the action."""

from dataclasses import dataclass
from enum import StrEnum

from app.actions.models import Action
from app.auth.models import Role
from app.auth.schemas import Actor
from app.errors import Forbidden
from app.spreadsheet import Lang, label


class Rule(StrEnum):
    """Which unit keys a write admits (office-wide keys are always admitted)."""

    office = "office"  # none: office-wide keys only
    lead = "lead"  # a key of the action's lead unit
    lead_or_cooperating = "lead_or_cooperating"  # … or of one of its cooperating units


@dataclass(frozen=True)
class ActionUnits:
    """The units responsible for an action: its lead unit and its cooperating units."""

    action_id: int
    lead_id: int
    lead_name: str
    cooperating: frozenset[int]

    @classmethod
    def of(cls, action: Action) -> "ActionUnits":
        """The units of a loaded action (its owner and co_owners are loaded with it)."""
        assert action.id is not None
        return cls(
            action_id=action.id,
            lead_id=action.owner_id,
            lead_name=action.owner.name,
            cooperating=frozenset(unit.id for unit in action.co_owners if unit.id is not None),
        )


def _acts_for(actor: Actor) -> str:
    return f"key {actor.name!r} acts for {actor.unit_name}"


def refusal(actor: Actor, rule: Rule, action: ActionUnits | None = None) -> str | None:
    """Why actor may not make a write that rule governs (on action, for the action rules),
    in plain words; None when it may."""
    if actor.unit_id is None:
        return None
    if rule == Rule.office or action is None:
        return (
            f"{_acts_for(actor)}: a unit key writes only the actions its unit leads (and "
            "progress updates where it cooperates); this needs a key of the whole office"
        )
    if actor.unit_id == action.lead_id:
        return None
    if actor.unit_id in action.cooperating:
        if rule == Rule.lead_or_cooperating:
            return None
        return (
            f"{_acts_for(actor)}, which cooperates on action {action.action_id}: a "
            "cooperating unit may post progress updates, not change the action (its lead "
            f"unit is {action.lead_name})"
        )
    may = {
        Rule.lead: "changes only actions its unit leads",
        Rule.lead_or_cooperating: "posts progress updates only on actions its unit leads or "
        "cooperates on",
    }[rule]
    return (
        f"{_acts_for(actor)}, which neither leads nor cooperates on action "
        f"{action.action_id} (its lead unit is {action.lead_name}): a unit key {may}"
    )


def lead_refusal(actor: Actor, owner_id: int, action_id: int | None = None) -> str | None:
    """Why actor may not make owner_id the lead unit of a new action (action_id None) or of
    action_id, which its unit leads; None when it may."""
    if actor.unit_id is None or owner_id == actor.unit_id:
        return None
    if action_id is None:
        return (
            f"{_acts_for(actor)}: a unit key creates only actions its unit leads (owner_id "
            f"{actor.unit_id}), not for unit {owner_id}"
        )
    return (
        f"{_acts_for(actor)}, which leads action {action_id}: moving the lead to another unit "
        f"(owner_id {owner_id}) is for keys of the whole office"
    )


def withdraw_refusal(
    actor: Actor,
    role: Role,
    evidence_id: int,
    uploaded_unit_id: int | None,
    uploaded_unit: str | None,
) -> str | None:
    """Why actor (of role) may not withdraw evidence file evidence_id, uploaded by a key of
    uploaded_unit_id (None: an office-wide key); None when it may."""
    if role.includes(Role.supervisor) or actor.unit_id == uploaded_unit_id:
        return None
    if actor.unit_id is None:
        return (
            f"evidence file {evidence_id} was uploaded for {uploaded_unit}: only a key of that "
            "unit, a supervisor or an admin may withdraw it"
        )
    by = f"for {uploaded_unit}" if uploaded_unit_id is not None else "by an office-wide key"
    return (
        f"{_acts_for(actor)}: a unit key withdraws only evidence its unit uploaded, and file "
        f"{evidence_id} was uploaded {by}"
    )


def ensure_allowed(reason: str | None, action_id: int | None = None) -> None:
    """403 with reason, if there is one."""
    if reason is not None:
        extra = {} if action_id is None else {"action_id": action_id}
        raise Forbidden(reason, **extra)


PROGRESS_COLUMNS = frozenset({"progress", "new_note"})  # a sheet's progress update


def row_refusal(actor: Actor, action: ActionUnits, changed: list[str]) -> tuple[str, str] | None:
    """Why actor may not apply a sheet row that changes the columns changed (label keys of
    app.spreadsheet) on action: the column to blame and the reason, in the sheet's words; None
    when it may. A row that changes only 进度 and 本次进展 is a progress update."""
    progress_only = set(changed) <= PROGRESS_COLUMNS
    rule = Rule.lead_or_cooperating if progress_only else Rule.lead
    if refusal(actor, rule, action) is None:
        return None
    zh = {key: label(key, Lang.zh) for key in ("lead_unit", "co_owners", *PROGRESS_COLUMNS)}
    if actor.unit_id in action.cooperating:
        column = next(name for name in changed if name not in PROGRESS_COLUMNS)
        return column, (
            f"{actor.unit_name} is a {zh['co_owners']} of action {action.action_id} "
            f"({zh['lead_unit']}: {action.lead_name}): key {actor.name!r} may fill in only "
            f"{zh['progress']} and {zh['new_note']} on this row"
        )
    return "lead_unit", (
        f"the {zh['lead_unit']} of action {action.action_id} is {action.lead_name} and "
        f"{actor.unit_name} is not among its {zh['co_owners']}: key {actor.name!r} acts for "
        f"{actor.unit_name} and may change only rows of actions its unit leads"
    )
