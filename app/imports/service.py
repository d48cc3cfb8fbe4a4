"""Applying a filled-in progress sheet: check every row against the current actions, then
apply the valid ones in one transaction through the same rules as the API.

Cells are read as Excel and WPS write them back, not only as the export wrote them: whole
numbers with thousands separators (1,234), progress as 40, 40% or 40.0%, dates as 2027-06-30,
2027/6/30, 2027.6.30, 2027年6月30日 or an Excel serial number. A refusal names the cell in the
sheet's own words: its heading as printed, its column letter and row number."""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl.utils.datetime import from_excel
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, col, select

from app.actions import service as action_service
from app.actions.models import Action, ActionEvent
from app.actions.workflow import STATUS_LABELS, Status
from app.auth import units
from app.fields import Name
from app.imports.reader import CellValue, Formula, SheetRow, UploadedSheet
from app.imports.schemas import ImportResult, Outcome, RowError, RowResult
from app.spreadsheet import CO_OWNER_SEPARATORS, ENGLISH_STATUS
from app.units.models import Unit

_STATUS_NAMES = {
    **{status.value: status for status in Status},
    **{text: status for status, text in STATUS_LABELS.items()},
    **{text.lower(): status for status, text in ENGLISH_STATUS.items()},
}
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234 or 1,234.5
_DATE = re.compile(
    r"(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*(?:-|/|\.|月)\s*(\d{1,2})\s*日?"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"  # a time of day after it: the day counts
)
# Excel's day numbers a due date may have: 2000-01-01 to 2199-12-31. Outside them a number in
# a date cell is more likely a slip than a day.
_SERIAL_DAYS = range(36526, 109574)
_CO_OWNER_SPLIT = re.compile(f"[{re.escape(CO_OWNER_SEPARATORS)}]")
_NAME: TypeAdapter[str] = TypeAdapter(Name)
UnitIds = dict[str, int]  # a unit's id by its name as a cell is matched against it


@dataclass
class RowPlan:
    """What a row asks of its action once its cells are read."""

    row: SheetRow
    sheet: UploadedSheet
    action: Action | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # assignee, due_on, co_owner_ids, leader
    status: Status | None = None
    progress: int | None = None
    note: str | None = None
    errors: list[RowError] = field(default_factory=list)

    def refuse(self, column: str, reason: str) -> None:
        """Refuse the row for a cell, named as the sheet names it: 进度 ✎ (column I, row 7)."""
        where = self.sheet.cell_name(column, self.row.number)
        self.errors.append(RowError(column=column, reason=f"{where}: {reason}"))

    def changes(self) -> dict[str, list[Any]]:
        """{field: [before, after]} of everything the row would change."""
        assert self.action is not None
        changes = action_service.describe_changes(self.action, self.fields)
        if self.status is not None and self.status != self.action.status:
            changes["status"] = [self.action.status, self.status]
        if self.progress is not None and self.progress != self.action.progress:
            changes["progress"] = [self.action.progress, self.progress]
        if self.note:
            changes["new_note"] = [None, self.note]
        return changes


def import_sheet(
    session: Session,
    sheet: UploadedSheet,
    mover: action_service.Mover,
    *,
    file_name: str | None,
    today: date,
    dry_run: bool = True,
    all_or_nothing: bool = False,
) -> ImportResult:
    """Check every row; unless dry_run, apply the valid rows (none if all_or_nothing and any
    row is refused) in the caller's transaction, each event with the mover's name and a note
    naming the file. A status change obeys the workflow as the API does for the mover's role
    (an editor's sheet submits for review; only a supervisor's completes), and a unit key's
    row the unit rules (app.auth.units: it changes actions its unit leads, and only progress
    and notes on those it cooperates on). today is the deployment's date (an action accepted
    without a start_on starts on it)."""
    plans = _plan(session, sheet, mover)
    refused = any(plan.errors for plan in plans)
    apply = not dry_run and not (all_or_nothing and refused)
    source_note = f"导入 {file_name or '表格'}"
    results = []
    for plan in plans:
        outcome = _outcome(plan, applied=apply)
        changes = plan.changes() if plan.action and not plan.errors else {}  # before applying
        if apply and outcome == Outcome.updated:
            _apply(session, plan, mover, source_note, today)
        results.append(
            RowResult(
                row=plan.row.number,
                action_id=plan.action.id if plan.action else None,
                outcome=outcome,
                changes=changes,
                errors=plan.errors,
            )
        )
    return ImportResult(
        file_name=file_name,
        format=sheet.format,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        applied=apply,
        counts=dict(Counter(result.outcome for result in results)),
        results=results,
    )


def _outcome(plan: RowPlan, applied: bool) -> Outcome:
    if plan.errors:
        return Outcome.error
    if not plan.changes():
        return Outcome.unchanged
    return Outcome.updated if applied else Outcome.will_update


def _plan(session: Session, sheet: UploadedSheet, mover: action_service.Mover) -> list[RowPlan]:
    """Read every row's cells and check them against the actions they name."""
    plans = [RowPlan(row=row, sheet=sheet) for row in sheet.rows]
    ids = [_whole_number(plan, "id") for plan in plans]
    wanted = {action_id for action_id in ids if action_id is not None}
    actions = {
        action.id: action
        for action in session.exec(select(Action).where(col(Action.id).in_(wanted))).all()
    }
    unit_ids = _unit_ids(session) if "co_owners" in sheet.columns else {}
    first_row: dict[int, int] = {}
    for plan, action_id in zip(plans, ids, strict=True):
        if action_id is None:
            continue
        if action_id in first_row:
            plan.refuse("id", f"action {action_id} is also on row {first_row[action_id]}")
            continue
        first_row[action_id] = plan.row.number
        plan.action = actions.get(action_id)
        if plan.action is None:
            plan.refuse("id", f"no action {action_id}")
            continue
        _read_cells(session, plan, unit_ids)
        if not plan.errors:
            _check(session, plan, mover)
    return plans


def _cell(plan: RowPlan, column: str) -> CellValue:
    value = plan.row.values.get(column)
    if isinstance(value, Formula):
        plan.refuse(column, f"a formula ({value.text}); type the value instead")
        return None
    return value.strip() or None if isinstance(value, str) else value


def _whole_number(plan: RowPlan, column: str) -> int | None:
    value = _cell(plan, column)
    if isinstance(value, bool) or value is None:
        plan.refuse(column, "empty; keep the value from the export")
        return None
    number = _as_whole(value)
    if number is None or number < 1:
        plan.refuse(column, f"{_shown(value)} is not a whole number; keep the exported value")
        return None
    return number


def _shown(value: CellValue) -> str:
    """A cell's value in a message, as the sheet shows it: “12.5%”, “2027/13/1”."""
    if isinstance(value, datetime | date):
        return f"“{value.isoformat()}”"
    return f"“{value}”"


def _as_number(value: CellValue) -> Decimal | None:
    """The number a cell holds or its text writes (full-width digits, 1,234), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(repr(value))
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    if _GROUPED_NUMBER.fullmatch(text):
        text = text.replace(",", "")
    return Decimal(text) if _NUMBER.fullmatch(text) and len(text) < 20 else None


def _as_whole(value: CellValue) -> int | None:
    number = _as_number(value)
    if number is None or number != number.to_integral_value() or abs(number) >= 10**9:
        return None
    return int(number)


def _read_cells(session: Session, plan: RowPlan, unit_ids: UnitIds) -> None:
    """Turn the row's editable cells into the values they ask for."""
    columns = plan.sheet.columns
    version = _whole_number(plan, "version")
    assert plan.action is not None
    if "status" in columns and (status := _cell(plan, "status")) is not None:
        plan.status = _STATUS_NAMES.get(str(status).strip().lower())
        if plan.status is None:
            allowed = "、".join(STATUS_LABELS.values())
            plan.refuse("status", f"{_shown(status)} is not one of {allowed}")
    if "progress" in columns and (progress := _cell(plan, "progress")) is not None:
        _read_progress(plan, progress)
    if "assignee" in columns:
        _read_name(plan, "assignee")
    if "due_on" in columns:
        _read_due_date(plan)
    if "co_owners" in columns:
        _read_co_owners(plan, unit_ids)
    if "leader" in columns:
        _read_name(plan, "leader")
    if "new_note" in columns and (note := _cell(plan, "new_note")) is not None:
        plan.note = str(note)
    if version is None or version == plan.action.version:
        return
    # The same sheet uploaded again: its note is already on the timeline, so only a value
    # that still differs from the action's makes the row stale.
    if plan.note and _note_recorded_since(session, plan.action, version, plan.note):
        plan.note = None
    if plan.changes():
        plan.refuse(
            "version",
            f"the action changed since this sheet was made (version {version}, now "
            f"{plan.action.version}); download a fresh sheet and fill it in again",
        )


def _note_recorded_since(session: Session, action: Action, version: int, note: str) -> bool:
    """Whether an event after the given version of the action carries note, as typed or as an
    import writes it (note（导入 file）). Every write of an action is one event, so the event
    that made version n is the action's n-th (events are never deleted); should the counts
    ever disagree, no note counts as recorded and the row stays stale."""
    notes = session.exec(
        select(ActionEvent.note)
        .where(ActionEvent.action_id == action.id)
        .order_by(col(ActionEvent.id))
    ).all()
    if len(notes) != action.version:
        return False
    imported = f"{note}（导入 "
    return any(text == note or (text or "").startswith(imported) for text in notes[version:])


def _read_progress(plan: RowPlan, value: CellValue) -> None:
    """进度: a whole number 0..100, typed 40, 40% or 40.0%. A fraction without a % sign (0.4)
    is refused: it is 40% to whoever typed it in a percentage cell, 0.4% to a reader of the
    sheet, and the import cannot tell which was meant."""
    text = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else None
    percent = text is not None and text.endswith("%")
    number = _as_number(text[:-1] if text is not None and percent else value)
    if number is None:
        plan.refuse("progress", f"{_shown(value)} is not a number; type 0 to 100 (40 for 40 %)")
    elif not percent and 0 < number < 1:
        hundred = f"{(number * 100).normalize():f}"
        plan.refuse(
            "progress",
            f"{_shown(value)} is a fraction; progress is a number from 0 to 100: type {hundred} "
            f"for {hundred} %",
        )
    elif number != number.to_integral_value() or not 0 <= number <= 100:
        plan.refuse("progress", f"{_shown(value)} is not a whole number from 0 to 100")
    else:
        plan.progress = int(number)


def _read_due_date(plan: RowPlan) -> None:
    value = _cell(plan, "due_on")
    if isinstance(value, datetime):
        plan.fields["due_on"] = value.date()
    elif isinstance(value, date) or value is None:
        plan.fields["due_on"] = value
    elif (day := _as_date(value)) is not None:
        plan.fields["due_on"] = day
    else:
        plan.refuse("due_on", f"{_shown(value)} is not a date; type it as 2027-06-30")


def _as_date(value: CellValue) -> date | None:
    """The day a cell's text writes (2027-06-30, 2027/6/30, 2027.6.30, 2027年6月30日, with
    or without a time after it) or its Excel day number (a cell without a date format, or a
    CSV that lost the format), else None."""
    number = _as_number(value)
    if number is not None:
        serial = int(number)  # a fraction of a day is a time of day
        return from_excel(serial).date() if serial in _SERIAL_DAYS else None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if (match := _DATE.fullmatch(text)) is None:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def _unit_key(name: str) -> str:
    """A unit's name as a cell is matched against it: NFKC (full-width letters and digits
    read as their ASCII twins), spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", name).split())


def _unit_ids(session: Session) -> UnitIds:
    rows = session.exec(select(col(Unit.id), col(Unit.name))).all()
    return {_unit_key(name): unit_id for unit_id, name in rows if unit_id is not None}


def _co_owner_names(value: CellValue) -> list[str]:
    """The unit names in a 配合单位 cell, in order, each once; empty: none."""
    if value is None:
        return []
    names = (name.strip() for name in _CO_OWNER_SPLIT.split(str(value)))
    return list(dict.fromkeys(name for name in names if name))


def _read_co_owners(plan: RowPlan, unit_ids: UnitIds) -> None:
    """The cooperating units the row names (unit names, as the export joins them with 、),
    each an existing unit and none the action's lead."""
    assert plan.action is not None
    names = _co_owner_names(_cell(plan, "co_owners"))
    unknown = [name for name in names if _unit_key(name) not in unit_ids]
    if unknown:
        listed = "、".join(f"“{name}”" for name in unknown)
        plan.refuse(
            "co_owners",
            f"no unit is named {listed}; write each cooperating unit's full name as the unit "
            "list has it (as in 牵头单位), separated by 、",
        )
        return
    ids = [unit_ids[_unit_key(name)] for name in names]
    if plan.action.owner_id in ids:
        lead = names[ids.index(plan.action.owner_id)]
        plan.refuse(
            "co_owners",
            f"“{lead}” is this action's lead unit (牵头单位) and cannot also cooperate; take it "
            "out of the cooperating units",
        )
        return
    plan.fields["co_owner_ids"] = ids


def _read_name(plan: RowPlan, column: str) -> None:
    """责任人 or 责任领导: free text, held to the API's rules for a name (one line, at most 200
    characters): refused, never cut short."""
    value = _cell(plan, column)
    if value is None:
        plan.fields[column] = None
        return
    try:
        plan.fields[column] = _NAME.validate_python(str(value))
    except ValidationError as error:
        plan.refuse(column, "; ".join(problem["msg"] for problem in error.errors()))


def _check(session: Session, plan: RowPlan, mover: action_service.Mover) -> None:
    """Refuse what the API would refuse: rows a unit key may not write, illegal moves, moves
    the role may not make, missing notes, progress rules, a due date already set changed by
    an editor, a submission without evidence."""
    action = plan.action
    assert action is not None
    changed = list(plan.changes())
    if changed and (
        refused := units.row_refusal(mover.actor, units.ActionUnits.of(action), changed)
    ):
        plan.refuse(*refused)
        return
    if action_service.due_date_problem(action, plan.fields, mover.role) is not None:
        assert action.due_on is not None
        plan.refuse(
            "due_on",
            f"the due date is {action.due_on.isoformat()}: once set, only a supervisor's or "
            "admin's sheet may change or clear it; keep the date as exported and ask for an "
            f"extension (延期申请): POST {action_service.extensions_path(action.id)}",
        )
    status = plan.status if plan.status is not None else action.status
    if status != action.status:
        counted = action_service.needs_evidence_count(status, mover)
        problem = action_service.transition_problem(
            action.status,
            status,
            plan.note,
            mover,
            action_id=action.id,
            evidence_count=action_service.live_evidence_count(session, action.id) if counted else 0,
        )
        if problem is not None:
            plan.refuse("status", problem.detail)
            return
    progress = plan.progress
    if status == Status.completed and progress is not None and progress != 100:
        plan.refuse("progress", "a completed action is at 100%")
    elif status == action.status and (problem := action_service.progress_problem(action, progress)):
        plan.refuse("progress", problem.detail)


def _apply(
    session: Session, plan: RowPlan, mover: action_service.Mover, source_note: str, today: date
) -> None:
    """Write the row's changes through the action services, in the caller's transaction."""
    action = plan.action
    assert action is not None
    note = f"{plan.note}（{source_note}）" if plan.note else source_note
    actor = mover.actor
    action_service.apply_changes(session, action, plan.fields, actor, note=source_note)
    moved = plan.status is not None and plan.status != action.status
    if moved:
        assert plan.status is not None
        action_service.apply_transition(session, action, plan.status, note, mover, today=today)
    progress = plan.progress if plan.progress != action.progress else None
    if progress is not None or (plan.note and not moved):
        action_service.apply_progress_update(session, action, note, progress, actor)
