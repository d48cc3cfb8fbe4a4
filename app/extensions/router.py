"""The HTTP layer of extension requests (延期申请): an editor asks, a supervisor decides,
everyone reads; the work is done by service.py."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from app.auth.dependencies import LeadEditorDep, SupervisorDep, ViewerDep
from app.config import SettingsDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.etags import content_etag, not_modified, not_modified_response
from app.extensions import service as extension_service
from app.extensions.models import Extension
from app.extensions.schemas import (
    ExtensionCreate,
    ExtensionDecision,
    ExtensionFilters,
    ExtensionRead,
)
from app.fields import Id
from app.pagination import Page, PageDep, make_page, set_link_header, sort_pattern

router = APIRouter(
    prefix="/actions/{action_id}/extensions",
    tags=["extensions"],
    responses=problem_responses(401),
)
queue_router = APIRouter(
    prefix="/extensions", tags=["extensions"], responses=problem_responses(401)
)

ActionId = Annotated[Id, Path(description="action id", examples=[1])]
ExtensionId = Annotated[Id, Path(description="extension request id", examples=[1])]
Filters = Annotated[ExtensionFilters, Query()]
Sort = Annotated[
    str | None,
    Query(
        description="comma list of fields, - for descending: "
        + ", ".join(extension_service.SORTABLE),
        examples=["-requested_at"],
        json_schema_extra={"pattern": sort_pattern(extension_service.SORTABLE)},
    ),
]


def _read(session: Session, extension: Extension) -> ExtensionRead:
    session.flush()
    return ExtensionRead.model_validate(extension)


@router.post(
    "",
    status_code=201,
    summary="Ask for a later due date",
    # 412: the action changed under the request (a concurrent write won its version).
    responses=problem_responses(403, 404, 409, 412, 422),
)
def request_extension(
    editor: LeadEditorDep,
    action_id: ActionId,
    data: ExtensionCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> ExtensionRead:
    """The lead unit asks a supervisor to move the due date of an action being worked on to
    new_due_on (after the current one), with a reason; `late`: asked after the due date.
    An action without a due date, a blank reason or an earlier day: 422. A second request
    while one is pending, or an action proposed, completed, declined or archived: 409."""
    extension = extension_service.request_extension(
        session, action_id, data, editor.actor, today=settings.today()
    )
    body = _read(session, extension)
    response.headers["Location"] = request.app.url_path_for(
        "get_extension", action_id=action_id, extension_id=body.id
    )
    response.headers["ETag"] = content_etag(body)
    return body


@router.get("", summary="An action's extension requests", responses=problem_responses(404, 422))
def list_action_extensions(
    _: ViewerDep,
    action_id: ActionId,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
) -> Page[ExtensionRead]:
    """Every extension request of the action, oldest first, with its decision."""
    rows, total = extension_service.list_action_extensions(session, action_id, page)
    set_link_header(request, response, page, total)
    return make_page([ExtensionRead.model_validate(row) for row in rows], total, page)


@router.get(
    "/{extension_id}",
    response_model=ExtensionRead,
    summary="An extension request",
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
def get_extension(
    _: ViewerDep,
    action_id: ActionId,
    extension_id: ExtensionId,
    request: Request,
    response: Response,
    session: SessionDep,
) -> Response | ExtensionRead:
    """One extension request of the action, with an ETag."""
    body = ExtensionRead.model_validate(
        extension_service.get_extension(session, action_id, extension_id)
    )
    etag = content_etag(body)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return body


@router.post(
    "/{extension_id}/decision",
    summary="Approve or reject an extension request",
    responses=problem_responses(403, 404, 409, 412, 422),
)
def decide_extension(
    supervisor: SupervisorDep,
    action_id: ActionId,
    extension_id: ExtensionId,
    data: ExtensionDecision,
    session: WriteSessionDep,
    response: Response,
) -> ExtensionRead:
    """督查: approve (the action's due_on moves to new_due_on, original_due_on stays, and
    extension_count goes up by one) or reject (a note saying why is required; the due date
    stays). Only a pending request is decided: otherwise 409, also for the second of two
    decisions made at once."""
    extension = extension_service.decide_extension(
        session, action_id, extension_id, data, supervisor.actor
    )
    body = _read(session, extension)
    response.headers["ETag"] = content_etag(body)
    return body


@queue_router.get(
    "", summary="Extension requests of every action", responses=problem_responses(422)
)
def list_extensions(
    _: ViewerDep,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    filters: Filters,
    sort: Sort = None,
) -> Page[ExtensionRead]:
    """Extension requests across actions, by id unless sort says otherwise; state=pending is
    the supervisors' queue."""
    rows, total = extension_service.list_extensions(session, filters, page, sort)
    set_link_header(request, response, page, total)
    return make_page([ExtensionRead.model_validate(row) for row in rows], total, page)
