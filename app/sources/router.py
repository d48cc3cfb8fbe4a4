"""HTTP layer of sources."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import EditorDep, ViewerDep
from app.db import SessionDep, WriteSessionDep
from app.errors import problem_responses
from app.etags import content_etag, not_modified, not_modified_response
from app.pagination import Page, PageDep, make_page, set_link_header, sort_pattern
from app.sources import service as source_service
from app.sources.schemas import (
    AnnotatedSource,
    CandidateRead,
    SourceCreate,
    SourceDetail,
    SourceRead,
)

router = APIRouter(prefix="/sources", tags=["sources"], responses=problem_responses(401))

IdOrSlug = Annotated[
    str, Path(min_length=1, max_length=100, description="numeric id or slug", examples=["1"])
]


@router.get("", summary="List sources", responses=problem_responses(422))
def list_sources(
    _: ViewerDep,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
    sort: Annotated[
        str | None,
        Query(
            description="e.g. -published_on",
            json_schema_extra={"pattern": sort_pattern(source_service.SORTABLE)},
        ),
    ] = None,
) -> Page[SourceRead]:
    """Sources without their text, with speech and action counts."""
    items, total = source_service.list_sources(session, page, sort=sort)
    set_link_header(request, response, page, total)
    return make_page(items, total, page)


@router.post(
    "", status_code=201, summary="Create a source", responses=problem_responses(403, 409, 422)
)
def create_source(
    _: EditorDep, data: SourceCreate, session: WriteSessionDep, request: Request, response: Response
) -> SourceDetail:
    """Store a document verbatim with its speeches; its text never changes afterwards."""
    source = source_service.create_source(session, data)
    response.headers["Location"] = request.app.url_path_for("get_source", id_or_slug=source.id)
    return source_service.source_detail(session, source)


@router.get(
    "/{id_or_slug}",
    response_model=SourceDetail,
    summary="Get a source with its text",
    responses={304: {"description": "Not modified"}, **problem_responses(404, 422)},
)
def get_source(
    _: ViewerDep, id_or_slug: IdOrSlug, request: Request, response: Response, session: SessionDep
) -> Response | SourceDetail:
    """One source by id or slug, with its verbatim text and speeches."""
    detail = source_service.source_detail(session, source_service.get_source(session, id_or_slug))
    etag = content_etag(detail)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return detail


@router.get(
    "/{id_or_slug}/annotated",
    summary="The text cut into spans by action quotes",
    responses=problem_responses(404, 422),
)
def get_annotated_source(
    _: ViewerDep, id_or_slug: IdOrSlug, session: SessionDep
) -> AnnotatedSource:
    """Consecutive spans covering the whole text; each lists the actions whose quote covers it."""
    return source_service.annotate(session, source_service.get_source(session, id_or_slug))


@router.get(
    "/{id_or_slug}/candidates",
    summary="Propose the source's proposals",
    responses=problem_responses(404, 422),
)
def list_candidates(
    _: ViewerDep,
    id_or_slug: IdOrSlug,
    request: Request,
    response: Response,
    session: SessionDep,
    page: PageDep,
) -> Page[CandidateRead]:
    """The sentences of the source that ask for something to be done, in text order, each
    an exact slice of the text within one line, with a title, kind, themes, the speech's
    unit as suggested owner, a score and the existing actions it overlaps. Nothing is
    created: a client posts the ones a person keeps as actions."""
    source = source_service.get_source(session, id_or_slug)
    candidates = source_service.candidates_of(session, source)
    set_link_header(request, response, page, len(candidates))
    chosen = candidates[page.offset : page.offset + page.limit]
    return make_page(chosen, len(candidates), page)
