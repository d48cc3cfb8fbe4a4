"""The use cases of evidence files (佐证材料): attaching a received file to an action,
withdrawing one, reading them. No HTTP here (upload.py receives the bytes, router.py
answers); problems are raised as AppErrors.

Attaching: the file's bytes are sniffed (sniff.py: 415 unless an accepted kind), put in the
content-addressed store (the same bytes twice are stored once), and a row written with an
`evidence` event on the action's timeline, in the caller's transaction. The store is written
before the row, so no row ever names bytes the store lacks; a rolled-back row leaves at most
an unreferenced file, which the store keeps like any other.

Withdrawing hides a file from lists and from evidence_count; its row and bytes stay. Who
may is decided by app.auth.units.withdraw_refusal."""

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any, BinaryIO, Protocol

from sqlmodel import Session, col, select

from app import clock
from app.actions import service as action_service
from app.actions.models import Action, EventKind
from app.actions.workflow import Status
from app.auth import units
from app.auth.models import Role
from app.auth.schemas import Actor
from app.errors import AppError, Conflict, InvalidInput, NotFound, UnsupportedMediaType
from app.evidence import sniff
from app.evidence.models import Evidence
from app.evidence.schemas import EvidenceFilters
from app.evidence.store import EvidenceStore, MissingEvidence
from app.pagination import PageParams, sorted_page

MAX_FILENAME = 255
SORTABLE: dict[str, Any] = {
    "id": col(Evidence.id),
    "uploaded_at": col(Evidence.uploaded_at),
    "evidence_date": col(Evidence.evidence_date),
    "filename": col(Evidence.filename),
    "bytes": col(Evidence.bytes),
}
# Characters that may make a name read other than it is (an "exe.pdf" reversed to look like
# "fdp.exe"), besides the control characters.
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ReceivedFile(Protocol):
    """A file received in full, in a temporary file (app.evidence.upload.Upload)."""

    @property
    def path(self) -> Any: ...
    @property
    def filename(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


def clean_filename(raw: str) -> str:
    """The name a file was uploaded under without any folder (a browser or client may send
    C:\\Users\\…\\name.pdf or ../../name.pdf); 422 when nothing is left, or for control or
    direction characters or a name over MAX_FILENAME characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    loc: list[str | int] = ["body", "file"]
    if not name or set(name) == {"."}:
        raise InvalidInput(
            f"the file name {raw!r} has no name left once its folders are removed", loc
        )
    if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in name):
        raise InvalidInput(
            "the file name has control or text-direction characters; rename the file", loc
        )
    if any("\ud800" <= ch <= "\udfff" for ch in name):
        raise InvalidInput("the file name is not valid Unicode", loc)
    if len(name) > MAX_FILENAME:
        raise InvalidInput(
            f"the file name is {len(name)} characters long; at most {MAX_FILENAME} are kept, "
            "so rename the file",
            loc,
        )
    return name


def ensure_uploadable(session: Session, action_id: int) -> Action:
    """The action, if it takes evidence: it exists (404) and is not archived (409)."""
    action = action_service.get_action(session, action_id)
    if action.archived:
        raise Conflict(
            f"action {action_id} is archived; an archived action takes no evidence",
            current_status=action.status,
        )
    return action


def kind_of(upload: ReceivedFile) -> sniff.Kind:
    """What the received file is: 415 unless one of the accepted kinds, 422 for one cut
    short or damaged."""
    try:
        return sniff.sniff(upload.path)
    except sniff.Refused as refused:
        loc: list[str | int] = ["body", "file"]
        if refused.damaged:
            raise InvalidInput(
                f"{upload.filename!r} looks like {refused.looked_like}", loc
            ) from None
        raise UnsupportedMediaType(
            f"{upload.filename!r} looks like {refused.looked_like}; evidence files are "
            f"accepted by their content: {sniff.ACCEPTED}",
            looked_like=refused.looked_like,
        ) from None


def store_file(store: EvidenceStore, upload: ReceivedFile) -> sniff.Kind:
    """Sniff the received file and put its bytes in the store (once however often they are
    uploaded); its kind. No database work, so it runs outside the write transaction."""
    kind = kind_of(upload)
    store.put(upload.sha256, upload.path)
    return kind


def check_evidence_date(evidence_date: date | None, today: date) -> None:
    """422 for a day after today (the deployment's date): evidence is about what happened."""
    if evidence_date is not None and evidence_date > today:
        raise InvalidInput(
            f"evidence_date {evidence_date.isoformat()} is after today ({today.isoformat()}); "
            "it is the day the evidence is about",
            ["body", "evidence_date"],
        )


def add_evidence(
    session: Session,
    action_id: int,
    upload: ReceivedFile,
    kind: sniff.Kind,
    note: str | None,
    evidence_date: date | None,
    actor: Actor,
    *,
    today: date,
) -> Evidence:
    """Attach a file already in the store to the action, with an evidence event; the day it
    is about defaults to today (the deployment's date) and may not be after it."""
    check_evidence_date(evidence_date, today)
    action = ensure_uploadable(session, action_id)
    before = action_service.live_evidence_count(session, action_id)
    now = clock.now()
    evidence = Evidence(
        action_id=action_id,
        sha256=upload.sha256,
        bytes=upload.size,
        filename=upload.filename,
        media_type=kind.media_type,
        note=note,
        evidence_date=evidence_date or today,
        uploaded_by=actor.name,
        uploaded_unit=actor.unit_name,
        uploaded_unit_id=actor.unit_id,
        uploaded_at=now,
    )
    session.add(evidence)
    told = f"上传佐证材料：{upload.filename}" + (f"。{note}" if note else "")
    action_service.record(
        session,
        action,
        actor,
        now,
        EventKind.evidence,
        changes={"evidence_count": [before, before + 1]},
        note=told,
    )
    session.flush()
    return evidence


def get_evidence(session: Session, evidence_id: int) -> Evidence:
    """The evidence file with evidence_id (withdrawn ones too), or NotFound."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"evidence file {evidence_id} does not exist")
    return evidence


class MissingBytes(AppError):
    """A row names bytes the store does not have: the store was damaged or restored apart."""

    status, slug = 500, "evidence-missing"


def open_bytes(store: EvidenceStore, evidence: Evidence) -> BinaryIO:
    """The stored bytes of evidence, open for reading; 500 if the store lacks them."""
    try:
        return store.open(evidence.sha256)
    except MissingEvidence:
        raise MissingBytes(
            f"the bytes of evidence file {evidence.id} are missing from the store "
            f"({store.location}); run tashan evidence verify"
        ) from None


def withdraw_evidence(
    session: Session, evidence_id: int, actor: Actor, role: Role, *, needs_evidence: bool
) -> Evidence:
    """Withdraw a file (hidden from lists and evidence_count; row and bytes kept), with an
    evidence event. 403 for a key that may not (units.withdraw_refusal); 409 when it is
    withdrawn already, when its action is completed or archived, or when it is the last file
    of an action under review that needs one (needs_evidence)."""
    evidence = get_evidence(session, evidence_id)
    units.ensure_allowed(
        units.withdraw_refusal(
            actor, role, evidence_id, evidence.uploaded_unit_id, evidence.uploaded_unit
        ),
        evidence.action_id,
    )
    if evidence.withdrawn_at is not None:
        raise Conflict(
            f"evidence file {evidence_id} was withdrawn already, by {evidence.withdrawn_by}",
            withdrawn_at=evidence.withdrawn_at,
        )
    action = action_service.get_action(session, evidence.action_id)
    if action.status == Status.completed:
        raise Conflict(
            f"action {action.id} is completed: the evidence it was approved on stays; a "
            "supervisor may reopen it first",
            current_status=action.status,
        )
    if action.archived:
        raise Conflict(f"action {action.id} is archived; its evidence stays as it is")
    before = action_service.live_evidence_count(session, evidence.action_id)
    if action.status == Status.submitted and needs_evidence and before <= 1:
        raise Conflict(
            f"action {action.id} is under review (submitted) and this is its last evidence "
            "file: upload the replacement first, then withdraw this one",
            current_status=action.status,
        )
    now = clock.now()
    evidence.withdrawn_at, evidence.withdrawn_by = now, actor.name
    session.add(evidence)
    action_service.record(
        session,
        action,
        actor,
        now,
        EventKind.evidence,
        changes={"evidence_count": [before, before - 1]},
        note=f"撤回佐证材料：{evidence.filename}",
    )
    session.flush()
    return evidence


def list_evidence(
    session: Session,
    action_id: int,
    filters: EvidenceFilters,
    page: PageParams,
    sort: str | None = None,
) -> tuple[Sequence[Evidence], int]:
    """A page of the action's evidence files, oldest first unless sort says otherwise, and
    their total; withdrawn ones only with include_withdrawn. NotFound for an unknown action."""
    action_service.get_action(session, action_id)
    query = select(Evidence).where(Evidence.action_id == action_id)
    if not filters.include_withdrawn:
        query = query.where(col(Evidence.withdrawn_at).is_(None))
    return sorted_page(session, query, page, sort, SORTABLE, col(Evidence.id))
