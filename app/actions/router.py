"""The HTTP layer of actions, their timeline and /stats: parameters, roles, ETags and status
codes; the work is done by service.py (writes), reads.py (the JSON of actions, for reads
and for every write's answer alike) and stats.py. A new filter needs nothing here: the
list and /stats take every field of schemas.ActionFilters as query parameters."""

from dataclasses import replace
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.actions import reads
from app.actions import service as action_service
from app.actions.filter_references import FiltersDep
from app.actions.listing import SORT_FIELDS, Moment, moment_for
from app.actions.schemas import (
    ActionCreate,
    ActionFilters,
    ActionRead,
    ActionUpdate,
    EventRead,
    ProgressUpdateCreate,
    TransitionCreate,
)
from app.actions.stats import Stats, compute_stats
from app.auth import units
from app.auth.dependencies import (
    AdminDep,
    LeadEditorDep,
    LeadOrCooperatingEditorDep,
    UnitEditorDep,
    ViewerDep,
)
from app.config import Settings, SettingsDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.etags import (
    IF_MATCH_REQUIRED,
    IfMatchDep,
    not_modified,
    not_modified_response,
    version_etag,
)
from app.fields import Date, Id
from app.pagination import (
    MAX_OFFSET,
    Page,
    PageDep,
    PageParams,
    make_page,
    set_link_header,
    sort_pattern,
)
from app.query_params import query_model_dependency, query_model_openapi

router = APIRouter(prefix="/actions", tags=["actions"], responses=problem_responses(401))
stats_router = APIRouter(prefix="/stats", tags=["stats"], responses=problem_responses(401))

ActionId = Annotated[Id, Path(description="action id", examples=[1])]
Filters = FiltersDep  # a unit, source, speech or theme named must exist (else 422)
Sort = Annotated[
    str | None,
    Query(
        description=f"comma list of fields, - for descending: {', '.join(SORT_FIELDS)}",
        examples=["-updated_at,id"],
        json_schema_extra={"pattern": sort_pattern(SORT_FIELDS)},
    ),
]
WRITE_ERRORS = problem_responses(403, 404, 412, 422, 428)


async def read_moment(
    settings: SettingsDep,
    as_of: Annotated[
        Date | None,
        Query(
            description="read status and progress as they were at the end of this day "
            "(deployment time zone), rebuilt from the timeline",
            examples=["2026-09-30"],
        ),
    ] = None,
) -> Moment:
    """Now, or the end of the as_of day."""
    return moment_for(settings, as_of)


MomentDep = Annotated[Moment, Depends(read_moment)]


class ListQuery(ActionFilters):
    """Everything a list request asks, validated as one model by its pre-built validator
    (query_model_dependency); the OpenAPI lists each field as a query parameter."""

    limit: Annotated[int, Field(ge=1, le=200, description="Page size, 1..200")] = 50
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0
    sort: Annotated[
        str | None,
        Field(
            description=f"comma list of fields, - for descending: {', '.join(SORT_FIELDS)}",
            examples=["-updated_at,id"],
            json_schema_extra={"pattern": sort_pattern(SORT_FIELDS)},
        ),
    ] = None
    as_of: Annotated[
        Date | None,
        Field(
            description="read status and progress as they were at the end of this day "
            "(deployment time zone), rebuilt from the timeline",
            examples=["2026-09-30"],
        ),
    ] = None

    def filters(self) -> ActionFilters:
        """The filters alone."""
        return ActionFilters.model_construct(**{name: getattr(self, name) for name in _FILTERS})


_FILTERS = tuple(ActionFilters.model_fields)


def _written(
    session: Session,
    action_id: int,
    settings: Settings,
    status_code: int = 200,
    warning: str | None = None,
) -> Response:
    """The answer to a write: the action as it is now, with its ETag, read in the write's
    session the way the get reads it; a warning (RFC 7234's Warning, code 299) when the
    write was accepted but looks like a mistake."""
    moment = moment_for(settings, None)
    body, version = reads.action_body(session.connection(), action_id, moment)
    headers = {"ETag": version_etag(version)}
    if warning:
        headers["Warning"] = f'299 tashan "{warning}"'
    return Response(body, status_code, headers, media_type="application/json")


ListQueryDep = Annotated[ListQuery, Depends(query_model_dependency(ListQuery))]


@router.get(
    "",
    response_model=Page[ActionRead],
    summary="List actions",
    responses=problem_responses(422),
    openapi_extra=query_model_openapi(ListQuery),
)
async def list_actions(
    _: ViewerDep,
    request: Request,
    settings: SettingsDep,
    query: ListQueryDep,
) -> Response:
    """Actions matching every filter given; archived ones only with include_archived=true.
    With as_of, status, progress and overdue are those at the end of that day."""
    moment = moment_for(settings, query.as_of)
    filters, sort = query.filters(), query.sort
    page = PageParams(limit=query.limit, offset=query.offset)
    state = request.app.state
    is_current = partial(not_modified, request)
    generation, answer = await reads.kept_page_answer(
        state.loop_reads, filters, page, sort, moment, state.read_cache, is_current
    )
    if answer is None:
        # async, with all the reading in one call: one hop a request, not one for the route
        # and more for its dependencies. A search or a read as of a past day may scan far:
        # the thread pool, not the short reads'.
        long = bool(filters.q and filters.q.strip()) or moment.as_of is not None
        answer = await (run_in_threadpool if long else state.short_reads.run)(
            reads.page_body,
            state.engine,
            filters,
            page,
            sort,
            moment,
            state.read_cache,
            is_current,
            generation,
        )
    if answer.body is None:
        assert answer.etag is not None
        return not_modified_response(answer.etag)
    response = Response(answer.body, media_type="application/json")
    if answer.etag is not None:
        response.headers["ETag"] = answer.etag
    set_link_header(request, response, page, answer.total)
    return response


@router.post(
    "",
    status_code=201,
    response_model=ActionRead,
    summary="Create an action",
    responses=problem_responses(403, 409, 422),
)
def create_action(
    editor: UnitEditorDep,
    data: ActionCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """Create a proposed action; the quote must occur in the source text (exactly once, or
    at quote_start). A unit key creates only actions its unit leads (owner_id)."""
    units.ensure_allowed(units.lead_refusal(editor.actor, data.owner_id))
    action = action_service.create_action(session, data, editor.actor)
    assert action.id is not None
    response = _written(session, action.id, settings, status_code=201)
    response.headers["Location"] = request.app.url_path_for("get_action", action_id=action.id)
    return response


@router.get(
    "/{action_id}",
    response_model=ActionRead,
    summary="Get an action",
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
async def get_action(
    _: ViewerDep,
    action_id: ActionId,
    request: Request,
    settings: SettingsDep,
) -> Response:
    """One action, archived or not, with ETag W/"<version>"; If-None-Match gives 304."""
    moment = moment_for(settings, None)
    state = request.app.state
    kept = await reads.kept_action_body(state.loop_reads, action_id, moment, state.read_cache)
    body, version = kept or await state.short_reads.run(
        reads.get_action_body, state.engine, action_id, moment, state.read_cache
    )
    etag = version_etag(version)
    if not_modified(request, etag):
        return not_modified_response(etag)
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.patch(
    "/{action_id}",
    response_model=ActionRead,
    summary="Update an action",
    responses=WRITE_ERRORS,
    openapi_extra=IF_MATCH_REQUIRED,
)
def update_action(
    editor: LeadEditorDep,
    action_id: ActionId,
    data: ActionUpdate,
    expected_version: IfMatchDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    """Change any field but status, quote and offsets; needs If-Match with the current ETag.
    A unit key changes only actions its unit leads, and cannot move the lead (owner_id) away.
    Once an action has a due date only a supervisor or admin changes it here (403 for an
    editor, naming the way open: POST /api/v1/actions/{id}/extensions)."""
    if data.owner_id is not None:
        units.ensure_allowed(units.lead_refusal(editor.actor, data.owner_id, action_id), action_id)
    action = action_service.update_action(
        session, action_id, data, expected_version, editor.actor, role=editor.role
    )
    warning = action_service.progress_warning(action, data.progress)
    return _written(session, action_id, settings, warning=warning)


@router.delete(
    "/{action_id}",
    response_model=ActionRead,
    summary="Archive an action",
    responses=WRITE_ERRORS,
    openapi_extra=IF_MATCH_REQUIRED,
)
def archive_action(
    admin: AdminDep,
    action_id: ActionId,
    expected_version: IfMatchDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    """Archive: hidden from lists unless include_archived=true; nothing is hard-deleted."""
    action_service.archive_action(session, action_id, expected_version, admin.actor)
    return _written(session, action_id, settings)


@router.post(
    "/{action_id}/transitions",
    response_model=ActionRead,
    summary="Move an action to another status",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
    openapi_extra=IF_MATCH_REQUIRED,
)
def change_status(
    editor: LeadEditorDep,
    action_id: ActionId,
    data: TransitionCreate,
    expected_version: IfMatchDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    """Follow the workflow (proposed → accepted → in_progress → submitted → completed, …); an
    illegal move is 409 naming the allowed targets. Approving, sending back (with a note),
    completing directly and reopening need the supervisor role (403 names the way open to
    an editor: submit for review). Needs If-Match. A unit key moves only actions its unit
    leads."""
    mover = action_service.Mover(editor.actor, editor.role, settings.review_needs_evidence)
    action_service.change_status(
        session, action_id, data, expected_version, mover, today=settings.today()
    )
    return _written(session, action_id, settings)


@router.post(
    "/{action_id}/updates",
    response_model=ActionRead,
    summary="Report progress on an action",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
    openapi_extra=IF_MATCH_REQUIRED,
)
def add_progress_update(
    editor: LeadOrCooperatingEditorDep,
    action_id: ActionId,
    data: ProgressUpdateCreate,
    expected_version: IfMatchDep,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> Response:
    """Add a note to the timeline, optionally with new progress (0..100) and evidence.
    Needs If-Match. A unit key reports on actions its unit leads or cooperates on."""
    action = action_service.add_progress_update(
        session, action_id, data, expected_version, editor.actor
    )
    warning = action_service.progress_warning(action, data.progress)
    return _written(session, action_id, settings, warning=warning)


@router.get(
    "/{action_id}/events", summary="An action's timeline", responses=problem_responses(404, 422)
)
def list_events(
    _: ViewerDep,
    action_id: ActionId,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
) -> Page[EventRead]:
    """Append-only timeline, oldest first: who changed what, when, before and after."""
    rows, total = action_service.list_events(session, action_id, page)
    set_link_header(request, response, page, total)
    return make_page([EventRead.model_validate(row) for row in rows], total, page)


@stats_router.get("", summary="Statistics and unit ranking", responses=problem_responses(422))
def get_stats(
    _: ViewerDep,
    request: Request,
    session: SessionDep,
    moment: MomentDep,
    filters: Filters,
    stale_days: Annotated[int | None, Query(ge=1, le=3650)] = None,
) -> Stats:
    """Counts by status and theme, per-unit figures with the 一季一排名 rank, overdue, stale;
    with as_of, as they were at the end of that day."""
    if stale_days is not None:
        moment = replace(moment, stale_days=stale_days)
    return compute_stats(session, filters, moment, request.app.state.read_cache)
