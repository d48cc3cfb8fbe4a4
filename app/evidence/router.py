"""The HTTP layer of evidence files (佐证材料): upload (multipart, streamed: upload.py), list,
read, download and withdraw; the work is done by service.py."""

import re
import unicodedata
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import LeadOrCooperatingEditorDep, UnitEditorDep, ViewerDep
from app.config import SettingsDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.etags import content_etag, not_modified, not_modified_response
from app.evidence import service as evidence_service
from app.evidence import upload as evidence_upload
from app.evidence.models import Evidence
from app.evidence.schemas import EvidenceFilters, EvidenceRead
from app.evidence.sniff import ACCEPTED
from app.evidence.store import CHUNK, EvidenceStore
from app.fields import PROSE_PATTERN, Id
from app.pagination import Page, PageDep, make_page, set_link_header, sort_pattern

router = APIRouter(tags=["evidence"], responses=problem_responses(401))

ActionId = Annotated[Id, Path(description="action id", examples=[1])]
EvidenceId = Annotated[Id, Path(description="evidence file id", examples=[1])]
Filters = Annotated[EvidenceFilters, Query()]
Sort = Annotated[
    str | None,
    Query(
        description="comma list of fields, - for descending: "
        + ", ".join(evidence_service.SORTABLE),
        examples=["-evidence_date"],
        json_schema_extra={"pattern": sort_pattern(evidence_service.SORTABLE)},
    ),
]
BINARY = {"type": "string", "format": "binary"}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"the file: {ACCEPTED}, judged by its content",
                        },
                        "note": {
                            "type": "string",
                            "maxLength": 20000,
                            "pattern": PROSE_PATTERN,
                            "examples": ["“标准地”出让实施方案印发通知"],
                            "description": "what the file shows",
                        },
                        "evidence_date": {
                            "type": "string",
                            "format": "date",
                            "description": "the day the evidence is about (default: today)",
                        },
                    },
                }
            }
        },
    }
}


async def evidence_store(request: Request) -> EvidenceStore:
    """The app's evidence store (store_for(settings), made once in create_app)."""
    store: EvidenceStore = request.app.state.evidence_store
    return store


StoreDep = Annotated[EvidenceStore, Depends(evidence_store)]


def _read(evidence: Evidence) -> EvidenceRead:
    return EvidenceRead.model_validate(evidence)


@router.post(
    "/actions/{action_id}/evidence",
    status_code=201,
    response_model=EvidenceRead,
    summary="Attach an evidence file to an action",
    responses=problem_responses(403, 404, 409, 412, 413, 415, 422),
    openapi_extra=UPLOAD_BODY,
)
async def upload_evidence(
    editor: LeadOrCooperatingEditorDep,
    action_id: ActionId,
    request: Request,
    reading: SessionDep,
    session: WriteSessionDep,
    settings: SettingsDep,
    store: StoreDep,
) -> Response:
    """Upload a file that proves progress or completion (佐证材料), as multipart/form-data:
    `file`, optional `note`, optional `evidence_date` (the day it is about; default today).
    Accepted by its content, whatever its name or declared type: PDF, PNG, JPEG, WebP, docx,
    xlsx, pptx, OFD, plain UTF-8 text; anything else is 415 saying what it looked like. Larger
    than TASHAN_MAX_EVIDENCE_BYTES: 413, refused as it streams in. Editors of the lead or a
    cooperating unit, and office-wide editors, may upload; an evidence event goes on the
    timeline and the action's version moves."""
    # A unit key's check read the action in the write session, which on SQLite holds the
    # write lock from its first statement: let it go while the file streams in.
    await run_in_threadpool(session.rollback)
    await run_in_threadpool(evidence_service.ensure_uploadable, reading, action_id)
    async with evidence_upload.received(request, settings.max_evidence_bytes) as upload:
        evidence_service.check_evidence_date(upload.form.evidence_date, settings.today())
        kind = await run_in_threadpool(evidence_service.store_file, store, upload)
        evidence = await run_in_threadpool(
            evidence_service.add_evidence,
            session,
            action_id,
            upload,
            kind,
            upload.form.note,
            upload.form.evidence_date,
            editor.actor,
            today=settings.today(),
        )
    body = _read(evidence)
    location = request.app.url_path_for("get_evidence", evidence_id=body.id)
    return Response(
        body.model_dump_json(),
        201,
        {"Location": location, "ETag": content_etag(body)},
        media_type="application/json",
    )


@router.get(
    "/actions/{action_id}/evidence",
    summary="An action's evidence files",
    responses=problem_responses(404, 422),
)
def list_action_evidence(
    _: ViewerDep,
    action_id: ActionId,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    filters: Filters,
    sort: Sort = None,
) -> Page[EvidenceRead]:
    """The action's evidence files, oldest first; withdrawn ones only with
    include_withdrawn=true."""
    rows, total = evidence_service.list_evidence(session, action_id, filters, page, sort)
    set_link_header(request, response, page, total)
    return make_page([_read(row) for row in rows], total, page)


@router.get(
    "/evidence/{evidence_id}",
    response_model=EvidenceRead,
    summary="An evidence file's details",
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
def get_evidence(
    _: ViewerDep,
    evidence_id: EvidenceId,
    request: Request,
    response: Response,
    session: SessionDep,
) -> Response | EvidenceRead:
    """One evidence file's details (withdrawn ones too), with an ETag."""
    body = _read(evidence_service.get_evidence(session, evidence_id))
    etag = content_etag(body)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return body


@router.get(
    "/evidence/{evidence_id}/file",
    summary="Download an evidence file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the stored bytes, unchanged, as the media type sniffed at upload",
            # octet-stream too: a client generator finds there the type it can read bytes of
            "content": {"*/*": {}, "application/octet-stream": {"schema": BINARY}},
        },
        304: {"description": "Not modified"},
        **problem_responses(404, 422),
    },
)
def download_evidence(
    _: ViewerDep,
    evidence_id: EvidenceId,
    request: Request,
    session: SessionDep,
    store: StoreDep,
) -> Response:
    """The stored bytes exactly as uploaded (withdrawn files too), streamed, as an attachment
    under the original name, with the sniffed media type, nosniff and ETag "<sha256>"."""
    evidence = evidence_service.get_evidence(session, evidence_id)
    etag = f'"{evidence.sha256}"'
    if not_modified(request, etag):
        return not_modified_response(etag)
    stream = evidence_service.open_bytes(store, evidence)
    headers = {
        "ETag": etag,
        "Content-Length": str(evidence.bytes),
        "Content-Disposition": content_disposition(evidence.filename, evidence_id),
        "X-Content-Type-Options": "nosniff",
        # Should a browser show it after all, nothing in it runs or loads.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return StreamingResponse(_chunks(stream), media_type=evidence.media_type, headers=headers)


@router.delete(
    "/evidence/{evidence_id}",
    response_model=EvidenceRead,
    summary="Withdraw an evidence file",
    responses=problem_responses(403, 404, 409, 422),
)
def withdraw_evidence(
    editor: UnitEditorDep,
    evidence_id: EvidenceId,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> EvidenceRead:
    """Withdraw a file: hidden from lists (unless include_withdrawn=true) and from
    evidence_count, its row and bytes kept; an evidence event goes on the timeline. A unit
    key withdraws what its unit uploaded, an office-wide editor what office-wide keys
    uploaded, a supervisor or admin anything (403 otherwise). 409 once the action is
    completed (or archived), for a file withdrawn already, and for the last file of an action
    under review."""
    evidence = evidence_service.withdraw_evidence(
        session,
        evidence_id,
        editor.actor,
        editor.role,
        needs_evidence=settings.review_needs_evidence,
    )
    return _read(evidence)


def _ascii_fallback(filename: str, evidence_id: int) -> str:
    """A plain-ASCII stand-in for filename (RFC 6266's filename=, for clients that do not read
    filename*): its letters without accents, or evidence-<id>, with its extension."""
    path = PurePosixPath(filename)
    suffix = _folded(path.suffix).replace(" ", "")
    stem = _folded(path.stem if path.suffix else filename)
    if not re.search(r"[A-Za-z0-9]", stem):
        stem = f"evidence-{evidence_id}"
    return stem + (suffix if suffix.startswith(".") else "")


def _folded(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    safe = re.sub(r"_{2,}", "_", re.sub(r"[^A-Za-z0-9._ ()-]+", "_", ascii_text))
    return re.sub(r"^[^A-Za-z0-9.]+|[^A-Za-z0-9)]+$", "", safe)


def content_disposition(filename: str, evidence_id: int) -> str:
    """attachment with the original name (RFC 6266 and RFC 5987: filename*=UTF-8''…, so a
    Chinese name survives) and an ASCII fallback."""
    fallback = _ascii_fallback(filename, evidence_id)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk
